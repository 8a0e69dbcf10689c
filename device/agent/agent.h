/* agent.h — wn-meter's subcommands (each int cmd(argc, argv) with argv[0] its name) and
 * the helpers they share. Exit codes are the WN_PUSH_* codes of push.h:
 * 0 success, 1 a reading was rejected or a receipt did not verify, 2 usage or local
 * state error, 3 the node could not be reached or answered out of protocol. */
#ifndef WN_AGENT_AGENT_H
#define WN_AGENT_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/enrolment.h"
#include "device/agent/http.h"

int wn_agent_cmd_init(int argc, char **argv);     /* cmd_meter.c */
int wn_agent_cmd_read(int argc, char **argv);     /* cmd_meter.c */
int wn_agent_cmd_status(int argc, char **argv);   /* cmd_meter.c */
int wn_agent_cmd_push(int argc, char **argv);     /* cmd_push.c */
int wn_agent_cmd_enrol(int argc, char **argv);    /* cmd_push.c */
int wn_agent_cmd_simulate(int argc, char **argv); /* simulate.c */
int wn_agent_cmd_bridge(int argc, char **argv);   /* bridge.c */

/* The notary's x-only key: from hex (if not NULL), else from dir/notary.pub (pinned on
 * first use), else fetched from GET /v1/pubkey (h may be NULL if not needed). A key that
 * differs from the pinned one is an error. If the key was fetched, registrar (may be
 * NULL) receives the node's registrar key and *have_registrar is set.
 * Returns: 0 or an exit code, after printing why. */
int wn_agent_notary_key(wn_http *h, const char *hex, const char *dir, uint8_t out[32],
                        uint8_t registrar[32], int *have_registrar);

/* Signs e with the registrar key and POSTs it to /v1/enrolments. An already_enrolled
 * answer is success. Returns: 0 or an exit code, after printing why. */
int wn_agent_enrol(wn_http *h, wn_enrolment *e, const uint8_t registrar_sk[32], const char *label);

/* Parses an unsigned decimal (whole string). Returns: 1 on success. */
int wn_agent_parse_u64(const char *s, uint64_t *out);

/* Parses a time: RFC 3339 as in PROTOCOL.md, or milliseconds since the epoch. */
int wn_agent_parse_time(const char *s, uint64_t *ms);

/* The current time in milliseconds since the epoch. */
uint64_t wn_agent_now_ms(void);

#endif
