/* config_file.h — wn-node --config FILE: a configuration file of "key = value" lines whose
 * keys are the program's long option names, turned into the same "--key=value" arguments
 * the command line takes (so every option, including ones added later, works in the file
 * without a line of code here). Command-line flags come after the file's and override it. */
#ifndef WN_NODE_CONFIG_FILE_H
#define WN_NODE_CONFIG_FILE_H

#include <getopt.h>
#include <stddef.h>

/* Largest configuration file and line read. */
#define WN_CONFIG_MAX_BYTES (1u << 20)
#define WN_CONFIG_MAX_LINE 4096u

/* Builds the argument vector getopt_long then parses: argv[0], the options of the file named
 * by "--config FILE" or "--config=FILE" (if any; at most one) in file order, then argv[1..]
 * without the --config option. Without --config, a copy of argv.
 *
 * File syntax: one "key = value" per line (spaces around '=' optional); blank lines and lines
 * whose first non-blank character is '#' are ignored; key is a long option of opts other than
 * "config" and "help"; value is the rest of the line with surrounding blanks removed (no
 * quoting; '#' inside a value is part of it). An option taking no argument is written
 * "key = true" (or yes/1; false/no/0 leaves it out). Unknown keys, a missing '=', a missing
 * value, a key given twice, an unreadable or oversized file, or a line longer than
 * WN_CONFIG_MAX_LINE are errors: err says which, with "FILE:LINE:".
 *
 * Returns: 1 on success, 0 on error (err filled; *out_argv NULL).
 * Out:     out_argc, out_argv (NULL-terminated; free with wn_config_free_argv). */
int wn_config_merge_argv(int argc, char *const *argv, const struct option *opts, int *out_argc, char ***out_argv,
                         char *err, size_t errlen);

void wn_config_free_argv(int argc, char **argv);

#endif
