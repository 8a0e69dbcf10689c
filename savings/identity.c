/* identity.c — the identity rules shared by node and evaluator (identity.h). */
#include "savings/identity.h"

#include <stdio.h>

#include "crypto/encoding.h"

const char *wn_identity_check_key(const wn_enterprise *rec, uint64_t rec_index, const char *enterprise,
                                  const uint8_t key[32], int required, char *detail, size_t cap)
{
    if (!rec) {
        if (!required) return NULL;
        snprintf(detail, cap, "enterprise \"%s\" has no enterprise record at the notary: the policy pays only a "
                              "registered enterprise", enterprise);
        return "enterprise_not_registered";
    }
    if (wn_enterprise_has_key(rec, key)) return NULL;
    char h[65];
    wn_hex_encode(h, key, 32);
    snprintf(detail, cap, "the key %s is not one of the %zu key%s of enterprise \"%s\" in force (its record of "
                          "sequence %llu, ledger entry %llu)",
             h, rec->n_keys, rec->n_keys == 1 ? "" : "s", rec->code, (unsigned long long)rec->seq,
             (unsigned long long)rec_index);
    return "key_not_enterprise";
}

const char *wn_identity_meter_detail(char *detail, size_t cap, const char *who, const char *enrolled,
                                     const char *claimed)
{
    snprintf(detail, cap, "%s: enrolled for enterprise \"%s\", not the claimant \"%s\"", who, enrolled, claimed);
    return detail;
}

int wn_identity_shares_key(const wn_enterprise *rec, const uint8_t key[32])
{
    return rec && wn_enterprise_has_key(rec, key);
}
