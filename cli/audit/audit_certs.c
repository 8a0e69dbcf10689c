/* audit_certs.c — the audit's rules for savings certificates and what their holders do
 * with them (entries 0x05..0x07, protocol/certificate.h), as the node decides them:
 *
 *   certificate  signed by the authority (--authority, else the registrar); its tree
 *                (checkpoint size and root) is a tree of this ledger before it; every
 *                meter it names is enrolled; no earlier certificate rests on one of its
 *                meters over an overlapping reporting period, unless one is a subsidy, the
 *                other a sale and both policies allow that; a subsidy whose policy limits
 *                subsidies per project comes when fewer earlier subsidies name its project;
 *   transfer,    signed by `from`; names an earlier certificate; carries its next
 *   retirement   operation number; a transfer only of a sale certificate; time in
 *                [issued, valid until); `from` holds volume, at least the volume moved.
 *
 * The balances follow the operations the node would have applied (right number, enough
 * balance), so a wrong operation is reported once. Certificates are few: plain arrays. */
#include "cli/audit/audit_impl.h"
#include "protocol/certificate.h"
#include "crypto/encoding.h"
#include "protocol/reading.h"
#include "crypto/sha256.h"

#include <stdlib.h>
#include <string.h>

#define AT WN_AUDIT_AT_ENTRY

static void queue_sig(wn_auditor *a, uint64_t index, int what, int code, const char *tag, const uint8_t *rec, size_t n,
                      const uint8_t key[32])
{
    wn_audit_sigjob *j = wn_audit_i_pool_job(&a->pool);
    j->index = index;
    j->code = (uint8_t)code;
    j->what = (uint8_t)what;
    if (!wn_verifier_bip340(&j->key, key)) memset(&j->key, 0, sizeof j->key); /* never verifies */
    wn_tagged_hash(j->digest, tag, rec, n - 64);
    memcpy(j->sig, rec + n - 64, 64);
    memcpy(j->meter, key, 32);
    j->seq = 0;
}

static wn_audit_cert *find_cert(wn_auditor *a, uint64_t index)
{
    size_t lo = 0, hi = a->n_certs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->certs[mid].index < index) lo = mid + 1;
        else hi = mid;
    }
    return lo < a->n_certs && a->certs[lo].index == index ? &a->certs[lo] : NULL;
}

static int may_share(const wn_audit_cert *x, const wn_certificate *c)
{
    return x->purpose != c->purpose && (x->flags & WN_CERT_FLAG_SUBSIDY_AND_SALE) &&
           (c->flags & WN_CERT_FLAG_SUBSIDY_AND_SALE);
}

static void double_counting(wn_auditor *a, uint64_t index, const wn_certificate *c)
{
    for (size_t k = 0; k < a->n_certs; k++) {
        const wn_audit_cert *x = &a->certs[k];
        if (!(c->reporting_from < x->reporting_to && x->reporting_from < c->reporting_to) || may_share(x, c)) continue;
        for (size_t i = 0; i < c->n_meters; i++)
            for (size_t j = 0; j < x->n_meters; j++) {
                if (memcmp(c->meters[i], x->meters[j], 32) != 0) continue;
                char id[17];
                wn_audit_i_hex16(id, c->meters[i]);
                wn_audit_i_problem(a, AT, index, WN_AC_DOUBLE_COUNTING, 0,
                                   "certificate %llu (%s) already rests on meter %s over an overlapping reporting period",
                                   (unsigned long long)x->index, wn_cert_purpose_name(x->purpose), id);
                return;
            }
    }
}

static void project_subsidised(wn_auditor *a, uint64_t index, const wn_certificate *c)
{
    if (c->purpose != WN_PURPOSE_SUBSIDY || !c->project_subsidies) return;
    uint8_t h[32];
    wn_sha256(h, c->project, strlen(c->project));
    size_t held = 0;
    for (size_t k = 0; k < a->n_certs; k++)
        held += a->certs[k].purpose == WN_PURPOSE_SUBSIDY && a->certs[k].has_project &&
                memcmp(a->certs[k].project, h, 32) == 0;
    if (held >= c->project_subsidies)
        wn_audit_i_problem(a, AT, index, WN_AC_PROJECT_SUBSIDISED, 0,
                           "project \"%.100s\" already held %zu subsidy certificate%s; its policy allows %u", c->project,
                           held, held == 1 ? "" : "s", (unsigned)c->project_subsidies);
}

void wn_audit_i_certificate(wn_auditor *a, uint64_t index, const uint8_t *p, size_t n)
{
    wn_certificate c;
    a->sum.certificates++;
    if (wn_certificate_decode(&c, p, n) != WN_CERT_OK) {
        wn_audit_i_problem(a, AT, index, WN_AC_MALFORMED_RECORD, 0, "the certificate does not decode");
        return;
    }
    /* The authority: given, else the registrar in force (the node's default). */
    const uint8_t *authority = a->cfg.have_authority ? a->cfg.authority : a->cfg.have_registrar ? a->cfg.registrar : NULL;
    if (!authority || memcmp(authority, c.authority, 32) != 0) {
        char k[65], w[65];
        wn_hex_encode(k, c.authority, 32);
        if (authority) wn_hex_encode(w, authority, 32);
        wn_audit_i_problem(a, AT, index, WN_AC_AUTHORITY_KEY, 0, "signed by %s, not the %s %s%s", k,
                           a->cfg.have_authority ? "authority" : "registrar", authority ? w : "(none known yet)",
                           a->cfg.have_authority ? "" : " (give --authority if the node has its own)");
    }
    queue_sig(a, index, 4, WN_AC_BAD_AUTHORITY_SIGNATURE, WN_TAG_CERTIFICATE, p, n, c.authority);

    uint8_t root[32];
    if (c.cp_size > index) {
        wn_audit_i_problem(a, AT, index, WN_AC_UNKNOWN_CHECKPOINT, 0,
                           "rests on a tree of %llu entries, but the ledger held %llu before it",
                           (unsigned long long)c.cp_size, (unsigned long long)index);
    } else if (!wn_audit_i_root_of(a, c.cp_size, root)) {
        wn_audit_i_problem(a, AT, index, WN_AC_UNKNOWN_CHECKPOINT, 1,
                           "the root of the tree of %llu entries it rests on cannot be computed from this source",
                           (unsigned long long)c.cp_size);
    } else if (memcmp(root, c.cp_root, 32) != 0) {
        wn_audit_i_problem(a, AT, index, WN_AC_UNKNOWN_CHECKPOINT, 0,
                           "its checkpoint root is not the root of this ledger's first %llu entries",
                           (unsigned long long)c.cp_size);
    }
    for (size_t i = 0; i < c.n_meters; i++) {
        const wn_audit_mstate *m = wn_audit_i_meter(&a->meters, c.meters[i], 0);
        if (m && m->enrolled) continue;
        char id[17];
        wn_audit_i_hex16(id, c.meters[i]);
        wn_audit_i_problem(a, AT, index, WN_AC_UNKNOWN_METER, (unsigned)i, "names meter %s, which is not enrolled", id);
    }
    double_counting(a, index, &c);
    project_subsidised(a, index, &c);

    if (a->n_certs == a->cap_certs) {
        size_t cap = a->cap_certs ? a->cap_certs * 2 : 16;
        wn_audit_cert *nc = realloc(a->certs, cap * sizeof *nc);
        if (!nc) {
            a->store.oom = 1;
            return;
        }
        a->certs = nc;
        a->cap_certs = cap;
    }
    wn_audit_cert x = {index, c.purpose, c.flags, c.time_ms, c.valid_until_ms, c.reporting_from, c.reporting_to,
                       NULL, c.n_meters, NULL, 1, 0, 0, {0}};
    x.has_project = c.project[0] != '\0';
    if (x.has_project) wn_sha256(x.project, c.project, strlen(c.project));
    x.meters = malloc(c.n_meters * 32);
    x.holders = malloc(sizeof *x.holders);
    if (!x.meters || !x.holders) {
        free(x.meters);
        free(x.holders);
        a->store.oom = 1;
        return;
    }
    memcpy(x.meters, c.meters, c.n_meters * 32);
    memcpy(x.holders[0].key, c.holder, 32);
    x.holders[0].balance = c.volume_l;
    a->certs[a->n_certs++] = x;
}

static wn_audit_holding *holding(wn_audit_cert *x, const uint8_t key[32])
{
    for (size_t i = 0; i < x->n_holders; i++)
        if (memcmp(x->holders[i].key, key, 32) == 0) return &x->holders[i];
    return NULL;
}

void wn_audit_i_cert_op(wn_auditor *a, uint64_t index, int retirement, const uint8_t *p, size_t n)
{
    const char *what = retirement ? "retirement" : "transfer";
    wn_cert_op op;
    if (retirement) a->sum.retirements++;
    else a->sum.transfers++;
    if (wn_cert_op_decode(&op, retirement, p, n) != WN_CERT_OK) {
        wn_audit_i_problem(a, AT, index, WN_AC_MALFORMED_RECORD, 0, "the %s does not decode", what);
        return;
    }
    queue_sig(a, index, retirement ? 6 : 5, WN_AC_BAD_HOLDER_SIGNATURE, retirement ? WN_TAG_RETIREMENT : WN_TAG_TRANSFER,
              p, n, op.from);
    wn_audit_cert *x = op.cert_index < index ? find_cert(a, op.cert_index) : NULL;
    if (!x) {
        wn_audit_i_problem(a, AT, index, WN_AC_UNKNOWN_CERTIFICATE, 0, "names entry %llu, which is not an earlier certificate",
                           (unsigned long long)op.cert_index);
        return;
    }
    int ok = 1;
    if (op.op != x->ops + 1) {
        wn_audit_i_problem(a, AT, index, WN_AC_STALE_OPERATION, 0,
                           "operation number %llu, but certificate %llu's next is %llu", (unsigned long long)op.op,
                           (unsigned long long)x->index, (unsigned long long)(x->ops + 1));
        ok = 0;
    }
    if (!retirement && x->purpose != WN_PURPOSE_SALE)
        wn_audit_i_problem(a, AT, index, WN_AC_NOT_TRANSFERABLE, 0, "certificate %llu is a subsidy certificate",
                           (unsigned long long)x->index);
    if (op.time_ms < x->time_ms || op.time_ms >= x->valid_until_ms) {
        char t[25], t0[25], t1[25];
        wn_time_format(t, op.time_ms);
        wn_time_format(t0, x->time_ms);
        wn_time_format(t1, x->valid_until_ms);
        wn_audit_i_problem(a, AT, index, WN_AC_OUTSIDE_TERM, 0, "time %s is outside certificate %llu's term [%s, %s)", t,
                           (unsigned long long)x->index, t0, t1);
    }
    wn_audit_holding *h = holding(x, op.from);
    char k[17];
    wn_audit_i_hex16(k, op.from);
    if (!h || h->balance == 0) {
        wn_audit_i_problem(a, AT, index, WN_AC_NOT_HOLDER, 0, "%s holds no volume of certificate %llu", k,
                           (unsigned long long)x->index);
        return;
    }
    if (op.volume_l > h->balance) {
        wn_audit_i_problem(a, AT, index, WN_AC_INSUFFICIENT_BALANCE, 0, "%s holds %llu L of certificate %llu, not %llu L",
                           k, (unsigned long long)h->balance, (unsigned long long)x->index,
                           (unsigned long long)op.volume_l);
        return;
    }
    if (!ok) return; /* the node would not have applied it */
    h->balance -= op.volume_l;
    x->ops++;
    if (retirement) return;
    wn_audit_holding *to = holding(x, op.to);
    if (!to) {
        wn_audit_holding *nh = realloc(x->holders, (x->n_holders + 1) * sizeof *nh);
        if (!nh) {
            a->store.oom = 1;
            return;
        }
        x->holders = nh;
        to = &x->holders[x->n_holders++];
        memcpy(to->key, op.to, 32);
        to->balance = 0;
    }
    to->balance += op.volume_l;
}

void wn_audit_i_certs_free(wn_auditor *a)
{
    for (size_t i = 0; i < a->n_certs; i++) {
        free(a->certs[i].meters);
        free(a->certs[i].holders);
    }
    free(a->certs);
    a->certs = NULL;
    free(a->ents);
    a->ents = NULL;
    a->n_ents = a->cap_ents = 0;
    free(a->accs);
    a->accs = NULL;
    a->n_accs = a->cap_accs = 0;
    a->n_certs = a->cap_certs = 0;
}
