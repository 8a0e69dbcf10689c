/* errors.h — the node's stable error codes (docs/PROTOCOL.md §9): each has a short code
 * string meant for programs and the HTTP status it is answered with. Everything the node
 * rejects, from a malformed body to an equivocating reading, is one of these. */
#ifndef WN_NODE_ERRORS_H
#define WN_NODE_ERRORS_H

enum wn_nerr {
    WN_NE_OK = 0,
    WN_NE_MALFORMED_JSON,      /* 400 body is not JSON, or not the expected shape */
    WN_NE_MALFORMED_READING,   /* 400 a reading breaks a rule of PROTOCOL §2 (or bad framing) */
    WN_NE_MALFORMED_RECORD,    /* 400 an enrolment/revocation breaks a rule of PROTOCOL §5 */
    WN_NE_BAD_REQUEST,         /* 400 a path segment or query parameter is malformed */
    WN_NE_BODY_TOO_LARGE,      /* 413 body above --max-body */
    WN_NE_UNSUPPORTED_MEDIA,   /* 415 Content-Type neither JSON nor the binary batch type */
    WN_NE_UNKNOWN_METER,       /* 403 meter not enrolled */
    WN_NE_REVOKED_METER,       /* 403 meter revoked */
    WN_NE_BAD_SIGNATURE,       /* 400 reading signature does not verify with the enrolled key */
    WN_NE_BAD_REGISTRAR_SIG,   /* 403 record not signed by the configured registrar */
    WN_NE_REPLAY,              /* 200 identical reading already in the ledger (duplicate) */
    WN_NE_EQUIVOCATION,        /* 409 a different reading with a sequence already used */
    WN_NE_SEQUENCE_GAP,        /* 409 sequence is not last + 1 */
    WN_NE_CHAIN_MISMATCH,      /* 409 previous digest is not the last reading's digest */
    WN_NE_TIME_TRAVEL,         /* 422 time before the previous reading */
    WN_NE_FUTURE_TIME,         /* 422 time more than the skew ahead of the node's clock */
    WN_NE_VOLUME_DECREASED,    /* 422 totaliser went down without the meter-replaced flag */
    WN_NE_OUT_OF_RANGE,        /* 422 a value outside its sane range */
    WN_NE_ALREADY_ENROLLED,    /* 409 meter id enrolled before (revoked ids cannot return) */
    WN_NE_ALREADY_REVOKED,     /* 409 meter already revoked */
    WN_NE_NOT_FOUND,           /* 404 no such path, entry, meter or checkpoint */
    WN_NE_NOT_CHECKPOINTED,    /* 404 no checkpoint covers the entry yet */
    WN_NE_METHOD_NOT_ALLOWED,  /* 405 */
    WN_NE_INTERNAL,            /* 500 the ledger or the node failed; nothing was accepted */
    /* savings certificates (certs.c, PROTOCOL §17) */
    WN_NE_BAD_AUTHORITY_SIG,   /* 403 certificate not signed by the configured authority */
    WN_NE_UNKNOWN_CHECKPOINT,  /* 422 the certificate's checkpoint is not one of this ledger's trees */
    WN_NE_DOUBLE_COUNTING,     /* 409 a certificate already rests on an overlapping (meter, period) */
    WN_NE_UNKNOWN_CERTIFICATE, /* 404 no certificate at that ledger index */
    WN_NE_STALE_OPERATION,     /* 409 the operation number is not the certificate's next */
    WN_NE_NOT_TRANSFERABLE,    /* 409 a subsidy certificate cannot be transferred */
    WN_NE_NOT_HOLDER,          /* 403 the signer holds no volume of the certificate */
    WN_NE_INSUFFICIENT_BALANCE,/* 409 more volume than the signer holds */
    WN_NE_OUTSIDE_TERM,        /* 422 the certificate's term is over, or the time is outside it */
    WN_NE_PROJECT_SUBSIDISED,  /* 409 the project holds as many subsidy certificates as the policy allows */
    /* monitoring (monitor_api.c, access.c, PROTOCOL §18) */
    WN_NE_UNAUTHORIZED,        /* 401 no bearer token, or not a valid one (--tokens) */
    WN_NE_FORBIDDEN,           /* 403 the token may not see this (another enterprise's data) */
    WN_NE_ALREADY_ACKED,       /* 409 the alert was acknowledged before */
    WN_NE_OVERLOADED,          /* 503 too many connections: retry after Retry-After seconds */
    /* access and input (PROTOCOL §9, §18) */
    WN_NE_NOT_A_METER,         /* 403 the key is enrolled, but not at a metering point (a certifier) */
    /* identities (node/certs/enterprises.c, PROTOCOL §5, §17) */
    WN_NE_KEY_NOT_ENTERPRISE,  /* 403 the holder is not a key of the named enterprise's record in force */
    WN_NE_METER_ENTERPRISE,    /* 403 a meter is enrolled for another enterprise than the named one */
    WN_NE_STALE_RECORD,        /* 409 an enterprise record's sequence is not above the latest of its code */
    WN_NE_KEY_IN_USE,          /* 409 a key is in force for another enterprise */
    /* time (PROTOCOL §9) */
    WN_NE_BEFORE_ENROLMENT,    /* 422 a reading dated before its meter's enrolment time */
    WN_NE_COUNT
};

/* The stable code ("sequence_gap", ...); "ok" for WN_NE_OK, "internal" if out of range. */
const char *wn_nerr_code(int err);
/* The HTTP status the error is answered with (200 for WN_NE_OK and WN_NE_REPLAY). */
unsigned wn_nerr_status(int err);

#endif
