/* startcheck.c — the start-up agreement of notary key, ledger and signed checkpoints, and
 * the re-hash of the ledger's newest entries (see startcheck.h). */
#include "node/datadir/startcheck.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/tlog/merkle.h"
#include "node/datadir/datadir.h"
#include "node/log.h"

int wn_startcheck_has_history(const char *data_dir, wn_ledger *ledger, uint64_t *size)
{
    char buf[WN_CHECKPOINT_MAX + 1];
    size_t len;
    *size = 0;
    if (wn_ledger_size(ledger, size) != WN_LEDGER_OK) return 1; /* cannot tell: assume there is */
    return *size > 0 || wn_datadir_load_checkpoint(data_dir, buf, sizeof buf, &len) != 0;
}

/* ---- the re-hash of entries [from, to) ---- */

typedef struct {
    uint8_t prev[32]; /* chain hash of the entry before */
    uint64_t bad;     /* first index that does not re-hash */
    const char *what;
    uint64_t first;   /* the first index visited */
    int skip_chain;   /* its chain hash is taken, not checked (its predecessor is not read) */
} tail_ctx;

static int tail_visit(void *ctx, uint64_t index, const uint8_t *entry, size_t len, const uint8_t leaf[32],
                      const uint8_t chain[32])
{
    tail_ctx *t = ctx;
    uint8_t h[32];
    wn_merkle_leaf_hash(h, entry, len);
    if (memcmp(h, leaf, 32) != 0) {
        t->bad = index;
        t->what = "its bytes do not hash to its stored leaf hash";
        return 1;
    }
    wn_sha256_2(h, t->prev, 32, leaf, 32);
    if (!(t->skip_chain && index == t->first) && memcmp(h, chain, 32) != 0) {
        t->bad = index;
        t->what = "its stored chain hash is not SHA-256(previous chain hash || leaf hash)";
        return 1;
    }
    memcpy(t->prev, chain, 32);
    return 0;
}

/* Every subtree hash stored with entries [from, to) equals the node hash of the two
 * below it. Returns: 1; 0 with *bad, *what set. */
static int check_subtrees(wn_ledger *ledger, uint64_t from, uint64_t to, uint64_t *bad, const char **what)
{
    wn_ledger_reader *r;
    if (wn_ledger_reader_begin(ledger, &r) != WN_LEDGER_OK) {
        *bad = from;
        *what = "the ledger cannot be read";
        return 0;
    }
    int ok = 1;
    for (uint64_t i = from; i < to && ok; i++) {
        unsigned nh = wn_merkle_hashes_at(i);
        for (unsigned lv = 1; lv < nh && ok; lv++) {
            uint64_t k = ((i + 1) >> lv) - 1;
            uint8_t up[32], left[32], right[32], h[32];
            if (!wn_ledger_reader_hash(r, lv, k, up) || !wn_ledger_reader_hash(r, lv - 1, 2 * k, left) ||
                !wn_ledger_reader_hash(r, lv - 1, 2 * k + 1, right)) {
                *what = "a stored subtree hash cannot be read";
                ok = 0;
                break;
            }
            wn_merkle_node_hash(h, left, right);
            if (memcmp(h, up, 32) != 0) {
                *what = "a stored subtree hash is not the hash of the two below it";
                ok = 0;
            }
        }
        if (!ok) *bad = i;
    }
    wn_ledger_reader_end(r);
    return ok;
}

static int check_tail(const char *ledger_file, wn_ledger *ledger, uint64_t from, uint64_t to, int allow_damaged)
{
    tail_ctx t;
    memset(&t, 0, sizeof t);
    t.bad = UINT64_MAX;
    t.first = from > 0 ? from - 1 : 0; /* the entry before `from` gives the chain hash to start from */
    t.skip_chain = from > 0;
    int err = wn_ledger_iterate(ledger, t.first, to, tail_visit, &t);
    const char *what = t.what;
    uint64_t bad = t.bad;
    if (err != WN_LEDGER_OK && !what) {
        what = wn_ledger_strerror(err);
        bad = from;
    }
    if (!what) (void)check_subtrees(ledger, from, to, &bad, &what); /* sets both when it fails */
    if (what && allow_damaged) {
        wn_log("ERROR: the ledger %s is damaged at entry %llu: %s. Starting anyway (--allow-damaged-entries): the "
               "damaged entries are served as they are; restore the ledger directory from a backup",
               ledger_file, (unsigned long long)bad, what);
        return -1;
    }
    if (what) {
        wn_log("the ledger %s is damaged at entry %llu: %s. Do not start this node on it: restore the ledger "
               "directory from a backup (wn audit shows every damaged entry)",
               ledger_file, (unsigned long long)bad, what);
        return 0;
    }
    return 1;
}

/* ---- a reference checkpoint against key and ledger ---- */

static int check_reference(const char *where, const char *note, size_t len, const uint8_t notary_pk[32],
                           const char *key_path, const char *ledger_file, wn_ledger *ledger, uint64_t size,
                           uint64_t *signed_size)
{
    wn_checkpoint cp;
    int cerr = wn_checkpoint_verify(note, len, NULL, notary_pk, &cp);
    if (cerr != WN_CHECKPOINT_OK) {
        char hex[65];
        wn_hex_encode(hex, notary_pk, 32);
        wn_log("%s is not a checkpoint signed by this node's notary key %s (public key %s): %s. The key is not "
               "the one that signed this ledger: restore the right key file from a backup; a new key must "
               "start a new data directory",
               where, key_path, hex, wn_checkpoint_strerror(cerr));
        return 0;
    }
    if (size < cp.size) {
        wn_log("the ledger %s holds %llu entries, but this node signed a checkpoint of size %llu (%s): the ledger "
               "was emptied, deleted or replaced by an older copy, and starting would sign a checkpoint that "
               "contradicts it. Restore the ledger directory from a backup holding at least %llu entries",
               ledger_file, (unsigned long long)size, (unsigned long long)cp.size, where,
               (unsigned long long)cp.size);
        return 0;
    }
    uint8_t root[32];
    int err = wn_ledger_root(ledger, cp.size, root);
    if (err != WN_LEDGER_OK || memcmp(root, cp.root, 32) != 0) {
        wn_log("the ledger %s does not hold the tree this node signed at size %llu (%s): %s. It was changed or "
               "replaced; restore the ledger directory from a backup (wn audit shows what differs)",
               ledger_file, (unsigned long long)cp.size, where,
               err ? wn_ledger_strerror(err) : "the root of its first entries differs from the signed root");
        return 0;
    }
    if (cp.size > *signed_size) *signed_size = cp.size;
    return 1;
}

int wn_startcheck_run(const char *data_dir, wn_ledger *ledger, const uint8_t notary_pk[32], const char *key_path,
                      int allow_damaged, wn_startcheck_result *out)
{
    char ledger_file[4200], last_file[4200];
    snprintf(ledger_file, sizeof ledger_file, "%s/ledger/data.mdb", data_dir);
    snprintf(last_file, sizeof last_file, "%s/%s", data_dir, WN_DATADIR_CHECKPOINT);
    memset(out, 0, sizeof *out);
    int err = wn_ledger_size(ledger, &out->ledger_size);
    if (err) {
        wn_log("cannot read the size of the ledger %s: %s", ledger_file, wn_ledger_strerror(err));
        return 0;
    }
    uint64_t size = out->ledger_size;

    char file_note[WN_CHECKPOINT_MAX + 1], led_note[WN_CHECKPOINT_MAX + 1];
    size_t file_len = 0, led_len = 0;
    int have_file = wn_datadir_load_checkpoint(data_dir, file_note, sizeof file_note, &file_len);
    if (have_file < 0) {
        wn_log("cannot read %s (%s): it holds the last checkpoint this node signed. Restore it from a backup, "
               "or fix its permissions", last_file, strerror(errno));
        return 0;
    }
    uint64_t led_size = 0;
    err = wn_ledger_get_checkpoint(ledger, 0, led_note, sizeof led_note, &led_len, &led_size);
    if (err != WN_LEDGER_OK && err != WN_LEDGER_ENOTFOUND) {
        wn_log("cannot read the newest checkpoint in the ledger %s: %s", ledger_file, wn_ledger_strerror(err));
        return 0;
    }
    int have_led = err == WN_LEDGER_OK;

    if (have_file && !check_reference(last_file, file_note, file_len, notary_pk, key_path, ledger_file, ledger, size,
                                      &out->signed_size))
        return 0;
    char where[4300];
    snprintf(where, sizeof where, "the ledger's newest checkpoint (in %s)", ledger_file);
    if (have_led &&
        !check_reference(where, led_note, led_len, notary_pk, key_path, ledger_file, ledger, size, &out->signed_size))
        return 0;

    out->from = out->signed_size > WN_STARTCHECK_TAIL ? out->signed_size - WN_STARTCHECK_TAIL : 0;
    out->to = size;
    if (out->from < out->to) {
        int t = check_tail(ledger_file, ledger, out->from, out->to, allow_damaged);
        if (t == 0) return 0;
        out->damaged = t < 0;
    }

    /* A node that signed before checkpoint.last existed: keep its newest checkpoint there. */
    if (!have_file && have_led) {
        if (!wn_datadir_save_checkpoint(data_dir, led_note, led_len)) {
            wn_log("cannot write %s: %s", last_file, strerror(errno));
            return 0;
        }
        out->wrote_last = 1;
    }
    return 1;
}
