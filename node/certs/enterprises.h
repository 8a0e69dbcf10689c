/* enterprises.h — enterprise and certifier accreditation records on the node (docs/PROTOCOL.md §5 "Enterprises", §9):
 * POST /v1/enterprises (the registrar registers an enterprise or rotates its keys) and
 * GET /v1/enterprises?code=CODE (every record of the code, each with its inclusion proof
 * against the latest checkpoint: the evidence an offline evaluator needs). The records are
 * kept with the certificates' state (certs_state.h), whose decisions read them. */
#ifndef WN_NODE_ENTERPRISES_H
#define WN_NODE_ENTERPRISES_H

#include <stddef.h>

#include "node/http/reply.h"

struct wn_node;

#define WN_ENT_BUNDLE_FORMAT "waternotary/enterprise-bundle@v1"
#define WN_ACC_BUNDLE_FORMAT "waternotary/accreditation-bundle@v1"
#define WN_ENT_BUNDLE_MAX 256 /* records of one code in one answer; more is a 500 */

void wn_enterprises_post(struct wn_node *n, const char *content_type, const char *body, size_t len, wn_response *out);
void wn_enterprises_bundle(struct wn_node *n, const char *code, wn_response *out);
/* POST /v1/accreditations and GET /v1/accreditations/bundle?code=CODE: the same for
 * certifier accreditation records (protocol/accreditation.h). */
void wn_accreditations_post(struct wn_node *n, const char *content_type, const char *body, size_t len, wn_response *out);
void wn_accreditations_bundle(struct wn_node *n, const char *code, wn_response *out);

#endif
