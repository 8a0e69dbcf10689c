/* util.h — helpers shared by the `wn` subcommands: long-option parsing, strict number and
 * hex-key arguments, whole-file reading and writing, and directories. Every function that
 * can fail prints what went wrong to stderr (prefixed "wn <command>: ") so that commands
 * only decide the exit code (cli/commands.h). */
#ifndef WN_CLI_UTIL_H
#define WN_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* One long option "--name VALUE" / "--name=VALUE" (value != NULL) or "--name" (flag != NULL). */
typedef struct {
    const char *name;   /* without the leading "--" */
    const char **value; /* set to the option's argument; NULL for a flag */
    int *flag;          /* set to 1 when present; NULL for an option with a value */
} wn_cli_opt;

/* Parses argv[1..argc) (argv[0] is the subcommand's name). Non-option arguments go to
 * pos[0..maxpos) (Out: *npos). "--help" or "-h" sets *help and stops. "--" ends options.
 * Returns: 1 on success; 0 after printing the problem and a hint to use --help. */
int wn_cli_parse(int argc, char **argv, const wn_cli_opt *opts, size_t nopts, const char **pos, size_t maxpos,
                 size_t *npos, int *help);

/* Prints "wn <cmd>: <message>" to stderr. */
void wn_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses a decimal integer without sign or leading zeros that fits u64.
 * Returns: 1 on success; 0 (after printing an error naming option) otherwise. */
int wn_cli_u64(const char *cmd, const char *option, const char *s, uint64_t *out);

/* Parses a 32-byte key given as 64 hex characters (either case).
 * Returns: 1 on success; 0 after printing an error naming option. */
int wn_cli_hex32(const char *cmd, const char *option, const char *s, uint8_t out[32]);

/* Reads a whole file of at most max bytes into a malloc'd NUL-terminated buffer.
 * Out: *len. Returns: the buffer, or NULL after printing why. */
char *wn_cli_read_file(const char *cmd, const char *path, size_t max, size_t *len);

/* Writes data to path (created or replaced, mode 0644) or to stdout if path is NULL.
 * Returns: 1 on success; 0 after printing why. */
int wn_cli_write_file(const char *cmd, const char *path, const void *data, size_t len);

/* Creates dir and any missing parents (mode 0755). Returns: 1, or 0 with errno set. */
int wn_cli_mkdirs(const char *dir);

/* Returns: 1 if dir does not exist or is an empty directory; 0 otherwise. */
int wn_cli_dir_absent_or_empty(const char *dir);

#endif
