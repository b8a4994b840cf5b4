/*
 * An HL7 message's record type names the partition its output goes to and is counted in the
 * manifest, so it is printed by summaries, `batch show` and audit listings. MSH-9 is whatever the
 * sender wrote: only a message code from HL7 table 0076 (or a local `Z..` code), with an
 * optional trigger event shaped as table 0003 writes them (`A01`, `R01`, `PC1`, `PCA`, local
 * `Z..`), is used as it is; anything else, such as a name typed into the wrong field, is counted
 * under `other`.
 */

// HL7 table 0076, message type, v2.1 to v2.9.
const MESSAGE_CODES = new Set(
  (
    'ACK ADR ADT ARD BAR BPS BRP BRT BTS CCF CCI CCM CCQ CCR CCU CNQ CQU CRM CSU DBC DBU DEL ' +
    'DEO DER DFT DOC DPR DRC DRG DSR EAC EAN EAR EDR EHC ERP ESR ESU EQQ INR INU LSR LSU MCF ' +
    'MDM MFD MFK MFN MFQ MFR NMD NMQ NMR OMB OMD OMG OMI OML OMN OMP OMQ OMS OPL OPR OPU ORA ' +
    'ORB ORD ORF ORG ORI ORL ORM ORN ORP ORR ORS ORU ORX OSM OSQ OSR OST OSU OUL PEX PGL PIN ' +
    'PMU PPG PPP PPR PPT PPV PRR PTR QBP QCK QCN QRY QSB QSX QVR RAR RAS RCI RCL RDE RDO RDR ' +
    'RDS RDY REF RER RGR RGV ROC ROD ROR RPA RPI RPL RPR RQA RQC RQI RQP RQQ RRA RRD RRE RRG ' +
    'RRI RRO RSP RTB SCN SDN SDR SIU SLN SLR SMD SPQ SQM SQR SRM SRR SSR SSU STC STI SUR TBR ' +
    'TCR TCU UDM VQQ VXQ VXR VXU VXX'
  ).split(' '),
);

// Table 0003 writes events as a letter and two digits, except the PC events (PC1-PC9, PCA-PCL).
const TRIGGER_SHAPED = /^(?:[A-Z]\d{2}|PC[1-9A-L]|Z[A-Z0-9]{2})$/;

/** The record type of a message whose MSH-9 is not an HL7 message code and trigger. */
export const OTHER_HL7_RECORD_TYPE = 'other';

/**
 * Returns the record type for an HL7 message: its MSH-9 as `type^trigger` when those are HL7
 * codes, else `other`.
 *
 * @param messageType - MSH-9 as `Hl7Message.messageType` gives it (`ADT^A01`, `ACK`)
 */
export function hl7RecordType(messageType: string): string {
  const separator = messageType.indexOf('^');
  const code = separator < 0 ? messageType : messageType.slice(0, separator);
  const trigger = separator < 0 ? undefined : messageType.slice(separator + 1);
  const knownCode = MESSAGE_CODES.has(code) || /^Z[A-Z0-9]{2}$/.test(code);
  const knownTrigger = trigger === undefined || TRIGGER_SHAPED.test(trigger);
  return knownCode && knownTrigger ? messageType : OTHER_HL7_RECORD_TYPE;
}
