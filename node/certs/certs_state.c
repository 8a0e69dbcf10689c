/* certs_state.c — the certificates' state (certs_state.h): applying certificate, transfer
 * and retirement entries to memory and to the rebuildable env DIR/certs, and bringing that
 * env up to the ledger at start.
 *
 * DIR/certs databases:
 *   meta   "format" -> u32 1; "applied" -> u64 W; "chain" -> chain hash of entry W-1
 *   certs  u64 certificate index -> u64 retired || u32 holders || u32 ops ||
 *          holders x (32 key || u64 balance) || ops x (u64 index || u8 type) ||
 *          the certificate entry's payload (protocol/certificate.h)
 *   enterprises  u64 ledger index -> the enterprise record (protocol/enterprise.h)
 *   accreditations  u64 ledger index -> the accreditation record (protocol/accreditation.h)
 *   calibrations  u64 ledger index -> the meter calibration record (protocol/calibration.h) */
#include "node/certs/certs_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "ledger/entry.h"
#include "node/log.h"
#include "node/datadir/rebuild.h"

#define CERTS_FORMAT 4 /* 2: enterprise records, 3: accreditation records, 4: calibration records */
#define CERTS_MAP_SIZE (1ULL << 30)

/* ---- memory ---- */

const wn_cert_rec *wn_certs_find(const wn_certs *s, uint64_t index)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->recs[mid].index < index) lo = mid + 1;
        else hi = mid;
    }
    return lo < s->n && s->recs[lo].index == index ? &s->recs[lo] : NULL;
}

const wn_holding *wn_certs_holding(const wn_cert_rec *r, const uint8_t key[32])
{
    for (size_t i = 0; i < r->n_holders; i++)
        if (memcmp(r->holders[i].key, key, 32) == 0) return &r->holders[i];
    return NULL;
}

const wn_ent_rec *wn_certs_enterprise(const wn_certs *s, const char *code, uint64_t before, size_t *n_before)
{
    const wn_ent_rec *last = NULL;
    size_t n = 0;
    for (size_t i = 0; i < s->n_ents && s->ents[i].index < before; i++)
        if (strcmp(s->ents[i].e.code, code) == 0) last = &s->ents[i], n++;
    if (n_before) *n_before = n;
    return last;
}

const wn_acc_rec *wn_certs_accreditation(const wn_certs *s, const char *code, uint64_t before)
{
    const wn_acc_rec *last = NULL;
    for (size_t i = 0; i < s->n_accs && s->accs[i].index < before; i++)
        if (strcmp(s->accs[i].a.code, code) == 0) last = &s->accs[i];
    return last;
}

static int add_acc(wn_certs *s, uint64_t index, const wn_accreditation *a)
{
    if (s->n_accs && s->accs[s->n_accs - 1].index >= index) return 0;
    if (s->n_accs == s->cap_accs) {
        size_t cap = s->cap_accs ? s->cap_accs * 2 : 16;
        wn_acc_rec *p = realloc(s->accs, cap * sizeof *p);
        if (!p) return 0;
        s->accs = p;
        s->cap_accs = cap;
    }
    s->accs[s->n_accs].index = index;
    s->accs[s->n_accs++].a = *a;
    return 1;
}

static int add_cal(wn_certs *s, uint64_t index, const wn_calibration *c)
{
    if (s->n_cals && s->cals[s->n_cals - 1].index >= index) return 0;
    if (s->n_cals == s->cap_cals) {
        size_t cap = s->cap_cals ? s->cap_cals * 2 : 16;
        wn_cal_rec *p = realloc(s->cals, cap * sizeof *p);
        if (!p) return 0;
        s->cals = p;
        s->cap_cals = cap;
    }
    s->cals[s->n_cals].index = index;
    s->cals[s->n_cals++].c = *c;
    return 1;
}

static int add_ent(wn_certs *s, uint64_t index, const wn_enterprise *e)
{
    if (s->n_ents && s->ents[s->n_ents - 1].index >= index) return 0;
    if (s->n_ents == s->cap_ents) {
        size_t cap = s->cap_ents ? s->cap_ents * 2 : 16;
        wn_ent_rec *p = realloc(s->ents, cap * sizeof *p);
        if (!p) return 0;
        s->ents = p;
        s->cap_ents = cap;
    }
    s->ents[s->n_ents].index = index;
    s->ents[s->n_ents++].e = *e;
    return 1;
}

static void rec_free(wn_cert_rec *r)
{
    free(r->holders);
    free(r->ops);
}

static int add_rec(wn_certs *s, const wn_cert_rec *r)
{
    if (s->n && s->recs[s->n - 1].index >= r->index) return 0; /* entries come in ledger order */
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        wn_cert_rec *p = realloc(s->recs, cap * sizeof *p);
        if (!p) return 0;
        s->recs = p;
        s->cap = cap;
    }
    s->recs[s->n++] = *r;
    return 1;
}

static wn_holding *holding_for(wn_cert_rec *r, const uint8_t key[32], int create)
{
    for (size_t i = 0; i < r->n_holders; i++)
        if (memcmp(r->holders[i].key, key, 32) == 0) return &r->holders[i];
    if (!create) return NULL;
    wn_holding *p = realloc(r->holders, (r->n_holders + 1) * sizeof *p);
    if (!p) return NULL;
    r->holders = p;
    wn_holding *h = &r->holders[r->n_holders++];
    memcpy(h->key, key, 32);
    h->balance = 0;
    return h;
}

/* ---- env records ---- */

static uint8_t *encode_rec(const wn_cert_rec *r, size_t *len)
{
    uint8_t cert[WN_CERTIFICATE_MAX_LEN];
    size_t clen;
    if (wn_certificate_encode(&r->c, cert, sizeof cert, &clen) != WN_CERT_OK) return NULL;
    *len = 16 + 40 * r->n_holders + 9 * r->n_ops + clen;
    uint8_t *b = malloc(*len), *p = b;
    if (!b) return NULL;
    wn_put_u64(p, r->retired), p += 8;
    wn_put_u32(p, (uint32_t)r->n_holders), p += 4;
    wn_put_u32(p, (uint32_t)r->n_ops), p += 4;
    for (size_t i = 0; i < r->n_holders; i++) {
        memcpy(p, r->holders[i].key, 32), p += 32;
        wn_put_u64(p, r->holders[i].balance), p += 8;
    }
    for (size_t i = 0; i < r->n_ops; i++) {
        wn_put_u64(p, r->ops[i].index), p += 8;
        *p++ = r->ops[i].type;
    }
    memcpy(p, cert, clen);
    return b;
}

static int decode_rec(wn_cert_rec *r, uint64_t index, const uint8_t *p, size_t len)
{
    memset(r, 0, sizeof *r);
    r->index = index;
    if (len < 16) return 0;
    r->retired = wn_get_u64(p);
    size_t nh = wn_get_u32(p + 8), no = wn_get_u32(p + 12);
    if (nh > len / 40 || no > len / 9 || len < 16 + 40 * nh + 9 * no) return 0;
    const uint8_t *q = p + 16;
    r->holders = calloc(nh ? nh : 1, sizeof *r->holders);
    r->ops = calloc(no ? no : 1, sizeof *r->ops);
    if (!r->holders || !r->ops) return 0;
    r->n_holders = nh;
    r->n_ops = no;
    for (size_t i = 0; i < nh; i++, q += 40) {
        memcpy(r->holders[i].key, q, 32);
        r->holders[i].balance = wn_get_u64(q + 32);
    }
    for (size_t i = 0; i < no; i++, q += 9) {
        r->ops[i].index = wn_get_u64(q);
        r->ops[i].type = q[8];
    }
    return wn_certificate_decode(&r->c, q, len - (size_t)(q - p)) == WN_CERT_OK;
}

static void env_failure(wn_certs *s, const char *what, int rc)
{
    if (!s->env_failed)
        wn_log("certs: %s failed (%s); DIR/certs is no longer written and will be replayed at next start", what,
               mdb_strerror(rc));
    s->env_failed = 1;
}

static int put_meta(wn_certs *s, MDB_txn *txn, uint64_t applied, const uint8_t chain[32])
{
    return wn_rebuild_put_meta(txn, s->meta, CERTS_FORMAT, applied, chain);
}

/* Writes rec (may be NULL), the enterprise record ent (may be NULL) and the watermark in
 * one transaction. */
static void persist(wn_certs *s, const wn_cert_rec *rec, const wn_ent_rec *ent, const wn_acc_rec *acc,
                    const wn_cal_rec *cal, uint64_t applied,
                    const uint8_t chain[32])
{
    if (s->env_failed) return;
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc) {
        env_failure(s, "begin", rc);
        return;
    }
    if (rec) {
        size_t len = 0;
        uint8_t *b = encode_rec(rec, &len), kb[8];
        wn_put_u64(kb, rec->index);
        MDB_val k = {8, kb}, v = {len, b};
        rc = b ? mdb_put(txn, s->certs[0], &k, &v, 0) : ENOMEM;
        free(b);
    }
    if (ent && !rc) {
        uint8_t b[WN_ENTERPRISE_MAX_LEN], kb[8];
        size_t len;
        wn_put_u64(kb, ent->index);
        MDB_val k = {8, kb}, v = {0, b};
        rc = wn_enterprise_encode(&ent->e, b, sizeof b, &len) == WN_ENT_OK ? 0 : EINVAL;
        v.mv_size = len;
        if (!rc) rc = mdb_put(txn, s->certs[1], &k, &v, 0);
    }
    if (acc && !rc) {
        uint8_t b[WN_ACCREDITATION_MAX_LEN], kb[8];
        size_t len = 0;
        wn_put_u64(kb, acc->index);
        rc = wn_accreditation_encode(&acc->a, b, sizeof b, &len) == WN_ENT_OK ? 0 : EINVAL;
        MDB_val k = {8, kb}, v = {len, b};
        if (!rc) rc = mdb_put(txn, s->certs[2], &k, &v, 0);
    }
    if (cal && !rc) {
        uint8_t b[WN_CALIBRATION_MAX_LEN], kb[8];
        size_t len = 0;
        wn_put_u64(kb, cal->index);
        rc = wn_calibration_encode(&cal->c, b, sizeof b, &len) == WN_ENT_OK ? 0 : EINVAL;
        MDB_val k = {8, kb}, v = {len, b};
        if (!rc) rc = mdb_put(txn, s->certs[3], &k, &v, 0);
    }
    if (!rc) rc = put_meta(s, txn, applied, chain);
    if (rc) {
        mdb_txn_abort(txn);
        env_failure(s, "write", rc);
        return;
    }
    if ((rc = mdb_txn_commit(txn))) env_failure(s, "commit", rc);
}

/* ---- apply ---- */

static int apply_memory(wn_certs *s, uint64_t index, const uint8_t *entry, size_t elen, wn_cert_rec **changed,
                        const wn_ent_rec **ent, const wn_acc_rec **acc, const wn_cal_rec **cal)
{
    wn_entry_view v;
    if (wn_entry_parse(&v, entry, elen) != WN_ENTRY_OK) return 0;
    const uint8_t *p = v.payload;
    size_t len = v.len;
    if (v.kind == WN_ENTRY_ENTERPRISE) {
        wn_enterprise er;
        if (wn_enterprise_decode(&er, p, len) != WN_ENT_OK || !add_ent(s, index, &er)) return 0;
        *ent = &s->ents[s->n_ents - 1];
        return 1;
    }
    if (v.kind == WN_ENTRY_ACCREDITATION) {
        wn_accreditation ar;
        if (wn_accreditation_decode(&ar, p, len) != WN_ENT_OK || !add_acc(s, index, &ar)) return 0;
        *acc = &s->accs[s->n_accs - 1];
        return 1;
    }
    if (v.kind == WN_ENTRY_CALIBRATION) {
        wn_calibration cr;
        if (wn_calibration_decode(&cr, p, len) != WN_ENT_OK || !add_cal(s, index, &cr)) return 0;
        *cal = &s->cals[s->n_cals - 1];
        return 1;
    }
    if (v.kind == WN_ENTRY_CERTIFICATE) {
        wn_cert_rec r;
        memset(&r, 0, sizeof r);
        r.index = index;
        if (wn_certificate_decode(&r.c, p, len) != WN_CERT_OK) return 0;
        r.holders = malloc(sizeof *r.holders);
        if (!r.holders) return 0;
        memcpy(r.holders[0].key, r.c.holder, 32);
        r.holders[0].balance = r.c.volume_l;
        r.n_holders = 1;
        if (!add_rec(s, &r)) {
            rec_free(&r);
            return 0;
        }
        *changed = &s->recs[s->n - 1];
        return 1;
    }
    wn_cert_op op;
    if (v.kind != WN_ENTRY_TRANSFER && v.kind != WN_ENTRY_RETIREMENT) return 0;
    if (wn_cert_op_decode(&op, v.kind == WN_ENTRY_RETIREMENT, p, len) != WN_CERT_OK) return 0;
    wn_cert_rec *r = (wn_cert_rec *)wn_certs_find(s, op.cert_index);
    if (!r || op.op != r->n_ops + 1) return 0;
    size_t at = 0;
    while (at < r->n_holders && memcmp(r->holders[at].key, op.from, 32) != 0) at++;
    if (at == r->n_holders || r->holders[at].balance < op.volume_l) return 0;
    wn_cert_opref *ops = realloc(r->ops, (r->n_ops + 1) * sizeof *ops);
    if (!ops) return 0;
    r->ops = ops;
    if (op.is_retirement) {
        r->holders[at].balance -= op.volume_l;
        r->retired += op.volume_l;
    } else {
        wn_holding *to = holding_for(r, op.to, 1); /* may move the array: index by `at` */
        if (!to) return 0;
        r->holders[at].balance -= op.volume_l;
        to->balance += op.volume_l;
    }
    r->ops[r->n_ops++] = (wn_cert_opref){.index = index, .type = v.kind};
    *changed = r;
    return 1;
}

int wn_certs_apply(wn_certs *s, uint64_t index, const uint8_t *e, size_t len, const uint8_t chain[32])
{
    wn_cert_rec *changed = NULL;
    const wn_ent_rec *ent = NULL;
    const wn_acc_rec *acc = NULL;
    const wn_cal_rec *cal = NULL;
    wn_ent_rec ent_copy;
    wn_acc_rec acc_copy;
    wn_cal_rec cal_copy;
    pthread_rwlock_wrlock(&s->lock);
    int ok = len > 1 && apply_memory(s, index, e, len, &changed, &ent, &acc, &cal);
    if (ok) s->applied = index + 1;
    if (ent) ent_copy = *ent;
    if (acc) acc_copy = *acc;
    if (cal) cal_copy = *cal;
    pthread_rwlock_unlock(&s->lock);
    if (!ok) {
        wn_log("certs: ledger entry %llu (type %u) does not fit the certificates' state", (unsigned long long)index,
               len ? e[0] : 0u);
        return 0;
    }
    persist(s, changed, ent ? &ent_copy : NULL, acc ? &acc_copy : NULL, cal ? &cal_copy : NULL, index + 1, chain);
    return 1;
}

/* ---- open / close (the rebuild loop is node/datadir/rebuild.c's) ---- */

static void free_all(wn_certs *s)
{
    for (size_t i = 0; i < s->n; i++) rec_free(&s->recs[i]);
    free(s->recs);
    s->recs = NULL;
    s->n = s->cap = 0;
    free(s->ents);
    s->ents = NULL;
    s->n_ents = s->cap_ents = 0;
    free(s->accs);
    s->accs = NULL;
    s->n_accs = s->cap_accs = 0;
    free(s->cals);
    s->cals = NULL;
    s->n_cals = s->cap_cals = 0;
}

/* wn_rebuild_spec.load: every certificate record into memory. */
static int load(void *ctx, MDB_txn *txn, const MDB_dbi *dbi, const char **why)
{
    wn_certs *s = ctx;
    MDB_cursor *cur;
    MDB_val k, v;
    if (mdb_cursor_open(txn, dbi[0], &cur)) return 0;
    int ok = 1, rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        wn_cert_rec r;
        if (k.mv_size != 8 || !decode_rec(&r, wn_get_u64(k.mv_data), v.mv_data, v.mv_size) || !add_rec(s, &r)) {
            rec_free(&r);
            *why = "corrupt";
            ok = 0;
            break;
        }
    }
    if (rc && rc != MDB_NOTFOUND) ok = 0;
    mdb_cursor_close(cur);
    if (!ok || mdb_cursor_open(txn, dbi[1], &cur)) return 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        wn_enterprise e;
        if (k.mv_size != 8 || wn_enterprise_decode(&e, v.mv_data, v.mv_size) != WN_ENT_OK ||
            !add_ent(s, wn_get_u64(k.mv_data), &e)) {
            *why = "corrupt";
            ok = 0;
            break;
        }
    }
    if (rc && rc != MDB_NOTFOUND) ok = 0;
    mdb_cursor_close(cur);
    if (!ok || mdb_cursor_open(txn, dbi[2], &cur)) return 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        wn_accreditation a;
        if (k.mv_size != 8 || wn_accreditation_decode(&a, v.mv_data, v.mv_size) != WN_ENT_OK ||
            !add_acc(s, wn_get_u64(k.mv_data), &a)) {
            *why = "corrupt";
            ok = 0;
            break;
        }
    }
    if (rc && rc != MDB_NOTFOUND) ok = 0;
    mdb_cursor_close(cur);
    if (!ok || mdb_cursor_open(txn, dbi[3], &cur)) return 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        wn_calibration c;
        if (k.mv_size != 8 || wn_calibration_decode(&c, v.mv_data, v.mv_size) != WN_ENT_OK ||
            !add_cal(s, wn_get_u64(k.mv_data), &c)) {
            *why = "corrupt";
            ok = 0;
            break;
        }
    }
    if (rc && rc != MDB_NOTFOUND) ok = 0;
    mdb_cursor_close(cur);
    return ok;
}

typedef struct {
    wn_certs *s;
    uint8_t chain[32];
    int failed;
} replay_ctx;

static int replay_entry(void *ctx, uint64_t index, const uint8_t *e, size_t len, const uint8_t leaf[32],
                        const uint8_t chain[32])
{
    replay_ctx *c = ctx;
    (void)leaf;
    memcpy(c->chain, chain, 32);
    uint8_t kind = wn_entry_kind(e, len);
    if ((kind == WN_ENTRY_CERTIFICATE || kind == WN_ENTRY_TRANSFER || kind == WN_ENTRY_RETIREMENT ||
         kind == WN_ENTRY_ENTERPRISE || kind == WN_ENTRY_ACCREDITATION || kind == WN_ENTRY_CALIBRATION) &&
        !wn_certs_apply(c->s, index, e, len, chain)) {
        c->failed = 1;
        return 1;
    }
    return 0;
}

/* wn_rebuild_spec.replay */
static int replay(void *ctx, uint64_t size)
{
    wn_certs *s = ctx;
    replay_ctx c = {.s = s};
    uint64_t from = s->applied;
    if (from >= size) return 1;
    int err = wn_ledger_iterate(s->ledger, from, size, replay_entry, &c);
    if (err || c.failed) return 0;
    s->applied = size;
    persist(s, NULL, NULL, NULL, NULL, size, c.chain);
    return !s->env_failed;
}

/* wn_rebuild_spec.reset */
static void reset(void *ctx)
{
    wn_certs *s = ctx;
    s->env_failed = 0;
    free_all(s);
    s->applied = 0;
}

int wn_certs_open(wn_certs **out, const char *dir, wn_ledger *ledger)
{
    wn_certs *s = calloc(1, sizeof *s);
    if (!s) return 0;
    pthread_mutex_init(&s->decide, NULL);
    pthread_rwlock_init(&s->lock, NULL);
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    s->ledger = ledger;
    wn_rebuild_spec spec = {.name = "certs", .dir = s->dir, .map_size = CERTS_MAP_SIZE, .format = CERTS_FORMAT,
                            .dbs = {"certs", "enterprises", "accreditations", "calibrations", NULL}, .load = load, .replay = replay, .reset = reset, .ctx = s};
    if (wn_rebuild_open(&spec, ledger, &s->env, &s->meta, s->certs, &s->applied)) {
        wn_log("certs: %zu certificates, up to date with the ledger at size %llu", s->n,
               (unsigned long long)s->applied);
        *out = s;
        return 1;
    }
    free_all(s);
    pthread_mutex_destroy(&s->decide);
    pthread_rwlock_destroy(&s->lock);
    free(s);
    return 0;
}

void wn_certs_close(wn_certs *s, wn_ledger *ledger)
{
    if (!s) return;
    uint64_t size;
    uint8_t chain[32];
    if (ledger && !wn_ledger_size(ledger, &size) && size > s->applied && wn_rebuild_chain(ledger, size - 1, chain))
        persist(s, NULL, NULL, NULL, NULL, size, chain); /* nothing after the watermark is a certificate entry */
    if (s->env) {
        mdb_env_sync(s->env, 1);
        mdb_env_close(s->env);
    }
    free_all(s);
    pthread_mutex_destroy(&s->decide);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}
