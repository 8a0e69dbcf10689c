/* testledger.c — real ledgers for the audit and export tests (see testledger.h). */
#include "tests/support/testledger.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "crypto/sha256.h"
#include "crypto/sig.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/entry.h"

#define HOUR 3600000ULL

static uint64_t failed(const char *what, int err)
{
    fprintf(stderr, "testledger: %s failed (%d)\n", what, err);
    return WN_TL_FAIL;
}

int wn_tl_create(wn_tl *t, const char *dir)
{
    memset(t, 0, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "%s", dir);
    if (!wn_seckey_generate(t->notary_sk) || !wn_seckey_xonly(t->notary_pub, t->notary_sk) ||
        !wn_seckey_generate(t->registrar_sk) || !wn_seckey_xonly(t->registrar_pub, t->registrar_sk))
        return 0;
    wn_hex_encode(t->notary_hex, t->notary_pub, 32);
    wn_hex_encode(t->registrar_hex, t->registrar_pub, 32);
    snprintf(t->origin, sizeof t->origin, "waternotary/%.16s", t->notary_hex);
    t->start_ms = 1790000000000ULL; /* 2026-09-21 */
    int err = wn_ledger_open(&t->l, dir, 0);
    if (err) {
        failed("wn_ledger_open", err);
        return 0;
    }
    return 1;
}

void wn_tl_close(wn_tl *t)
{
    if (t->l) wn_ledger_close(t->l);
    t->l = NULL;
}

unsigned wn_tl_add_meter(wn_tl *t, int ecdsa, const char *enterprise)
{
    unsigned k = t->nmeters++;
    wn_tl_meter *m = &t->m[k];
    memset(m, 0, sizeof *m);
    if (!wn_seckey_generate(m->sk) || !wn_seckey_xonly(m->id, m->sk) || !wn_seckey_pub33(m->pub33, m->sk)) abort();
    m->ecdsa = ecdsa;
    m->litres = 1000000 * (int64_t)(k + 1);
    m->time = t->start_ms + 60000ULL * k - HOUR;
    snprintf(m->enterprise, sizeof m->enterprise, "%s", enterprise ? enterprise : "ACME-1");
    return k;
}

static uint64_t append(wn_tl *t, const uint8_t *e, size_t len, const uint8_t *meter, uint64_t seq)
{
    uint8_t timed[WN_ENTRY_TIMED_HEADER + 2048];
    if (t->commit_ms && len >= 1 && len - 1 <= sizeof timed - WN_ENTRY_TIMED_HEADER) { /* kind || payload, timed */
        wn_entry_put_timed_header(timed, e[0], t->commit_ms, t->marks);
        memcpy(timed + WN_ENTRY_TIMED_HEADER, e + 1, len - 1);
        e = timed;
        len += WN_ENTRY_TIMED_HEADER - 1;
    }
    wn_ledger_item it = {e, len, meter, seq};
    uint64_t first;
    int err = wn_ledger_append(t->l, &it, 1, &first, NULL);
    return err ? failed("wn_ledger_append", err) : first;
}

uint64_t wn_tl_append_raw(wn_tl *t, const uint8_t *entry, size_t len) { return append(t, entry, len, NULL, 0); }

uint64_t wn_tl_enrol(wn_tl *t, unsigned k, const uint8_t *other_sk)
{
    const wn_tl_meter *m = &t->m[k];
    wn_enrolment e;
    memset(&e, 0, sizeof e);
    memcpy(e.meter, m->id, 32);
    e.alg = m->ecdsa ? WN_ALG_ECDSA : WN_ALG_BIP340;
    if (m->ecdsa) memcpy(e.pubkey, m->pub33, 33);
    else e.pubkey[0] = 0x02, memcpy(e.pubkey + 1, m->id, 32);
    e.time_ms = t->start_ms - 2 * HOUR;
    e.point = WN_POINT_USE;
    e.tier = 1;
    e.source = WN_SOURCE_TAP;
    snprintf(e.enterprise, sizeof e.enterprise, "%s", m->enterprise);
    snprintf(e.calibration, sizeof e.calibration, "CAL-%u", k);
    int err = wn_enrolment_sign(&e, other_sk ? other_sk : t->registrar_sk);
    if (err) return failed("wn_enrolment_sign", err);
    uint8_t buf[1 + WN_ENROLMENT_MAX_LEN];
    size_t len;
    buf[0] = WN_ENTRY_ENROLMENT;
    if ((err = wn_enrolment_encode(&e, buf + 1, sizeof buf - 1, &len))) return failed("wn_enrolment_encode", err);
    return append(t, buf, len + 1, NULL, 0);
}

uint64_t wn_tl_revoke(wn_tl *t, unsigned k)
{
    wn_revocation r;
    memset(&r, 0, sizeof r);
    memcpy(r.meter, t->m[k].id, 32);
    r.time_ms = t->m[k].time + 1;
    r.reason = WN_REVOKE_DECOMMISSIONED;
    int err = wn_revocation_sign(&r, t->registrar_sk);
    if (err) return failed("wn_revocation_sign", err);
    uint8_t buf[1 + WN_REVOCATION_LEN];
    buf[0] = WN_ENTRY_REVOCATION;
    if ((err = wn_revocation_encode(&r, buf + 1))) return failed("wn_revocation_encode", err);
    return append(t, buf, sizeof buf, NULL, 0);
}

void wn_tl_next(wn_tl *t, unsigned k, wn_reading *r)
{
    wn_tl_meter *m = &t->m[k];
    memset(r, 0, sizeof *r);
    r->version = WN_READING_VERSION;
    memcpy(r->meter, m->id, 32);
    r->seq = m->seq + 1;
    r->time_ms = m->time + HOUR;
    memcpy(r->prev, m->prev, 32);
    r->count = 3;
    r->m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, m->litres + 1234 + 17 * (int64_t)m->seq};
    r->m[1] = (wn_measurement){WN_Q_FLOW, WN_U_M3_PER_H, 2, 123 + (int64_t)m->seq};
    r->m[2] = (wn_measurement){WN_Q_PH, WN_U_PH, 2, 700 + (int64_t)(m->seq % 50)};
}

uint64_t wn_tl_append_reading(wn_tl *t, unsigned k, wn_reading *r, const uint8_t *other_sk)
{
    wn_tl_meter *m = &t->m[k];
    int err;
    if (other_sk) err = wn_reading_sign(r, other_sk);
    else if (m->ecdsa) err = wn_reading_sign_ecdsa(r, m->sk);
    else err = wn_reading_sign(r, m->sk);
    if (err == WN_READING_EKEY && other_sk) { /* signing with a foreign key: forge the bytes */
        uint8_t d[32];
        r->alg = WN_ALG_BIP340;
        wn_reading_signing_digest(r, d);
        if (!wn_schnorr_sign(r->sig, other_sk, d, NULL)) return failed("wn_schnorr_sign", 0);
        err = 0;
    }
    if (err) return failed("sign reading", err);
    uint8_t buf[1 + WN_READING_MAX_LEN];
    size_t len;
    buf[0] = WN_ENTRY_READING;
    if ((err = wn_reading_encode(r, buf + 1, sizeof buf - 1, &len))) return failed("wn_reading_encode", err);
    uint64_t idx = append(t, buf, len + 1, r->meter, r->seq);
    if (idx != WN_TL_FAIL && memcmp(r->meter, m->id, 32) == 0 && r->seq > m->seq) {
        m->seq = r->seq;
        m->time = r->time_ms;
        wn_reading_digest(r, m->prev);
        for (unsigned i = 0; i < r->count; i++)
            if (r->m[i].quantity == WN_Q_VOLUME) m->litres = r->m[i].value;
    }
    return idx;
}

uint64_t wn_tl_reading(wn_tl *t, unsigned k, uint16_t flags)
{
    wn_reading r;
    wn_tl_next(t, k, &r);
    r.flags = flags;
    return wn_tl_append_reading(t, k, &r, NULL);
}

uint64_t wn_tl_evidence(wn_tl *t, unsigned k, uint64_t seq, uint64_t orig)
{
    uint8_t buf[WN_ENTRY_TIMED_HEADER + WN_READING_MAX_LEN + 8];
    size_t len = 0;
    wn_ledger_get(t->l, orig, buf, sizeof buf, &len, NULL, NULL);
    wn_reading r;
    wn_entry_view v;
    if (wn_entry_parse(&v, buf, len) != WN_ENTRY_OK || v.kind != WN_ENTRY_READING ||
        wn_reading_decode(&r, v.payload, v.len)) {
        /* orig is not a reading: build one from scratch */
        wn_tl_next(t, k, &r);
        r.seq = seq;
        if (seq == 1) memset(r.prev, 0, 32);
    }
    r.time_ms += 1000; /* the conflict: same sequence, other bytes */
    int err = t->m[k].ecdsa ? wn_reading_sign_ecdsa(&r, t->m[k].sk) : wn_reading_sign(&r, t->m[k].sk);
    if (err) return failed("sign evidence", err);
    buf[0] = WN_ENTRY_EQUIVOCATION;
    wn_put_u64(buf + 1, orig);
    if ((err = wn_reading_encode(&r, buf + 9, sizeof buf - 9, &len))) return failed("encode evidence", err);
    return append(t, buf, len + 9, NULL, 0);
}

uint64_t wn_tl_checkpoint(wn_tl *t, const uint8_t *other_sk, const uint8_t *root)
{
    wn_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "%s", t->origin);
    int err = wn_ledger_size(t->l, &cp.size);
    if (!err) err = wn_ledger_root(t->l, cp.size, cp.root);
    if (err) return failed("root", err);
    if (root) memcpy(cp.root, root, 32);
    cp.has_time = cp.size > 0 && wn_entry_commit_time_at(t->l, cp.size - 1, &cp.time_ms);
    char note[WN_CHECKPOINT_MAX];
    size_t len;
    if ((err = wn_checkpoint_sign(&cp, other_sk ? other_sk : t->notary_sk, note, sizeof note, &len)))
        return failed("wn_checkpoint_sign", err);
    if ((err = wn_ledger_put_checkpoint(t->l, cp.size, note, len))) return failed("put_checkpoint", err);
    return cp.size;
}

int wn_tl_standard(wn_tl *t, const char *dir)
{
    if (!wn_tl_create(t, dir)) return 0;
    wn_tl_add_meter(t, 0, "ACME-1");
    wn_tl_add_meter(t, 0, "ACME-1");
    wn_tl_add_meter(t, 0, "Beta, Ltd");
    wn_tl_add_meter(t, 1, "ACME-1");
    for (unsigned k = 0; k < 4; k++)
        if (wn_tl_enrol(t, k, NULL) == WN_TL_FAIL) return 0;
    if (wn_tl_checkpoint(t, NULL, NULL) == WN_TL_FAIL) return 0;
    uint64_t m0s3 = 0;
    for (unsigned s = 1; s <= 8; s++) {
        for (unsigned k = 0; k < 4; k++) {
            uint16_t flags = 0;
            if (k == 0 && s == 2) flags = WN_FLAG_TAMPER;
            if (k == 1 && s == 3) flags = WN_FLAG_SUBSTITUTE;
            if (k == 3 && s == 4) flags = WN_FLAG_CLOCK_UNSYNC;
            uint64_t i = wn_tl_reading(t, k, flags);
            if (i == WN_TL_FAIL) return 0;
            if (k == 0 && s == 3) m0s3 = i;
        }
        if (s == 4 && wn_tl_checkpoint(t, NULL, NULL) == WN_TL_FAIL) return 0;
        if (s == 5 && wn_tl_evidence(t, 0, 3, m0s3) == WN_TL_FAIL) return 0;
    }
    if (wn_tl_revoke(t, 2) == WN_TL_FAIL) return 0;
    return wn_tl_checkpoint(t, NULL, NULL) != WN_TL_FAIL;
}

int wn_tl_copy_dir(const char *src, const char *dst)
{
    if (mkdir(dst, 0755) != 0) return 0;
    DIR *d = opendir(src);
    if (!d) return 0;
    struct dirent *de;
    int ok = 1;
    while (ok && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char a[8300], b[8300];
        snprintf(a, sizeof a, "%s/%s", src, de->d_name);
        snprintf(b, sizeof b, "%s/%s", dst, de->d_name);
        int in = open(a, O_RDONLY), out = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0) ok = 0;
        char buf[65536];
        ssize_t n;
        while (ok && (n = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t)n) != n) ok = 0;
        if (in >= 0) close(in);
        if (out >= 0) close(out);
    }
    closedir(d);
    return ok;
}
