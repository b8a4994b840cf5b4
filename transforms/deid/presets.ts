import type { DeidMethod, DeidPreset, DeidRule, GeneralizeTarget } from './rules.js';

/*
 * The HL7 v2 side of the presets, as rules in the same form a rules file uses, so a feed's file
 * overrides them field by field. Positions are HL7 v2.5.1 (plus v2.7 telecom fields). The FHIR
 * side of the presets is the element walk in `transforms/fhir/deid-element.ts`; see
 * docs/deidentification.md for both, identifier by identifier.
 */

const REDACT: DeidMethod = { method: 'redact' };
const SHIFT: DeidMethod = { method: 'dateShift' };
const SCRUB: DeidMethod = { method: 'scrub' };
const PATIENT_ID: DeidMethod = { method: 'cryptoHash', namespace: 'patient-id', part: 'id' };
const ACCOUNT: DeidMethod = { method: 'cryptoHash', namespace: 'account', part: 'id' };
const VISIT: DeidMethod = { method: 'cryptoHash', namespace: 'visit', part: 'id' };
const OTHER_ID: DeidMethod = { method: 'cryptoHash', namespace: 'other', part: 'id' };
const generalize = (to: GeneralizeTarget): DeidMethod => ({ method: 'generalize', to });
const ADDRESS = generalize('address-state');
const BIRTH = generalize('birth-year');
const YEAR = generalize('year');

function fields(segment: string, positions: number[], method: DeidMethod): DeidRule[] {
  return positions.map((position) => ({ path: `${segment}-${position}`, ...method }));
}

const SAFE_HARBOR_HL7: readonly DeidRule[] = Object.freeze([
  // The control id is unique per message and could be traced back to the sender's log.
  { path: 'MSH-10', method: 'cryptoHash', namespace: 'message' },
  ...fields('MSH', [7], SHIFT),
  ...fields('EVN', [2, 3, 6], SHIFT),
  // PID-2/3/4 patient ids and PID-21 mother's id share a namespace, so the same MRN matches.
  ...fields('PID', [2, 3, 4, 21], PATIENT_ID),
  ...fields('PID', [18], ACCOUNT),
  // Names, alias, mother's maiden name, county, phones, SSN, licence, birth place, telecom.
  ...fields('PID', [5, 6, 9, 12, 13, 14, 19, 20, 23, 40], REDACT),
  ...fields('PID', [11], ADDRESS),
  ...fields('PID', [7], BIRTH),
  ...fields('PID', [29], YEAR),
  ...fields('PID', [33], SHIFT),
  ...fields('PD1', [13, 16, 17, 18], SHIFT),
  // Visit numbers; PV1 providers are staff, not the patient, and stay.
  ...fields('PV1', [5, 19, 50], VISIT),
  ...fields('PV1', [44, 45], SHIFT),
  ...fields('PV2', [8, 9, 26, 33], SHIFT),
  ...fields('PV2', [12], SCRUB),
  // Prior ids use the same namespaces as PID and PV1, so a merge points at the same pseudonyms.
  ...fields('MRG', [1, 2, 3], PATIENT_ID),
  ...fields('MRG', [4], ACCOUNT),
  ...fields('MRG', [5, 6], VISIT),
  ...fields('MRG', [7], REDACT),
  // Next of kin: names, phones, organisation, maiden name, SSN, birth place, telecom.
  ...fields('NK1', [2, 5, 6, 13, 26, 30, 31, 37, 38, 40, 41], REDACT),
  ...fields('NK1', [4, 32], ADDRESS),
  ...fields('NK1', [16], BIRTH),
  ...fields('NK1', [8, 9], SHIFT),
  ...fields('NK1', [12, 33], OTHER_ID),
  // The guarantor and the insured are often the patient or a relative.
  ...fields('GT1', [3, 4, 6, 7, 12, 16, 18, 19, 21, 44], REDACT),
  ...fields('GT1', [2], OTHER_ID),
  ...fields('GT1', [5, 17], ADDRESS),
  ...fields('GT1', [8], BIRTH),
  ...fields('GT1', [13, 14], SHIFT),
  ...fields('IN1', [9, 10, 11, 16], REDACT),
  ...fields('IN1', [8, 36], { method: 'cryptoHash', namespace: 'other' }),
  ...fields('IN1', [49], OTHER_ID),
  ...fields('IN1', [19, 44], ADDRESS),
  ...fields('IN1', [18], BIRTH),
  ...fields('IN1', [12, 13, 26, 29], SHIFT),
  ...fields('IN2', [1, 2, 3, 6, 7, 8, 9, 10, 63, 64], REDACT),
  ...fields('IN2', [61], OTHER_ID),
  // Order and specimen numbers are accession numbers: unique codes that lead back to a patient.
  ...fields('ORC', [2, 3, 4], OTHER_ID),
  ...fields('ORC', [9, 15], SHIFT),
  ...fields('OBR', [2, 3, 53], OTHER_ID),
  ...fields('OBR', [6, 7, 8, 14, 22, 36], SHIFT),
  ...fields('OBR', [13], SCRUB),
  ...fields('SPM', [2, 3], OTHER_ID),
  ...fields('SPM', [17, 18, 19], SHIFT),
  ...fields('TQ1', [7, 8], SHIFT),
  ...fields('RXA', [3, 4, 16], SHIFT),
  ...fields('AL1', [6], SHIFT),
  ...fields('AL1', [5], SCRUB),
  ...fields('DG1', [5, 19], SHIFT),
  ...fields('DG1', [4], SCRUB),
  ...fields('PR1', [5], SHIFT),
  ...fields('TXA', [4, 6, 7, 8], SHIFT),
  ...fields('TXA', [12, 13], OTHER_ID),
  ...fields('ACC', [1], SHIFT),
  ...fields('ACC', [3], REDACT),
  ...fields('OBX', [12, 14, 19], SHIFT),
  // OBX-5 follows its type in OBX-2: free text is scrubbed, dates shifted, documents dropped.
  { path: 'OBX-5 where OBX-2 in (TX, FT, ST)', ...SCRUB },
  { path: 'OBX-5 where OBX-2 in (DT, DTM, TS)', ...SHIFT },
  { path: 'OBX-5 where OBX-2 = ED', method: 'embeddedDocument' },
  // Typed values that are names, contact points, addresses or ids get the rule of their type.
  { path: 'OBX-5 where OBX-2 in (XPN, XTN, PN, TN)', ...REDACT },
  { path: 'OBX-5 where OBX-2 in (XAD, AD)', ...ADDRESS },
  { path: 'OBX-5 where OBX-2 in (CX, EI)', ...OTHER_ID },
  { path: 'NTE-3', ...SCRUB },
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
