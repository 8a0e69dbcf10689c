/* web.c — the monitoring page's static files (GET /ui/FILE from the --web directory):
 * plain HTML, JS and CSS written for this node, and Apache ECharts as installed by
 * scripts/install-deps.sh under web/vendor/node_modules (nothing is fetched at run time).
 * The files hold no data (the page asks /v1/monitor/... with its token), so they are
 * public. "/" and "/ui" lead to /ui/. */
#include "node/http/web.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/http/errors.h"

#define WEB_FILE_MAX (8u << 20)

static const char redirect[] =
    "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0; url=/ui/\">"
    "<title>WaterNotary</title><a href=\"/ui/\">/ui/</a>\n";

static const char *type_of(const char *f)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},   {".json", "application/json"},
        {".svg", "image/svg+xml"},             {".png", "image/png"},
        {".ico", "image/x-icon"},
    };
    const char *dot = strrchr(f, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0) return types[i].type;
    return NULL;
}

int wn_web_default_dir(char *out, size_t cap)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            slash = strrchr(exe, '/');
            if (slash) {
                *slash = '\0'; /* bin/wn-node -> the repository */
                /* a build tree (bin/wn-node -> web/), then an installation (usr/bin/wn-node ->
                 * usr/share/waternotary/web/, as the Debian package lays it out) */
                static const char *const rel[] = {"web", "share/waternotary/web"};
                for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
                    struct stat st;
                    if (snprintf(out, cap, "%s/%s/index.html", exe, rel[i]) < (int)cap && stat(out, &st) == 0) {
                        snprintf(out, cap, "%s/%s", exe, rel[i]);
                        return 1;
                    }
                }
            }
        }
    }
    snprintf(out, cap, "web");
    return 0;
}

void wn_web_serve(const char *dir, const char *file, wn_response *out)
{
    if (!*file) {
        out->status = 200;
        out->type = "text/html; charset=utf-8";
        out->body = strdup(redirect);
        out->len = out->body ? strlen(out->body) : 0;
        if (!out->body) wn_reply_error(out, WN_NE_INTERNAL, "out of memory");
        return;
    }
    const char *type = type_of(file);
    char path[4300];
    if (!type || snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path) {
        wn_reply_error(out, WN_NE_NOT_FOUND, "no such file");
        return;
    }
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > WEB_FILE_MAX) {
        if (f) fclose(f);
        wn_reply_error(out, WN_NE_NOT_FOUND,
                       strstr(file, "vendor/") == file ? "not installed: run scripts/install-deps.sh (npm install of echarts)"
                                                        : "no such file");
        return;
    }
    size_t len = (size_t)st.st_size;
    char *body = malloc(len + 1);
    if (!body || fread(body, 1, len, f) != len) {
        free(body);
        fclose(f);
        wn_reply_error(out, WN_NE_INTERNAL, "cannot read the file");
        return;
    }
    fclose(f);
    body[len] = '\0';
    out->status = 200;
    out->type = type;
    out->body = body;
    out->len = len;
    out->cache = strstr(file, "vendor/") == file ? "public, max-age=86400" : "no-cache";
}
