/* calibrations.h — meter calibration records on the node (docs/PROTOCOL.md §5 "Meter
 * calibration", §9): POST /v1/calibrations (the registrar registers a meter's 检定/校准
 * certificate and its validity; re-calibration is a new record) and
 * GET /v1/calibrations/bundle?meter=HEX (every record of the meter, each with its inclusion
 * proof against the latest checkpoint: the evidence an offline evaluator needs). The records
 * are kept with the certificates' state (certs_state.h). */
#ifndef WN_NODE_CALIBRATIONS_H
#define WN_NODE_CALIBRATIONS_H

#include <stddef.h>

#include "node/http/reply.h"

struct wn_node;

#define WN_CAL_BUNDLE_FORMAT "waternotary/calibration-bundle@v1"

void wn_calibrations_post(struct wn_node *n, const char *content_type, const char *body, size_t len, wn_response *out);
void wn_calibrations_bundle(struct wn_node *n, const char *meter_hex, wn_response *out);

#endif
