/* fuzz_proof.c — libFuzzer target for everything that parses proof material from outside:
 * wn_checkpoint_parse / wn_checkpoint_verify, wn_incl_proof_parse (+ verify),
 * wn_cons_proof_parse (+ verify) and wn_entry_parse (the input, and a proof's entry bytes).
 * Every input goes to all of them. Invariants checked: no
 * crash or out-of-bounds read, outputs point inside the input, every rejection has a
 * detail, and a parsed checkpoint's fields obey the format's rules. The seed corpus is
 * signed with the key below (secret key bytes 1..32), so verification paths are reached. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/sig.h"
#include "ledger/entry.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/proof_file.h"

static uint8_t pub[32];

static void check_cp(const wn_checkpoint *cp)
{
    size_t n = strnlen(cp->origin, sizeof cp->origin);
    if (n == 0 || n > WN_ORIGIN_MAX) abort();
    if (cp->has_time ? cp->time_ms > WN_CHECKPOINT_TIME_MAX : cp->time_ms != 0) abort();
}

/* Entry bytes: a parsed view lies inside them and follows the form's rules. */
static void check_entry(const uint8_t *e, size_t n)
{
    wn_entry_view v;
    if (wn_entry_parse(&v, e, n) != WN_ENTRY_OK) {
        if (v.kind || v.payload) abort();
        return;
    }
    size_t head = v.timed ? WN_ENTRY_TIMED_HEADER : 1;
    if (v.payload != e + head || v.len != n - head || v.kind < 1 || v.kind > WN_ENTRY_KIND_MAX) abort();
    if (v.marks & ~WN_ENTRY_MARKS_KNOWN || (!v.timed && (v.marks || v.commit_ms))) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        uint8_t sk[32];
        for (int i = 0; i < 32; i++) sk[i] = (uint8_t)(i + 1);
        if (!wn_seckey_xonly(pub, sk)) abort();
        init = 1;
    }
    /* Copy so that reads past the end are caught by ASan. */
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    memcpy(text, data, size);

    check_entry((const uint8_t *)text, size);
    wn_checkpoint cp;
    size_t text_len = 0;
    if (wn_checkpoint_parse(text, size, &cp, &text_len) == WN_CHECKPOINT_OK) {
        check_cp(&cp);
        if (text_len == 0 || text_len >= size || text[text_len - 1] != '\n') abort();
    }
    if (wn_checkpoint_verify(text, size, NULL, pub, &cp) == WN_CHECKPOINT_OK) check_cp(&cp);

    char detail[256];
    wn_incl_proof ip;
    if (wn_incl_proof_parse(&ip, text, size, detail, sizeof detail) == WN_PROOF_OK) {
        if (ip.proof_len > WN_MERKLE_MAX_PROOF) abort();
        if (ip.extra) check_entry(ip.extra, ip.extra_len);
        if (ip.checkpoint < text || ip.checkpoint + ip.checkpoint_len != text + size) abort();
        (void)wn_incl_proof_verify(&ip, pub, NULL, 0, NULL, detail, sizeof detail);
        wn_incl_proof_free(&ip);
    } else if (strlen(detail) == 0) {
        abort(); /* every rejection says why */
    }

    wn_cons_proof cpf;
    if (wn_cons_proof_parse(&cpf, text, size, detail, sizeof detail) == WN_PROOF_OK) {
        if (cpf.proof_len > WN_MERKLE_MAX_PROOF) abort();
        if (cpf.old_cp < text || cpf.new_cp + cpf.new_len != text + size || cpf.old_cp + cpf.old_len >= cpf.new_cp)
            abort();
        (void)wn_cons_proof_verify(&cpf, pub, NULL, NULL, detail, sizeof detail);
    } else if (strlen(detail) == 0) {
        abort();
    }
    free(text);
    return 0;
}
