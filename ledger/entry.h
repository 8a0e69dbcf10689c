/* entry.h — what a ledger entry is: one type byte, then the payload of that type.
 *
 *   0x01 reading     payload = a Reading v1 in its binary form (protocol/reading.h)
 *   0x02 enrolment   payload = an enrolment record signed by the registrar (node issue)
 *   0x03 revocation  payload = a revocation record signed by the registrar (node issue)
 *   0x04 equivocation evidence
 *                    payload = u64 ledger index of the accepted reading with the same
 *                    (meter, sequence) || the conflicting reading, binary form, whose
 *                    signature the node verified with the meter's enrolled key
 *   0x05 savings certificate   payload = a certificate signed by the evaluating authority
 *   0x06 certificate transfer  payload = a transfer signed by the certificate's holder
 *   0x07 certificate retirement payload = a retirement signed by the holder
 *                    (protocol/certificate.h, docs/PROTOCOL.md §17)
 *   0x08 enterprise record      payload = a record signed by the registrar: an enterprise's
 *                    credit code, name, area and signing keys (protocol/enterprise.h, §5)
 *   0x09 certifier accreditation (reserved: PROTOCOL §5)
 *   0x0A calibration record     (reserved: PROTOCOL §5)
 *
 * The leaf hash of an entry is SHA-256(0x00 || type || payload), per RFC 6962.
 * Unknown types are an error for every reader. See docs/PROTOCOL.md "Ledger entries". */
#ifndef WN_ENTRY_H
#define WN_ENTRY_H

enum wn_entry_type {
    WN_ENTRY_READING = 0x01,
    WN_ENTRY_ENROLMENT = 0x02,
    WN_ENTRY_REVOCATION = 0x03,
    WN_ENTRY_EQUIVOCATION = 0x04,
    WN_ENTRY_CERTIFICATE = 0x05,
    WN_ENTRY_TRANSFER = 0x06,
    WN_ENTRY_RETIREMENT = 0x07,
    WN_ENTRY_ENTERPRISE = 0x08,
    WN_ENTRY_ACCREDITATION = 0x09,
    WN_ENTRY_CALIBRATION = 0x0A
};

#endif
