/* monnode.h — a real wn-node for the monitoring tests of test_monitor_restart.c and
 * test_monitor_alerts.c: a scratch directory, a registrar key, a tokens file with one
 * bureau token, start/stop, and GET answers parsed with every JSON number kept as the
 * string the node wrote (so exact decimal volumes are compared as text, never as
 * floats). Also exact decimal arithmetic in 10^-12 m3, written as §18 writes volumes.
 * Nothing here asserts: functions return 0 / NULL and the test decides. */
#ifndef WN_TEST_MONNODE_H
#define WN_TEST_MONNODE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/support/nodeproc.h"

#define WN_MN_BUREAU "bureau-token-monnode-0123456789"

typedef struct {
    char *tmp;
    wn_test_node node;
    uint8_t reg_sk[32], reg_pk[32];
} wn_mn;

/* A scratch directory, a registrar key and a tokens file. Returns: 1 on success. */
int wn_mn_init(wn_mn *s, const char *tag);
/* Starts wn-node on s's data directory (--registrar, --tokens, extra args may be NULL).
 * Returns: 1 when it listens. */
int wn_mn_start(wn_mn *s, const char *const *extra);
/* Kills the node (if running) and removes the directory (unless WN_TEST_KEEP is set). */
void wn_mn_free(wn_mn *s);

/* A JSON text with every number token turned into a string holding the same characters. */
char *wn_mn_numbers_as_strings(const char *json);

/* GET path with the bureau token. Out: *status. Returns: the parsed answer with numbers as
 * strings (cJSON_Delete it), or NULL if there was no answer or it is not JSON. */
cJSON *wn_mn_get(wn_mn *s, const char *path, long *status);

/* "123.456" -> 10^-12 units. Returns: 1 if s is a plain decimal of at most 12 fraction digits. */
int wn_mn_dec_parse(const char *s, __int128 *out);
/* v in 10^-12 units as §18 writes volumes: "12.5", "0", "-0.001". out >= 48. */
void wn_mn_dec_format(char *out, __int128 v);

/* The member k of o as a string (numbers are strings after wn_mn_get), or NULL. */
const char *wn_mn_str(const cJSON *o, const char *k);

#endif
