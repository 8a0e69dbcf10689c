/* nodekey.c — the notary key to verify with: pinned, or trust on first use (see nodekey.h). */
#include "cli/nodekey.h"
#include "cli/commands.h"
#include "cli/net.h"
#include "cli/util.h"
#include "crypto/encoding.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int wn_cli_notary_key(const char *cmd, const char *node, const char *pub_hex, uint8_t pk[32], int *pinned)
{
    *pinned = pub_hex != NULL;
    if (pub_hex) return wn_cli_hex32(cmd, "notary-pub", pub_hex, pk) ? WN_EXIT_OK : WN_EXIT_USAGE;
    wn_cli_resp r;
    if (!wn_cli_http(cmd, node, "GET", "/v1/pubkey", NULL, &r)) {
        free(r.body);
        return WN_EXIT_NETWORK;
    }
    cJSON *j = r.status == 200 ? cJSON_ParseWithLength(r.body, r.len) : NULL;
    const cJSON *n = j ? cJSON_GetObjectItemCaseSensitive(j, "notary") : NULL;
    int ok = cJSON_IsString(n) && wn_hex_decode(pk, 32, n->valuestring, strlen(n->valuestring));
    if (ok)
        fprintf(stderr, "wn %s: trust on first use: verifying with the notary key the node reports (%s);\n"
                        "       pin it with --notary-pub to notice if it ever changes\n", cmd, n->valuestring);
    else
        wn_cli_error(cmd, "GET /v1/pubkey answered HTTP %ld without a notary key: %.200s", r.status, r.body);
    cJSON_Delete(j);
    free(r.body);
    return ok ? WN_EXIT_OK : WN_EXIT_NETWORK;
}
