/* project.h — a retrofit project record (docs/PROTOCOL.md §16, "Projects"): the registrar
 * that enrols the enterprise's meters states that project `id` of `enterprise` invested
 * `investment` fen in equipment and was commissioned at `commissioned`. A claim names its
 * project by the record's id (the claim's "project" member) and carries the record
 * ("project_record"); the evaluator checks it against the claim and counts the subsidy
 * certificates the ledger already holds for that id, so one retrofit is paid as often as
 * the policy allows (Jiaxing: once), however its time is cut into reporting periods.
 *
 *   signed = u8 version (1) || text id || text enterprise || text description ||
 *            u64 investment (fen) || u64 commissioned (ms) || registrar x-only key (32)
 *   text   = u8 length || UTF-8 bytes
 *   sig    = BIP-340 by the registrar over tagged_hash(WN_TAG_PROJECT, signed)
 *
 * The JSON form (what `wn project sign` writes, and a claim embeds):
 *   {"format":"waternotary/project@v1","id":...,"enterprise":...,"description":...,
 *    "investment":"2500000.00","commissioned":"2025-02-15T00:00:00.000Z",
 *    "registrar":"<64 hex>","sig":"<128 hex>"} */
#ifndef WN_PROJECT_H
#define WN_PROJECT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define WN_PROJECT_FORMAT_V1 "waternotary/project@v1"
#define WN_TAG_PROJECT "WaterNotary/project/v1"
#define WN_PROJECT_ID_MAX 200          /* = WN_CLAIM_PROJECT_MAX: the claim's "project" is the id */
#define WN_PROJECT_ENTERPRISE_MAX 64
#define WN_PROJECT_DESC_MAX 200
#define WN_PROJECT_SIGNED_MAX (1 + 3 + WN_PROJECT_ID_MAX + WN_PROJECT_ENTERPRISE_MAX + WN_PROJECT_DESC_MAX + 16 + 32)

typedef struct {
    char id[WN_PROJECT_ID_MAX + 1];
    char enterprise[WN_PROJECT_ENTERPRISE_MAX + 1];
    char description[WN_PROJECT_DESC_MAX + 1];
    uint64_t investment_fen;
    uint64_t commissioned_ms;
    uint8_t registrar[32];
    uint8_t sig[64];
} wn_project;

/* Reads the JSON object (strict: exact members; shape only, not the signature).
 * Returns: 1, or 0 with "member: why" in detail. */
int wn_project_from_cjson(wn_project *p, const cJSON *obj, char *detail, size_t cap);
/* Parses a whole document (a file). Returns: 1, or 0 with detail. */
int wn_project_parse(wn_project *p, const char *text, size_t len, char *detail, size_t cap);
/* The JSON object (members in the documented order), or NULL if out of memory. */
cJSON *wn_project_to_cjson(const wn_project *p);

/* Sets registrar from seckey and signs. Returns: 1 on success, 0 if a field breaks a rule. */
int wn_project_sign(wn_project *p, const uint8_t seckey[32]);
/* Returns: 1 if the fields hold their rules and sig verifies with p->registrar (the caller
 * checks that it is THE registrar). */
int wn_project_verify(const wn_project *p);

#endif
