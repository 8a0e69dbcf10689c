/* projecthist.h — a project's certificate history for the evaluator (docs/PROTOCOL.md §16,
 * "Projects"; §17): the answer of GET /v1/project/certificates?id=ID, fetched from a node
 * or read from a file saved earlier (`wn cert project`), parsed by the same code either way
 * so the evaluation is the same byte for byte. Every certificate in it must verify with
 * its authority key and name the project asked for; anything else refuses the whole file.
 *
 * What this cannot prove: that the file lists every certificate of the project (a file can
 * leave one out). The node refuses the second subsidy at registration in any case; a file
 * is how an offline reader learns the history, as current as the day it was saved. */
#ifndef WN_CLI_PROJECTHIST_H
#define WN_CLI_PROJECTHIST_H

#include <stddef.h>

#include "savings/evaluate.h"

#define WN_PROJECT_HISTORY_MAX (8u << 20)

/* Parses text[0..len) (name: for messages) as the history of `project`. Out: *out (malloc'd,
 * free it), *n. Returns: an exit code (WN_EXIT_OK, or WN_EXIT_INVALID after printing why). */
int wn_project_history_parse(const char *cmd, const char *text, size_t len, const char *name, const char *project,
                             wn_eval_prior **out, size_t *n);

/* Reads a file and parses it. */
int wn_project_history_file(const char *cmd, const char *path, const char *project, wn_eval_prior **out, size_t *n);

/* Fetches the history from node (out/n as above); *raw (may be NULL) receives the answer's
 * bytes (malloc'd) for saving. Returns: an exit code. */
int wn_project_history_fetch(const char *cmd, const char *node, const char *project, wn_eval_prior **out, size_t *n,
                             char **raw, size_t *rawlen);

#endif
