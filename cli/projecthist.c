/* projecthist.c — a project's certificate history, from a node or a file (projecthist.h). */
#include "cli/projecthist.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/net.h"
#include "cli/util.h"
#include "protocol/certificate.h"

int wn_project_history_parse(const char *cmd, const char *text, size_t len, const char *name, const char *project,
                             wn_eval_prior **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    cJSON *j = cJSON_ParseWithLength(text, len);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "project");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "certificates");
    int rc = WN_EXIT_OK;
    if (!cJSON_IsObject(j) || !cJSON_IsString(p) || !cJSON_IsArray(a)) {
        wn_cli_error(cmd, "%s: not a project's certificates ({\"project\":...,\"certificates\":[...]})", name);
        rc = WN_EXIT_INVALID;
    } else if (strcmp(p->valuestring, project) != 0) {
        wn_cli_error(cmd, "%s: the certificates of project \"%s\", not of the claim's \"%s\"", name, p->valuestring,
                     project);
        rc = WN_EXIT_INVALID;
    }
    size_t cap = rc == WN_EXIT_OK ? (size_t)cJSON_GetArraySize(a) : 0;
    wn_eval_prior *v = cap ? calloc(cap, sizeof *v) : NULL;
    if (cap && !v) {
        wn_cli_error(cmd, "out of memory");
        rc = WN_EXIT_USAGE;
    }
    size_t k = 0;
    for (const cJSON *e = rc == WN_EXIT_OK ? a->child : NULL; e; e = e->next, k++) {
        const cJSON *ix = cJSON_GetObjectItemCaseSensitive(e, "index");
        char detail[256] = "";
        int ok = cJSON_IsNumber(ix) && ix->valuedouble >= 0 && ix->valuedouble <= (double)WN_CERT_MAX_AMOUNT &&
                 ix->valuedouble == (double)(uint64_t)ix->valuedouble;
        if (ok) v[k].index = (uint64_t)ix->valuedouble;
        if (ok && wn_certificate_from_cjson(&v[k].c, cJSON_GetObjectItemCaseSensitive(e, "certificate"), detail,
                                            sizeof detail) != WN_CERT_OK)
            ok = 0;
        if (ok && wn_certificate_verify(&v[k].c) != WN_CERT_OK) snprintf(detail, sizeof detail, "the authority's signature does not verify"), ok = 0;
        if (ok && strcmp(v[k].c.project, project) != 0) snprintf(detail, sizeof detail, "it names another project"), ok = 0;
        if (!ok) {
            wn_cli_error(cmd, "%s: certificate %zu is not valid: %s", name, k, detail[0] ? detail : "no index");
            rc = WN_EXIT_INVALID;
            break;
        }
    }
    cJSON_Delete(j);
    if (rc != WN_EXIT_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *n = k;
    return WN_EXIT_OK;
}

int wn_project_history_file(const char *cmd, const char *path, const char *project, wn_eval_prior **out, size_t *n)
{
    size_t len;
    char *text = wn_cli_read_file(cmd, path, WN_PROJECT_HISTORY_MAX, &len);
    if (!text) return WN_EXIT_USAGE;
    int rc = wn_project_history_parse(cmd, text, len, path, project, out, n);
    free(text);
    return rc;
}

int wn_project_history_fetch(const char *cmd, const char *node, const char *project, wn_eval_prior **out, size_t *n,
                             char **raw, size_t *rawlen)
{
    static const char hexd[] = "0123456789ABCDEF";
    char path[64 + 3 * 256];
    size_t k = (size_t)snprintf(path, sizeof path, "/v1/project/certificates?id=");
    for (const unsigned char *s = (const unsigned char *)project; *s && k + 4 < sizeof path; s++) {
        if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr("-._~", *s)) {
            path[k++] = (char)*s;
        } else {
            path[k++] = '%';
            path[k++] = hexd[*s >> 4];
            path[k++] = hexd[*s & 15];
        }
    }
    path[k] = '\0';
    if (raw) *raw = NULL;
    wn_cli_resp r;
    if (!wn_cli_http(cmd, node, "GET", path, NULL, &r)) {
        free(r.body);
        return WN_EXIT_NETWORK;
    }
    int rc;
    if (r.status != 200) {
        char msg[512];
        wn_cli_error(cmd, "the node did not give the project's certificates: %s", wn_cli_node_error(&r, msg, sizeof msg));
        rc = WN_EXIT_NETWORK;
    } else {
        rc = wn_project_history_parse(cmd, r.body, r.len, node, project, out, n);
    }
    if (rc == WN_EXIT_OK && raw) {
        *raw = r.body;
        *rawlen = r.len;
    } else {
        free(r.body);
    }
    return rc;
}
