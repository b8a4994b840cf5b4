import type { DeidMethod, DeidPreset, DeidRule, GeneralizeTarget } from './rules.js';

/*
 * The HL7 v2 side of the presets, as rules in the same form a rules file uses, so a feed's file
 * overrides them field by field. Positions are HL7 v2.5.1 plus the fields v2.7 added. Segments
 * about people and query parameters are allow-lists ending in `SEG-*` redact; in other segments
 * (orders, results, visits) a field no rule names is kept. The FHIR side of the presets is the
 * element walk in `transforms/fhir/deid-element.ts`; see docs/deidentification.md for both,
 * identifier by identifier.
 */

const KEEP: DeidMethod = { method: 'keep' };
const REDACT: DeidMethod = { method: 'redact' };
const SHIFT: DeidMethod = { method: 'dateShift' };
const SCRUB: DeidMethod = { method: 'scrub' };
const PATIENT_ID: DeidMethod = { method: 'cryptoHash', namespace: 'patient-id', part: 'id' };
const ACCOUNT: DeidMethod = { method: 'cryptoHash', namespace: 'account', part: 'id' };
const VISIT: DeidMethod = { method: 'cryptoHash', namespace: 'visit', part: 'id' };
const OTHER_ID: DeidMethod = { method: 'cryptoHash', namespace: 'other', part: 'id' };
const OTHER_WHOLE: DeidMethod = { method: 'cryptoHash', namespace: 'other' };
const MESSAGE_ID: DeidMethod = { method: 'cryptoHash', namespace: 'message' };
const generalize = (to: GeneralizeTarget): DeidMethod => ({ method: 'generalize', to });
const ADDRESS = generalize('address-state');
const BIRTH = generalize('birth-year');
const YEAR = generalize('year');

function fields(segment: string, positions: number[], method: DeidMethod): DeidRule[] {
  return positions.map((position) => ({ path: `${segment}-${position}`, ...method }));
}

/**
 * An allow-list for a segment that describes a person or carries query parameters: each field
 * named gets its method (`keep` included), and every other field is redacted, so a field nobody
 * decided on, or one a later HL7 version adds, never passes as sent.
 */
function allowList(segment: string, decided: ReadonlyArray<[number[], DeidMethod]>): DeidRule[] {
  const named = decided.flatMap(([positions, method]) => fields(segment, positions, method));
  return [...named, { path: `${segment}-*`, ...REDACT }];
}

/*
 * Segments about the patient and the people around them (relatives, guarantor, insured,
 * consenter). Positions are HL7 v2.5.1 with the fields v2.7 added; anything else in these
 * segments is redacted. Kept: set ids, codes and flags (sex, race, ethnicity, language, marital
 * status, religion, citizenship, relationship, living and employment status), organisations and
 * staff (facility, primary care provider, insurer), amounts. Not named, so redacted: names,
 * phones, SSNs, licences, birth places, employers, free text with no scrub rule.
 */
const PEOPLE_HL7: readonly DeidRule[] = [
  // PID-2/3/4 patient ids and PID-21 mother's id share a namespace, so the same MRN matches.
  ...allowList('PID', [
    [[1, 8, 10, 15, 16, 17, 22, 24, 25, 26, 27, 28, 30, 31, 32, 34, 35, 36, 38, 39], KEEP],
    [[2, 3, 4, 21], PATIENT_ID],
    [[18], ACCOUNT],
    [[11], ADDRESS],
    [[7], BIRTH],
    [[29], YEAR],
    [[33], SHIFT],
  ]),
  // PD1-4 is the primary care provider, staff; PD1-14 (place of worship) is not kept.
  ...allowList('PD1', [
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 15, 16, 19, 20, 21], KEEP],
    [[10], PATIENT_ID],
    [[13, 17, 18, 22], SHIFT],
  ]),
  // Prior ids use the same namespaces as PID and PV1, so a merge points at the same pseudonyms.
  ...allowList('MRG', [
    [[1, 2, 4], PATIENT_ID],
    [[3], ACCOUNT],
    [[5, 6], VISIT],
  ]),
  ...allowList('NK1', [
    [[1, 3, 7, 11, 14, 15, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 29, 34, 35, 36, 39], KEEP],
    [[12, 33], OTHER_ID],
    [[4, 32], ADDRESS],
    [[16], BIRTH],
    [[8, 9], SHIFT],
    [[10], SCRUB],
  ]),
  // The guarantor is often the patient (GT1-11 `SEL`) or a relative: GT1-24 is then the
  // patient's own date of death, so it gets the rule of PID-29.
  ...allowList('GT1', [
    [[1, 9, 10, 11, 15, 20, 22, 23, 25, 26, 27, 28, 30, 33, 34, 35, 36, 37, 38, 39, 40], KEEP],
    [[41, 43, 44, 47, 48, 50, 52, 53, 54, 55, 57], KEEP],
    [[2, 19, 29], OTHER_ID],
    [[5, 17], ADDRESS],
    [[8], BIRTH],
    [[24], YEAR],
    [[13, 14, 31, 32], SHIFT],
    [[49], SCRUB],
  ]),
  // The insurer (IN1-3 to IN1-7) and its staff stay; the insured is often the patient.
  ...allowList('IN1', [
    [[1, 2, 3, 4, 5, 6, 7, 15, 17, 20, 21, 22, 23, 25, 27, 30, 31, 32, 33, 34, 35], KEEP],
    [[37, 38, 39, 40, 41, 42, 43, 45, 46, 47, 48, 50, 53, 55], KEEP],
    [[8, 28, 36], OTHER_WHOLE],
    [[14, 49, 54], OTHER_ID],
    [[19, 44], ADDRESS],
    [[18], BIRTH],
    [[12, 13, 24, 26, 29, 51], SHIFT],
  ]),
  ...allowList('IN2', [
    [[4, 5, 11, 14, 15, 16, 18, 19, 20, 21, 24, 25, 27, 28, 29, 30, 31, 32, 33, 34, 35], KEEP],
    [
      [36, 37, 38, 39, 41, 42, 43, 47, 48, 51, 54, 57, 58, 59, 60, 62, 65, 66, 67, 68, 71, 72],
      KEEP,
    ],
    [[26, 61], OTHER_ID],
    [[17, 44, 45, 55, 56], SHIFT],
    [[46], SCRUB],
  ]),
  // Certification: the reviewers (XCN) are staff; the contact and case manager, written as
  // plain text, are not kept.
  ...allowList('IN3', [
    [[1, 3, 4, 5, 8, 11, 12, 14, 17, 18, 19, 23, 24, 25], KEEP],
    [[2], OTHER_ID],
    [[6, 7, 9, 10, 13, 22], SHIFT],
  ]),
  // CTD-1 says whose contact this is: an emergency contact or next of kin is a relative.
  ...allowList('CTD', [
    [[1, 4, 6], KEEP],
    [[3], ADDRESS],
  ]),
  // DB1-3 is the disabled person's id: the patient's MRN when DB1-2 says PT.
  ...allowList('DB1', [
    [[1, 2, 4], KEEP],
    [[3], PATIENT_ID],
    [[5, 6, 7, 8], SHIFT],
  ]),
  // CON-24 names whoever consented, the patient or a relative.
  ...allowList('CON', [
    [[1, 2, 3, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23, 25], KEEP],
    [[4], OTHER_ID],
    [[5, 6, 7, 8, 9], SCRUB],
    [[12, 13, 14, 15], SHIFT],
  ]),
  // IAM-14 names who reported the reaction, often a relative; IAM-18 onwards are staff.
  ...allowList('IAM', [
    [[1, 2, 3, 4, 6, 9, 10, 15, 16, 17, 18, 19, 21, 23, 25, 27, 28, 29, 30], KEEP],
    [[7], OTHER_ID],
    [[5, 8, 12], SCRUB],
    [[11, 13, 20, 22, 24, 26], SHIFT],
  ]),
  // ACC-9 (brought in by) names a person; ACC-11 is where it happened.
  ...allowList('ACC', [
    [[2, 4, 5, 6, 7, 10, 12], KEEP],
    [[1], SHIFT],
    [[8], SCRUB],
    [[11], ADDRESS],
  ]),
  // Occupational data (v2.8.2): OH1 and OH3 are codes, dates and ids; OH2 (employer, its
  // address, job duties) and OH4 keep only their set id and action code.
  ...allowList('OH1', [
    [[1, 2, 3], KEEP],
    [[4, 5, 6], SHIFT],
    [[7], OTHER_ID],
  ]),
  ...allowList('OH2', [[[1, 2], KEEP]]),
  // OH3-6 is a start year, which Safe Harbor allows.
  ...allowList('OH3', [
    [[1, 2, 3, 4, 5, 6], KEEP],
    [[7], SHIFT],
    [[8], OTHER_ID],
  ]),
  ...allowList('OH4', [[[1, 2], KEEP]]),
  // Participants are staff, organisations and devices; a device's id is a Safe Harbor
  // identifier, and the UDI, serial and lot fields v2.8.2 added are redacted.
  ...allowList('PRT', [
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15], KEEP],
    [[10], OTHER_ID],
    [[11, 12], SHIFT],
  ]),
];

/*
 * Query segments carry the patient's identifiers as parameters (`@PID.3.1^<MRN>` in ERQ-3,
 * QPD-3 onwards, the who-subject filter QRD-8). The query's name, tag and format are kept;
 * every parameter goes, and RDT rows (a tabular answer) go whole.
 */
const QUERY_HL7: readonly DeidRule[] = [
  // Query tags and ids (QPD-2, ERQ-1, SPR-1, VTQ-1, QRD-4, QAK-1) are unique per query, like
  // MSH-10: pseudonymised in the same namespace, so a query and its response still match.
  ...allowList('QPD', [
    [[1], KEEP],
    [[2], MESSAGE_ID],
  ]),
  ...allowList('ERQ', [
    [[2], KEEP],
    [[1], MESSAGE_ID],
  ]),
  ...allowList('SPR', [
    [[2, 3], KEEP],
    [[1], MESSAGE_ID],
  ]),
  ...allowList('VTQ', [
    [[2, 3, 4], KEEP],
    [[1], MESSAGE_ID],
  ]),
  ...fields('QAK', [1], MESSAGE_ID),
  ...allowList('QRD', [
    [[2, 3, 5, 7, 9, 10, 12], KEEP],
    [[4], MESSAGE_ID],
    [[1, 6], SHIFT],
  ]),
  ...allowList('QRF', [
    [[1, 6, 7, 8, 10], KEEP],
    [[2, 3], SHIFT],
  ]),
  ...allowList('URD', [
    [[2, 4, 5, 6, 7], KEEP],
    [[1], SHIFT],
  ]),
  ...allowList('URS', [
    [[1, 6, 7, 8], KEEP],
    [[2, 3], SHIFT],
  ]),
  { path: 'RDT-*', ...REDACT },
];

// Limitation: outside the allow-listed segments a field no rule names passes as sent; rare
// segments with patient data (CSR study ids and dates, PEO observer, PYE payee) and callback
// phones (ORC-14, OBR-17) have no rules, so a feed that sends them adds its own.
// Limitation: a coded field an allow-list keeps keeps its text components as sent (the text of
// a contact reason, a location's description); a feed that writes names there adds scrub rules.
const SAFE_HARBOR_HL7: readonly DeidRule[] = Object.freeze([
  // The control id is unique per message and could be traced back to the sender's log.
  { path: 'MSH-10', method: 'cryptoHash', namespace: 'message' },
  // The acknowledged message's control id, so an acknowledgement still points at its message.
  ...fields('MSA', [2], MESSAGE_ID),
  ...fields('MSH', [7], SHIFT),
  ...fields('EVN', [2, 3, 6], SHIFT),
  ...PEOPLE_HL7,
  ...QUERY_HL7,
  // Visit numbers; PV1 providers are staff, not the patient, and stay.
  ...fields('PV1', [5, 19, 50], VISIT),
  ...fields('PV1', [54], OTHER_ID),
  ...fields('PV1', [25, 30, 35, 44, 45], SHIFT),
  ...fields('PV2', [8, 9, 14, 17, 26, 28, 29, 33, 46, 47, 48, 50], SHIFT),
  ...fields('PV2', [12], SCRUB),
  // Order and specimen numbers are accession numbers: unique codes that lead back to a patient.
  ...fields('ORC', [2, 3, 4, 33], OTHER_ID),
  ...fields('ORC', [9, 15, 27, 32], SHIFT),
  ...fields('OBR', [2, 3, 53], OTHER_ID),
  ...fields('OBR', [6, 7, 8, 14, 22, 36], SHIFT),
  ...fields('OBR', [13], SCRUB),
  ...fields('SPM', [2, 3, 30, 31], OTHER_ID),
  ...fields('SPM', [17, 18, 19], SHIFT),
  ...fields('TQ1', [7, 8], SHIFT),
  ...fields('RF1', [6, 11], OTHER_ID),
  ...fields('RF1', [7, 8, 9], SHIFT),
  ...fields('FT1', [38, 39], OTHER_ID),
  ...fields('FT1', [4, 5], SHIFT),
  ...fields('RXA', [3, 4, 16, 22], SHIFT),
  ...fields('RXD', [3], SHIFT),
  ...fields('RXE', [18, 32], SHIFT),
  // Where a dispense is delivered to is usually the patient's home.
  ...fields('RXE', [43], ADDRESS),
  ...fields('RXO', [35], ADDRESS),
  ...fields('RXG', [30], ADDRESS),
  ...fields('AIS', [4], SHIFT),
  ...fields('AIG', [8], SHIFT),
  ...fields('AIL', [6], SHIFT),
  ...fields('AIP', [6], SHIFT),
  ...fields('PRB', [2, 7, 8, 9, 15, 16], SHIFT),
  ...fields('GOL', [2, 7, 8, 12, 13, 14, 19], SHIFT),
  ...fields('PTH', [4, 6], SHIFT),
  ...fields('AL1', [6], SHIFT),
  ...fields('AL1', [5], SCRUB),
  ...fields('DG1', [5, 19], SHIFT),
  ...fields('DG1', [4], SCRUB),
  ...fields('PR1', [5], SHIFT),
  ...fields('TXA', [4, 6, 7, 8, 26], SHIFT),
  ...fields('TXA', [12, 13], OTHER_ID),
  // Staff roles keep their people and contacts; when they began and ended is the patient's.
  ...fields('ROL', [5, 6], SHIFT),
  ...fields('PDA', [4, 7], SHIFT),
  ...fields('ARV', [6], SHIFT),
  ...fields('ARV', [5], SCRUB),
  ...fields('OBX', [12, 14, 19], SHIFT),
  // Equipment instance identifiers: device serial numbers and UDIs (Safe Harbor identifier M).
  ...fields('OBX', [18], OTHER_ID),
  // OBX-5 follows its type in OBX-2: free text is scrubbed, dates shifted, documents dropped.
  { path: 'OBX-5 where OBX-2 in (TX, FT, ST)', ...SCRUB },
  { path: 'OBX-5 where OBX-2 in (DT, DTM, TS)', ...SHIFT },
  { path: 'OBX-5 where OBX-2 = ED', method: 'embeddedDocument' },
  // Typed values that are names, contact points, addresses or ids get the rule of their type.
  { path: 'OBX-5 where OBX-2 in (XPN, XTN, PN, TN)', ...REDACT },
  { path: 'OBX-5 where OBX-2 in (XAD, AD)', ...ADDRESS },
  { path: 'OBX-5 where OBX-2 in (CX, EI)', ...OTHER_ID },
  { path: 'NTE-3', ...SCRUB },
  // Acknowledgement and error texts are free text, and can quote the value they refuse.
  ...fields('MSA', [3], SCRUB),
  ...fields('ERR', [7, 8], SCRUB),
  ...fields('NTE', [6, 7, 8], SHIFT),
  // Z-segments are local: nothing says what they hold.
  { path: 'Z*-*', ...REDACT },
]);

/**
 * The preset's HL7 v2 rules, tried after the feed's own.
 *
 * @param preset - the feed's preset
 */
export function hl7PresetRules(preset: DeidPreset): readonly DeidRule[] {
  switch (preset) {
    case 'safe-harbor':
      return SAFE_HARBOR_HL7;
    case 'limited-data-set':
      return LIMITED_DATA_SET_HL7;
    case 'none':
      return [];
  }
}

// A limited data set (45 CFR 164.514(e)) may keep dates, town, state and five-digit ZIP; every
// other direct identifier still goes.
function toLimitedDataSet(rule: DeidRule): DeidRule {
  if (rule.method === 'dateShift') {
    return { path: rule.path, method: 'keep' };
  }
  if (rule.method === 'generalize') {
    if (rule.to === 'address-state') {
      return { path: rule.path, method: 'generalize', to: 'address-town' };
    }
    return { path: rule.path, method: 'keep' };
  }
  return rule;
}

const LIMITED_DATA_SET_HL7: readonly DeidRule[] = Object.freeze(
  SAFE_HARBOR_HL7.map(toLimitedDataSet),
);
