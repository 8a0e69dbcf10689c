/* enterprise.h — registering enterprise, accreditation and calibration records at a test node. */
#ifndef WN_TEST_ENTERPRISE_H
#define WN_TEST_ENTERPRISE_H

#include <stddef.h>
#include <stdint.h>

/* Signs an enterprise record of code (sequence seq, the x-only keys of the secret keys
 * sks[0..n)) with reg_sk and POSTs it to url/v1/enterprises. Out: the answer's body (cap
 * bytes, may be NULL). Returns: the HTTP status (0: no answer or the record would not sign). */
unsigned wn_test_enterprise_post(const char *url, const uint8_t reg_sk[32], const char *code, uint64_t seq,
                                 const uint8_t (*sks)[32], size_t n, char *body, size_t cap);

/* The same for a certifier accreditation record (protocol/accreditation.h) of code with
 * scope `scope` (one name), valid [from_ms, to_ms), POSTed to url/v1/accreditations. */
unsigned wn_test_accreditation_post(const char *url, const uint8_t reg_sk[32], const char *code, uint64_t seq,
                                    const uint8_t (*sks)[32], size_t n, const char *scope, uint64_t from_ms,
                                    uint64_t to_ms, char *body, size_t cap);

/* Signs a meter calibration record (protocol/calibration.h) of meter with certificate
 * `reference`, valid [from_ms, until_ms), with reg_sk and POSTs it to url/v1/calibrations. */
unsigned wn_test_calibration_post(const char *url, const uint8_t reg_sk[32], const uint8_t meter[32],
                                  const char *reference, uint64_t from_ms, uint64_t until_ms, char *body, size_t cap);

/* The validity the fixtures calibrate every meter for: 2024-01-01 to 2027-01-01. */
#define WN_TEST_CAL_FROM 1704067200000ULL
#define WN_TEST_CAL_UNTIL 1798761600000ULL

/* The testing body of the tests: its credit code and its name. */
#define WN_TEST_CERTIFIER_CODE "91330100MA27C0000P"

#endif
