/* log.h — the node's event log: one line per event on stderr, prefixed with the UTC time. */
#ifndef WN_NODE_LOG_H
#define WN_NODE_LOG_H

#include <stdint.h>

/* Writes "<RFC 3339 time> wn-node: <message>\n" to stderr as one write. */
void wn_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Wall-clock milliseconds since 1970 and monotonic milliseconds. */
uint64_t wn_now_ms(void);
uint64_t wn_mono_ms(void);

#endif
