/* entry.c — the one parser of ledger entry bytes (both forms) and the timed header writer.
 * See entry.h and docs/PROTOCOL.md §3. */
#include "ledger/entry.h"

#include <string.h>

#include "crypto/encoding.h"
#include "ledger/ledger.h"

const char *wn_entry_strerror(int err)
{
    switch (err) {
    case WN_ENTRY_OK: return "ok";
    case WN_ENTRY_ESHORT: return "entry too short for its form";
    case WN_ENTRY_ETYPE: return "unknown entry type";
    case WN_ENTRY_EMARKS: return "unknown marks bits set";
    default: return "unknown entry error";
    }
}

int wn_entry_parse(wn_entry_view *v, const uint8_t *bytes, size_t len)
{
    memset(v, 0, sizeof *v);
    if (!bytes || len < 1) return WN_ENTRY_ESHORT;
    uint8_t type = bytes[0], kind = (uint8_t)(type & ~WN_ENTRY_TIMED);
    if (kind < WN_ENTRY_READING || kind > WN_ENTRY_KIND_MAX) return WN_ENTRY_ETYPE;
    wn_entry_view w = {.kind = kind, .type = type};
    if (type & WN_ENTRY_TIMED) {
        if (len < WN_ENTRY_TIMED_HEADER) return WN_ENTRY_ESHORT;
        w.timed = 1;
        w.commit_ms = wn_get_u64(bytes + 1);
        w.marks = bytes[9];
        if (w.marks & ~WN_ENTRY_MARKS_KNOWN) return WN_ENTRY_EMARKS;
        w.payload = bytes + WN_ENTRY_TIMED_HEADER;
        w.len = len - WN_ENTRY_TIMED_HEADER;
    } else {
        w.payload = bytes + 1;
        w.len = len - 1;
    }
    *v = w;
    return WN_ENTRY_OK;
}

size_t wn_entry_put_timed_header(uint8_t out[WN_ENTRY_TIMED_HEADER], uint8_t kind, uint64_t commit_ms, uint8_t marks)
{
    out[0] = (uint8_t)(WN_ENTRY_TIMED | kind);
    wn_put_u64(out + 1, commit_ms);
    out[9] = marks;
    return WN_ENTRY_TIMED_HEADER;
}

uint8_t wn_entry_kind(const uint8_t *bytes, size_t len)
{
    wn_entry_view v;
    return wn_entry_parse(&v, bytes, len) == WN_ENTRY_OK ? v.kind : 0;
}

enum { TIMED = 1000, UNTIMED }; /* the visit's answers: apart from the ledger's errors */

static int commit_time_visit(void *ctx, uint64_t index, const uint8_t *entry, size_t len, const uint8_t leaf[32],
                             const uint8_t chain[32])
{
    (void)index, (void)leaf, (void)chain;
    wn_entry_view v;
    if (wn_entry_parse(&v, entry, len) == WN_ENTRY_OK && v.timed) {
        *(uint64_t *)ctx = v.commit_ms;
        return TIMED;
    }
    return UNTIMED;
}

int wn_entry_commit_time_at(struct wn_ledger *l, uint64_t index, uint64_t *ms)
{
    uint64_t t = 0;
    if (wn_ledger_iterate(l, index, index + 1, commit_time_visit, &t) != TIMED) return 0;
    *ms = t;
    return 1;
}
