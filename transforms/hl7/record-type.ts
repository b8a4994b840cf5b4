/*
 * An HL7 message's record type names the partition its output goes to and is counted in the
 * manifest, so it is printed by summaries, `batch show` and audit listings. MSH-9 is whatever the
 * sender wrote: only a value shaped like an HL7 message code (table 0076: three letters or digits,
 * `ADT`, `ORU`, `ZMF`) with an optional trigger event (table 0003: `A01`, `R01`, `PC1`) is used as
 * it is; anything else, such as a name typed into the wrong field, is counted under `other`.
 */

const CODE_SHAPED = /^[A-Z][A-Z0-9]{2}(?:\^[A-Z][A-Z0-9]{2})?$/;

/** The record type of a message whose MSH-9 does not look like an HL7 code. */
export const OTHER_HL7_RECORD_TYPE = 'other';

/**
 * Returns the record type for an HL7 message: its MSH-9 as `type^trigger` when that is
 * code-shaped, else `other`.
 *
 * @param messageType - MSH-9 as `Hl7Message.messageType` gives it (`ADT^A01`, `ACK`)
 */
export function hl7RecordType(messageType: string): string {
  return CODE_SHAPED.test(messageType) ? messageType : OTHER_HL7_RECORD_TYPE;
}
