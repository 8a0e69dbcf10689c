/* audit.c — the audit's stream (audit.h): entries in index order and checkpoints in, every
 * hash recomputed and compared with what the source stored, the root computed at each
 * checkpoint's size as the stream passes it, the entry rules handed to audit_rules.c,
 * and the summary at the end.
 *
 * Hashes are compared locally, so that one edited value is reported where it is and not
 * at every later entry: the stored leaf against SHA-256(0x00 || entry); the stored chain
 * hash against SHA-256(stored chain[i-1] || recomputed leaf); each stored subtree hash
 * against the node hash of its two stored children. Together with the leaves this shows
 * the whole stored tree is the tree of the entries. Checkpoint roots are compared with
 * the tree of the recomputed leaves (the right frontier: the last complete subtree at
 * each level). */
#include "cli/audit/audit_impl.h"
#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "ledger/tlog/checkpoint.h"
#include "protocol/reading.h"
#include "ledger/tlog/merkle.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const code_names[WN_AC_COUNT] = {
    [WN_AC_STORAGE] = "storage",
    [WN_AC_LEAF_HASH] = "leaf_hash",
    [WN_AC_CHAIN_HASH] = "chain_hash",
    [WN_AC_TREE_HASH] = "tree_hash",
    [WN_AC_INDEX] = "index",
    [WN_AC_ENTRY_TYPE] = "entry_type",
    [WN_AC_UNTIMED_AFTER_TIMED] = "untimed_after_timed",
    [WN_AC_COMMIT_TIME_BACKWARDS] = "commit_time_backwards",
    [WN_AC_MALFORMED_READING] = "malformed_reading",
    [WN_AC_MALFORMED_RECORD] = "malformed_record",
    [WN_AC_MALFORMED_EVIDENCE] = "malformed_evidence",
    [WN_AC_REGISTRAR_KEY] = "registrar_key",
    [WN_AC_BAD_REGISTRAR_SIGNATURE] = "bad_registrar_signature",
    [WN_AC_ALREADY_ENROLLED] = "already_enrolled",
    [WN_AC_UNKNOWN_METER] = "unknown_meter",
    [WN_AC_ALREADY_REVOKED] = "already_revoked",
    [WN_AC_NOT_ENROLLED] = "not_enrolled",
    [WN_AC_REVOKED] = "revoked",
    [WN_AC_ALG_MISMATCH] = "alg_mismatch",
    [WN_AC_BAD_SIGNATURE] = "bad_signature",
    [WN_AC_BEFORE_ENROLMENT] = "before_enrolment",
    [WN_AC_SEQUENCE_GAP] = "sequence_gap",
    [WN_AC_SEQUENCE_REUSED] = "sequence_reused",
    [WN_AC_CHAIN_MISMATCH] = "chain_mismatch",
    [WN_AC_TIME_TRAVEL] = "time_travel",
    [WN_AC_VOLUME_DECREASED] = "volume_decreased",
    [WN_AC_OUT_OF_RANGE] = "out_of_range",
    [WN_AC_EVIDENCE_SIGNATURE] = "evidence_signature",
    [WN_AC_EVIDENCE_REFERENCE] = "evidence_reference",
    [WN_AC_EVIDENCE_DUPLICATE] = "evidence_duplicate",
    [WN_AC_AUTHORITY_KEY] = "authority_key",
    [WN_AC_BAD_AUTHORITY_SIGNATURE] = "bad_authority_signature",
    [WN_AC_UNKNOWN_CHECKPOINT] = "unknown_checkpoint",
    [WN_AC_DOUBLE_COUNTING] = "double_counting",
    [WN_AC_UNKNOWN_CERTIFICATE] = "unknown_certificate",
    [WN_AC_BAD_HOLDER_SIGNATURE] = "bad_holder_signature",
    [WN_AC_STALE_OPERATION] = "stale_operation",
    [WN_AC_NOT_TRANSFERABLE] = "not_transferable",
    [WN_AC_OUTSIDE_TERM] = "outside_term",
    [WN_AC_NOT_HOLDER] = "not_holder",
    [WN_AC_INSUFFICIENT_BALANCE] = "insufficient_balance",
    [WN_AC_PROJECT_SUBSIDISED] = "project_already_subsidised",
    [WN_AC_STALE_RECORD] = "stale_record",
    [WN_AC_KEY_IN_USE] = "key_in_use",
    [WN_AC_CHECKPOINT_SIGNATURE] = "checkpoint_signature",
    [WN_AC_CHECKPOINT_SIZE] = "checkpoint_size",
    [WN_AC_CHECKPOINT_ORIGIN] = "checkpoint_origin",
    [WN_AC_CHECKPOINT_ROOT] = "checkpoint_root",
    [WN_AC_CHECKPOINT_BEYOND] = "checkpoint_beyond",
    [WN_AC_CHECKPOINT_TIME] = "checkpoint_time",
};

const char *wn_audit_code_name(int code)
{
    return code >= 0 && code < WN_AC_COUNT && code_names[code] ? code_names[code] : "unknown";
}

const char *wn_audit_alert_name(int alert)
{
    static const char *const names[WN_ALERT_COUNT] = {"equivocation", "tamper", "substitute", "clock_unsync"};
    return alert >= 0 && alert < WN_ALERT_COUNT ? names[alert] : "unknown";
}

void wn_audit_i_hex16(char out[17], const uint8_t id[32])
{
    char h[65];
    wn_hex_encode(h, id, 32);
    memcpy(out, h, 16);
    out[16] = '\0';
}

static void vproblem(wn_audit_store *s, int where, uint64_t at, int code, unsigned sub, const char *fmt,
                     va_list ap)
{
    wn_audit_problem p;
    p.where = where;
    p.at = where == WN_AUDIT_AT_LEDGER ? 0 : at;
    p.code = code;
    p.sub = sub;
    vsnprintf(p.detail, sizeof p.detail, fmt, ap);
    wn_audit_i_store_add(s, &p);
}

void wn_audit_i_problem(wn_auditor *a, int where, uint64_t at, int code, unsigned sub, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vproblem(&a->store, where, at, code, sub, fmt, ap);
    va_end(ap);
}

void wn_auditor_report(wn_auditor *a, int where, uint64_t at, int code, unsigned sub, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vproblem(&a->store, where, at, code, sub, fmt, ap);
    va_end(ap);
}

/* ---- lifecycle ------------------------------------------------------------------- */

int wn_auditor_new(wn_auditor **out, const wn_audit_config *cfg)
{
    *out = NULL;
    if (!cfg) return WN_AUDIT_EINVAL;
    wn_auditor *a = calloc(1, sizeof *a);
    if (!a) return WN_AUDIT_ENOMEM;
    a->cfg = *cfg;
    if (!a->cfg.max_details) a->cfg.max_details = WN_AUDIT_DEFAULT_DETAILS;
    if (!wn_audit_i_store_init(&a->store, a->cfg.max_details)) {
        free(a);
        return WN_AUDIT_ENOMEM;
    }
    if (cfg->have_registrar || cfg->have_authority) {
        wn_verifier v;
        if (!wn_verifier_bip340(&v, cfg->registrar) || (cfg->have_authority && !wn_verifier_bip340(&v, cfg->authority))) {
            wn_audit_i_store_free(&a->store);
            free(a);
            return WN_AUDIT_EINVAL;
        }
        a->have_registrar = cfg->have_registrar;
    }
    unsigned workers = cfg->workers;
    if (!workers) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        workers = n > 0 && n < 256 ? (unsigned)n : 1;
    }
    if (!wn_audit_i_pool_start(&a->pool, workers, &a->store)) {
        wn_audit_i_store_free(&a->store);
        free(a);
        return WN_AUDIT_ENOMEM;
    }
    a->pool_started = 1;
    *out = a;
    return WN_AUDIT_OK;
}

void wn_auditor_free(wn_auditor *a)
{
    if (!a) return;
    if (a->pool_started) wn_audit_i_pool_stop(&a->pool);
    wn_audit_i_store_free(&a->store);
    wn_audit_i_meters_free(&a->meters);
    wn_audit_i_certs_free(a);
    free(a->evidence.slots);
    free(a->pending);
    free(a->cp_sizes);
    free(a->cp_roots);
    free(a);
}

void wn_auditor_set_fetch(wn_auditor *a, wn_audit_fetch_fn fn, void *ctx)
{
    a->cfg.fetch = fn;
    a->cfg.fetch_ctx = ctx;
}

void wn_auditor_set_root_at(wn_auditor *a, wn_audit_root_fn fn, void *ctx)
{
    a->cfg.root_at = fn;
    a->cfg.root_ctx = ctx;
}

/* ---- tree ------------------------------------------------------------------------ */

/* Root of the first `size` recomputed leaves from the frontier (valid when size == next,
 * or any size whose subtrees are still the last complete ones — only used at next). */
static void root_at(const wn_auditor *a, uint64_t size, uint8_t root[32])
{
    if (size == 0) {
        wn_merkle_empty_root(root);
        return;
    }
    int first = 1;
    for (unsigned l = 0; l < 64; l++) {
        if (!((size >> l) & 1)) continue;
        if (first) {
            memcpy(root, a->frontier[l], 32);
            first = 0;
        } else {
            wn_merkle_node_hash(root, a->frontier[l], root);
        }
    }
}

void wn_auditor_root_now(const wn_auditor *a, uint64_t *size, uint8_t root[32])
{
    if (size) *size = a->next;
    root_at(a, a->next, root);
}

int wn_audit_i_root_of(wn_auditor *a, uint64_t size, uint8_t root[32])
{
    if (size == a->next) {
        root_at(a, size, root);
        return 1;
    }
    if (size > a->next) return 0;
    size_t lo = 0, hi = a->n_cp; /* sizes ascend */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->cp_sizes[mid] < size) lo = mid + 1;
        else hi = mid;
    }
    if (lo < a->n_cp && a->cp_sizes[lo] == size) {
        memcpy(root, a->cp_roots[lo], 32);
        return 1;
    }
    return a->cfg.root_at && a->cfg.root_at(a->cfg.root_ctx, size, root) == 0;
}

/* ---- checkpoints ----------------------------------------------------------------- */

/* Keeps the recomputed root at a checkpoint's size (certificates may name that tree). */
static void keep_root(wn_auditor *a, uint64_t size, const uint8_t root[32])
{
    if (a->n_cp && a->cp_sizes[a->n_cp - 1] == size) return;
    if (a->n_cp == a->cap_cp) {
        size_t cap = a->cap_cp ? a->cap_cp * 2 : 16;
        uint64_t *s = realloc(a->cp_sizes, cap * sizeof *s);
        if (s) a->cp_sizes = s;
        uint8_t (*r)[32] = realloc(a->cp_roots, cap * sizeof *r);
        if (r) a->cp_roots = r;
        if (!s || !r) {
            a->store.oom = 1;
            return;
        }
        a->cap_cp = cap;
    }
    a->cp_sizes[a->n_cp] = size;
    memcpy(a->cp_roots[a->n_cp], root, 32);
    a->n_cp++;
}

/* A checkpoint's commit-time line (PROTOCOL §4) against the entry before its size: the
 * same time when that entry is timed, no line when it is untimed (or the tree is empty). */
static void check_time(wn_auditor *a, const wn_audit_pending_cp *cp)
{
    int want = cp->size > 0 && a->last_timed;
    char t1[25], t2[25];
    if (cp->has_time && !want) {
        wn_time_format(t1, cp->time_ms);
        wn_audit_i_problem(a, WN_AUDIT_AT_CHECKPOINT, cp->size, WN_AC_CHECKPOINT_TIME, 0,
                           "states commit time %s, but entry %lld before it carries no commit time", t1,
                           (long long)cp->size - 1);
    } else if (!cp->has_time && want) {
        wn_time_format(t2, a->last_commit_ms);
        wn_audit_i_problem(a, WN_AUDIT_AT_CHECKPOINT, cp->size, WN_AC_CHECKPOINT_TIME, 1,
                           "states no commit time, but entry %llu was committed at %s", (unsigned long long)cp->size - 1,
                           t2);
    } else if (cp->has_time && cp->time_ms != a->last_commit_ms) {
        wn_time_format(t1, cp->time_ms);
        wn_time_format(t2, a->last_commit_ms);
        wn_audit_i_problem(a, WN_AUDIT_AT_CHECKPOINT, cp->size, WN_AC_CHECKPOINT_TIME, 2,
                           "states commit time %s, but entry %llu was committed at %s", t1,
                           (unsigned long long)cp->size - 1, t2);
    }
}

static void check_reached(wn_auditor *a)
{
    while (a->head_pending < a->n_pending && a->pending[a->head_pending].size == a->next) {
        const wn_audit_pending_cp *cp = &a->pending[a->head_pending++];
        check_time(a, cp);
        uint8_t root[32];
        root_at(a, cp->size, root);
        keep_root(a, cp->size, root);
        if (memcmp(root, cp->root, 32) != 0) {
            char want[45], got[45];
            wn_base64_encode(want, cp->root, 32);
            wn_base64_encode(got, root, 32);
            wn_audit_i_problem(a, WN_AUDIT_AT_CHECKPOINT, cp->size, WN_AC_CHECKPOINT_ROOT, 0,
                               "the signed root %s is not the root %s of the ledger's first %llu entries", want, got,
                               (unsigned long long)cp->size);
            continue;
        }
        a->sum.checkpoints_valid++;
        if (!a->sum.have_latest || cp->size >= a->sum.latest_size) {
            a->sum.have_latest = 1;
            a->sum.latest_size = cp->size;
            memcpy(a->sum.latest_root, cp->root, 32);
        }
    }
}

int wn_auditor_checkpoint(wn_auditor *a, uint64_t key_size, const char *note, size_t len)
{
    if (a->finished) return WN_AUDIT_EINVAL;
    a->sum.checkpoints++;
    wn_checkpoint cp;
    size_t text_len;
    int err = wn_checkpoint_parse(note, len, &cp, &text_len);
    if (err) {
        wn_audit_i_problem(a, WN_AUDIT_AT_CHECKPOINT, key_size, WN_AC_CHECKPOINT_SIGNATURE, 0,
                           "the checkpoint stored for size %llu is not a well-formed signed note: %s",
                           (unsigned long long)key_size, wn_checkpoint_strerror(err));
        return WN_AUDIT_OK;
    }
    if (cp.size != key_size)
        wn_audit_i_problem(a, WN_AUDIT_AT_CHECKPOINT, key_size, WN_AC_CHECKPOINT_SIZE, 0,
                           "stored under size %llu but it states size %llu", (unsigned long long)key_size,
                           (unsigned long long)cp.size);
    if (cp.size < a->next) return WN_AUDIT_EINVAL; /* too late: that root has gone by */
    err = wn_checkpoint_verify(note, len, NULL, a->cfg.notary, &cp);
    if (err) {
        wn_audit_i_problem(a, WN_AUDIT_AT_CHECKPOINT, cp.size, WN_AC_CHECKPOINT_SIGNATURE, 0,
                           "no valid signature by the notary key: %s", wn_checkpoint_strerror(err));
        return WN_AUDIT_OK;
    }
    if (!a->have_origin) {
        snprintf(a->origin, sizeof a->origin, "%s", cp.origin);
        a->have_origin = 1;
    } else if (strcmp(a->origin, cp.origin) != 0) {
        wn_audit_i_problem(a, WN_AUDIT_AT_CHECKPOINT, cp.size, WN_AC_CHECKPOINT_ORIGIN, 0,
                           "origin \"%s\" differs from the first checkpoint's \"%s\"", cp.origin, a->origin);
    }
    if (a->n_pending == a->cap_pending) {
        size_t cap = a->cap_pending ? a->cap_pending * 2 : 16;
        wn_audit_pending_cp *p = realloc(a->pending, cap * sizeof *p);
        if (!p) return WN_AUDIT_ENOMEM;
        a->pending = p;
        a->cap_pending = cap;
    }
    /* Insert in size order among those not reached yet. */
    size_t k = a->n_pending;
    while (k > a->head_pending && a->pending[k - 1].size > cp.size) {
        a->pending[k] = a->pending[k - 1];
        k--;
    }
    a->pending[k] = (wn_audit_pending_cp){key_size, cp.size, {0}, cp.has_time, cp.time_ms};
    memcpy(a->pending[k].root, cp.root, 32);
    a->n_pending++;
    check_reached(a);
    return WN_AUDIT_OK;
}

/* ---- entries --------------------------------------------------------------------- */

static void hex_pair(char a_hex[65], char b_hex[65], const uint8_t *a, const uint8_t *b)
{
    wn_hex_encode(a_hex, a, 32);
    wn_hex_encode(b_hex, b, 32);
}

int wn_auditor_entry(wn_auditor *a, uint64_t index, const uint8_t *entry, size_t len, const wn_audit_stored *st)
{
    if (a->finished || index != a->next || (!entry && len)) return WN_AUDIT_EINVAL;
    unsigned h = wn_merkle_hashes_at(index);
    if (st && st->n_nodes && (st->n_nodes != h - 1 || !st->nodes)) return WN_AUDIT_EINVAL;
    char x[65], y[65];

    /* Leaf and the subtrees it completes, from the recomputed frontier. */
    uint8_t r[64][32];
    wn_merkle_leaf_hash(r[0], entry, len);
    for (unsigned l = 1; l < h; l++) wn_merkle_node_hash(r[l], a->frontier[l - 1], r[l - 1]);

    if (st && st->leaf && memcmp(st->leaf, r[0], 32) != 0) {
        hex_pair(x, y, st->leaf, r[0]);
        wn_audit_i_problem(a, WN_AUDIT_AT_ENTRY, index, WN_AC_LEAF_HASH, 0,
                           "stored leaf hash %s, but the entry's bytes hash to %s", x, y);
    }

    /* Chain: against the stored previous chain hash where there is one, so one edit is
     * reported once. */
    uint8_t cl[64], expect[32];
    memcpy(cl, a->have_stored_chain ? a->stored_chain : a->chain, 32);
    memcpy(cl + 32, r[0], 32);
    wn_sha256(expect, cl, 64);
    if (st && st->chain && memcmp(st->chain, expect, 32) != 0) {
        hex_pair(x, y, st->chain, expect);
        wn_audit_i_problem(a, WN_AUDIT_AT_ENTRY, index, WN_AC_CHAIN_HASH, 0,
                           "stored chain hash %s, expected SHA-256(chain[%lld] || leaf) = %s", x,
                           (long long)index - 1, y);
    }
    memcpy(cl, a->chain, 32);
    wn_sha256(a->chain, cl, 64);
    if (st && st->chain) {
        memcpy(a->stored_chain, st->chain, 32);
        a->have_stored_chain = 1;
    } else {
        a->have_stored_chain = 0;
    }

    /* Stored subtree hashes: each must be the node hash of its stored children. */
    if (st && st->n_nodes) {
        const uint8_t *below = st->leaf ? st->leaf : r[0];
        for (unsigned l = 1; l < h; l++) {
            const uint8_t *left = (a->sf_ok >> (l - 1)) & 1 ? a->sfrontier[l - 1] : a->frontier[l - 1];
            wn_merkle_node_hash(expect, left, below);
            if (memcmp(expect, st->nodes[l - 1], 32) != 0) {
                hex_pair(x, y, st->nodes[l - 1], expect);
                wn_audit_i_problem(a, WN_AUDIT_AT_ENTRY, index, WN_AC_TREE_HASH, l,
                                   "stored hash of subtree (level %u, index %llu) is %s, its children hash to %s", l,
                                   (unsigned long long)(index >> l), x, y);
            }
            memcpy(a->sfrontier[l - 1], below, 32);
            a->sf_ok |= 1ULL << (l - 1);
            below = st->nodes[l - 1];
        }
        memcpy(a->sfrontier[h - 1], below, 32);
        a->sf_ok |= 1ULL << (h - 1);
    } else {
        /* No stored subtrees: what this entry completes is the recomputed (or stored) leaf. */
        memcpy(a->sfrontier[0], st && st->leaf ? st->leaf : r[0], 32);
        a->sf_ok = (a->sf_ok & ~((h >= 64 ? ~0ULL : (1ULL << h) - 1))) | 1ULL;
    }
    a->sum.entries++;
    /* the rules before the frontier takes this entry: a certificate may rest on the tree of
     * exactly the entries before it, whose root is then root_at(next) */
    wn_audit_i_entry_rules(a, index, entry, len);
    for (unsigned l = 0; l < h; l++) memcpy(a->frontier[l], r[l], 32);
    a->next = index + 1;
    check_reached(a);
    return a->store.oom ? WN_AUDIT_ENOMEM : WN_AUDIT_OK;
}

/* ---- the end --------------------------------------------------------------------- */

int wn_auditor_finish(wn_auditor *a)
{
    if (a->finished) return WN_AUDIT_OK;
    wn_audit_i_pool_drain(&a->pool);
    for (size_t k = a->head_pending; k < a->n_pending; k++)
        wn_audit_i_problem(a, WN_AUDIT_AT_CHECKPOINT, a->pending[k].size, WN_AC_CHECKPOINT_BEYOND, 0,
                           "signed for %llu entries, but the ledger holds only %llu",
                           (unsigned long long)a->pending[k].size, (unsigned long long)a->next);
    a->head_pending = a->n_pending;
    root_at(a, a->next, a->sum.root);
    memcpy(a->sum.chain, a->chain, 32);
    a->sum.have_registrar = a->cfg.have_registrar;
    memcpy(a->sum.registrar, a->cfg.registrar, 32);
    for (size_t i = 0; i < a->meters.cap; i++)
        if (a->meters.slots[i] && a->meters.slots[i]->readings) a->sum.meters_with_readings++;
    wn_audit_i_store_settle(&a->store);
    a->sum.problems = a->store.total;
    memcpy(a->sum.by_code, a->store.by_code, sizeof a->sum.by_code);
    a->finished = 1;
    return a->store.oom ? WN_AUDIT_ENOMEM : WN_AUDIT_OK;
}

const wn_audit_summary *wn_auditor_summary(const wn_auditor *a) { return &a->sum; }

const wn_audit_problem *wn_auditor_problems(const wn_auditor *a, size_t *n, int *truncated)
{
    *n = a->store.n;
    if (truncated) *truncated = a->store.truncated;
    return a->store.items;
}
