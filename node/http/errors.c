/* errors.c — the table of the node's error codes and their HTTP statuses (PROTOCOL §9). */
#include "node/http/errors.h"

static const struct {
    const char *code;
    unsigned status;
} table[WN_NE_COUNT] = {
    [WN_NE_OK] = {"ok", 200},
    [WN_NE_MALFORMED_JSON] = {"malformed_json", 400},
    [WN_NE_MALFORMED_READING] = {"malformed_reading", 400},
    [WN_NE_MALFORMED_RECORD] = {"malformed_record", 400},
    [WN_NE_BAD_REQUEST] = {"bad_request", 400},
    [WN_NE_BODY_TOO_LARGE] = {"body_too_large", 413},
    [WN_NE_UNSUPPORTED_MEDIA] = {"unsupported_media_type", 415},
    [WN_NE_UNKNOWN_METER] = {"unknown_meter", 403},
    [WN_NE_REVOKED_METER] = {"revoked_meter", 403},
    [WN_NE_BAD_SIGNATURE] = {"bad_signature", 400},
    [WN_NE_BAD_REGISTRAR_SIG] = {"bad_registrar_signature", 403},
    [WN_NE_REPLAY] = {"replay", 200},
    [WN_NE_EQUIVOCATION] = {"equivocation", 409},
    [WN_NE_SEQUENCE_GAP] = {"sequence_gap", 409},
    [WN_NE_CHAIN_MISMATCH] = {"chain_mismatch", 409},
    [WN_NE_TIME_TRAVEL] = {"time_travel", 422},
    [WN_NE_FUTURE_TIME] = {"future_time", 422},
    [WN_NE_BEFORE_ENROLMENT] = {"before_enrolment", 422},
    [WN_NE_VOLUME_DECREASED] = {"volume_decreased", 422},
    [WN_NE_OUT_OF_RANGE] = {"out_of_range", 422},
    [WN_NE_ALREADY_ENROLLED] = {"already_enrolled", 409},
    [WN_NE_ALREADY_REVOKED] = {"already_revoked", 409},
    [WN_NE_NOT_FOUND] = {"not_found", 404},
    [WN_NE_NOT_CHECKPOINTED] = {"not_checkpointed", 404},
    [WN_NE_METHOD_NOT_ALLOWED] = {"method_not_allowed", 405},
    [WN_NE_INTERNAL] = {"internal", 500},
    [WN_NE_BAD_AUTHORITY_SIG] = {"bad_authority_signature", 403},
    [WN_NE_UNKNOWN_CHECKPOINT] = {"unknown_checkpoint", 422},
    [WN_NE_DOUBLE_COUNTING] = {"double_counting", 409},
    [WN_NE_UNKNOWN_CERTIFICATE] = {"unknown_certificate", 404},
    [WN_NE_STALE_OPERATION] = {"stale_operation", 409},
    [WN_NE_NOT_TRANSFERABLE] = {"not_transferable", 409},
    [WN_NE_NOT_HOLDER] = {"not_holder", 403},
    [WN_NE_INSUFFICIENT_BALANCE] = {"insufficient_balance", 409},
    [WN_NE_PROJECT_SUBSIDISED] = {"project_already_subsidised", 409},
    [WN_NE_OUTSIDE_TERM] = {"outside_term", 422},
    [WN_NE_UNAUTHORIZED] = {"unauthorized", 401},
    [WN_NE_FORBIDDEN] = {"forbidden", 403},
    [WN_NE_ALREADY_ACKED] = {"already_acknowledged", 409},
    [WN_NE_OVERLOADED] = {"overloaded", 503},
    [WN_NE_NOT_A_METER] = {"not_a_meter", 403},
    [WN_NE_KEY_NOT_ENTERPRISE] = {"key_not_enterprise", 403},
    [WN_NE_METER_ENTERPRISE] = {"meter_enterprise", 403},
    [WN_NE_STALE_RECORD] = {"stale_record", 409},
    [WN_NE_KEY_IN_USE] = {"key_in_use", 409},
};

const char *wn_nerr_code(int err)
{
    return err >= 0 && err < WN_NE_COUNT ? table[err].code : "internal";
}

unsigned wn_nerr_status(int err)
{
    return err >= 0 && err < WN_NE_COUNT ? table[err].status : 500;
}
