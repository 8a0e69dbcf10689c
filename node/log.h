/* log.h — the node's event log: one line per event on stderr, prefixed with the UTC time,
 * rate-limited per message kind and in all (log.c says the budgets); what is dropped is
 * counted and summarised. */
#ifndef WN_NODE_LOG_H
#define WN_NODE_LOG_H

#include <stdarg.h>
#include <stdint.h>

/* Writes "<RFC 3339 time> wn-node: <message>\n" to stderr as one write, unless the
 * message's kind (its format string) or the log as a whole is over its budget. */
void wn_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with an explicit kind: any pointer that stays the same for one kind of message
 * (for messages whose format is not a literal of ours, e.g. libmicrohttpd's). */
void wn_logv_kind(const void *kind, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Writes one line counting the messages suppressed since the last call, if any. */
void wn_log_flush(void);

/* Wall-clock milliseconds since 1970 and monotonic milliseconds. */
uint64_t wn_now_ms(void);
uint64_t wn_mono_ms(void);

#endif
