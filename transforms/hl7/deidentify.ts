import { pseudonymize } from '../pseudonym.js';
import type { PseudonymNamespace } from '../pseudonym.js';
import { zip3 } from '../safe-harbor.js';
import type { DeidContext } from '../types.js';
import type { Hl7Message, Hl7Segment } from './message.js';
import { NULL_VALUE } from './repetition.js';
import type { Hl7Repetition } from './repetition.js';

/*
 * First cut of HIPAA Safe Harbor (45 CFR 164.514(b)(2)) for HL7 v2, as a table: each rule names
 * a segment, fields and what to do with them. Every segment with that id is treated, and every
 * repetition of a field. Setting a field rebuilds the segment, so old values leave the raw text.
 */

// Limitation: only the fields in the table are treated; PD1, ROL, IN2 past field 10, free text
// (NTE, OBX-5 TX/FT) and Z-segments pass through as sent until the rules engine replaces this.
// Limitation: dates other than birth and death (admission, discharge, observation) are kept as
// sent; a later change shifts them.
// Limitation: birth years are kept for ages over 89 rather than folded into one 90-or-older group.
// Limitation: only CX.1 of an identifier is replaced; CX.7 and CX.8 (effective and expiration
// dates) are kept as sent.

/** What a rule does to each repetition of a field. */
export type Hl7DeidAction =
  /** Empty the field. */
  | { kind: 'remove' }
  /** Replace CX.1 (the id) with its pseudonym; keep assigning authority and type code. */
  | { kind: 'pseudonymize-id'; namespace: PseudonymNamespace }
  /** Replace the whole value with its pseudonym. */
  | { kind: 'pseudonymize'; namespace: PseudonymNamespace }
  /** Keep the year of a date (`19870214` becomes `1987`). */
  | { kind: 'keep-year' }
  /** Keep state, the first three ZIP digits, country and address type; drop the rest. */
  | { kind: 'generalize-address' };

export interface Hl7DeidRule {
  segment: string;
  fields: readonly number[];
  action: Hl7DeidAction;
}

const REMOVE: Hl7DeidAction = { kind: 'remove' };
const PATIENT_ID: Hl7DeidAction = { kind: 'pseudonymize-id', namespace: 'patient-id' };
const ACCOUNT: Hl7DeidAction = { kind: 'pseudonymize-id', namespace: 'account' };
const VISIT: Hl7DeidAction = { kind: 'pseudonymize-id', namespace: 'visit' };
const OTHER_ID: Hl7DeidAction = { kind: 'pseudonymize-id', namespace: 'other' };
const YEAR: Hl7DeidAction = { kind: 'keep-year' };
const ADDRESS: Hl7DeidAction = { kind: 'generalize-address' };

/** The Safe Harbor rules `deidentifyHl7` applies. */
export const HL7_DEID_RULES: readonly Hl7DeidRule[] = Object.freeze([
  // The control id is unique per message and could be traced back to the sender's log.
  { segment: 'MSH', fields: [10], action: { kind: 'pseudonymize', namespace: 'message' } },
  // PID-2/3/4 patient ids and PID-21 mother's id share a namespace, so the same MRN matches.
  { segment: 'PID', fields: [2, 3, 4, 21], action: PATIENT_ID },
  { segment: 'PID', fields: [18], action: ACCOUNT },
  // Names, alias, mother's maiden name; phones and e-mail; SSN, driver's licence; birth place.
  { segment: 'PID', fields: [5, 6, 9, 13, 14, 19, 20, 23, 40], action: REMOVE },
  { segment: 'PID', fields: [11], action: ADDRESS },
  { segment: 'PID', fields: [7, 29], action: YEAR },
  // Visit number and alternate visit id. PV1 providers are staff, not the patient, and stay.
  { segment: 'PV1', fields: [19, 50], action: VISIT },
  // Prior ids use the same namespaces as PID and PV1, so a merge points at the same pseudonyms.
  { segment: 'MRG', fields: [1, 2, 3], action: PATIENT_ID },
  { segment: 'MRG', fields: [4], action: ACCOUNT },
  { segment: 'MRG', fields: [5, 6], action: VISIT },
  { segment: 'MRG', fields: [7], action: REMOVE },
  // Next of kin: names, organisation name, phones, SSN; addresses; birth date; other ids.
  { segment: 'NK1', fields: [2, 5, 6, 13, 30, 31, 37], action: REMOVE },
  { segment: 'NK1', fields: [4, 32], action: ADDRESS },
  { segment: 'NK1', fields: [16], action: YEAR },
  { segment: 'NK1', fields: [33], action: OTHER_ID },
  // The guarantor and the insured are often the patient or a relative, with the same fields.
  // GT1: names, spouse, phones, SSN, employer name, phone and employee id, organisation name.
  { segment: 'GT1', fields: [3, 4, 6, 7, 12, 16, 18, 19, 21], action: REMOVE },
  { segment: 'GT1', fields: [2], action: OTHER_ID },
  { segment: 'GT1', fields: [5, 17], action: ADDRESS },
  { segment: 'GT1', fields: [8], action: YEAR },
  // IN1: group and employer names and ids, name of insured; policy number and insured's id.
  { segment: 'IN1', fields: [9, 10, 11, 16], action: REMOVE },
  { segment: 'IN1', fields: [36], action: { kind: 'pseudonymize', namespace: 'other' } },
  { segment: 'IN1', fields: [49], action: OTHER_ID },
  { segment: 'IN1', fields: [19, 44], action: ADDRESS },
  { segment: 'IN1', fields: [18], action: YEAR },
  // IN2: employee id, SSN, employer, Medicare and Medicaid numbers and names, military sponsor.
  { segment: 'IN2', fields: [1, 2, 3, 6, 7, 8, 9, 10], action: REMOVE },
]);

// XAD components kept: 4 state, 5 ZIP (cut to three digits), 6 country, 7 address type. An
// allow-list, so census tract, addressee, comments and later components go too.
const XAD_ZIP = 5;
const XAD_KEPT = [4, XAD_ZIP, 6, 7];

/**
 * De-identifies a parsed HL7 message in place with {@link HL7_DEID_RULES}. Pseudonyms come from
 * the keyed HMAC in `pseudonym.ts`, so the same id gives the same pseudonym in every message.
 *
 * @param message - the parsed message; modified in place
 * @param ctx - the pseudonym key
 */
export function deidentifyHl7(message: Hl7Message, ctx: DeidContext): void {
  for (const segment of message.segments) {
    if (segment.name === 'OBX' && EMBEDDED_DATA_TYPES.has(segment.getValue(2) ?? '')) {
      dropEmbeddedData(segment);
    }
    for (const rule of HL7_DEID_RULES) {
      if (rule.segment !== segment.name) {
        continue;
      }
      for (const field of rule.fields) {
        applyAction(segment, field, rule.action, ctx);
      }
    }
  }
}

function applyAction(
  segment: Hl7Segment,
  field: number,
  action: Hl7DeidAction,
  ctx: DeidContext,
): void {
  const text = segment.getFieldText(field);
  if (text === '' || text === NULL_VALUE) {
    return;
  }

  switch (action.kind) {
    case 'remove':
      segment.setValue('', field);
      return;
    case 'pseudonymize': {
      const value = segment.getValue(field);
      if (value !== null && value.trim() !== '') {
        segment.setValue(pseudonymize(ctx.pseudonymKey, action.namespace, value), field);
      }
      return;
    }
    case 'pseudonymize-id':
      segment.editRepetitions(field, (repetition) => {
        const id = repetition.get(1);
        if (id !== null && id.trim() !== '') {
          repetition.set(pseudonymize(ctx.pseudonymKey, action.namespace, id), 1);
        }
      });
      return;
    case 'keep-year':
      segment.editRepetitions(field, keepYear);
      return;
    case 'generalize-address':
      segment.editRepetitions(field, generalizeAddress);
      return;
  }
}

// ED (encapsulated data) carries whole documents, often base64 reports that name the patient;
// they cannot be scrubbed. https://hl7.org/v2/2.5.1 ED: 1 source, 2 type, 3 subtype, 4 encoding, 5 data
const EMBEDDED_DATA_TYPES: ReadonlySet<string> = new Set(['ED']);
const ED_DATA = 5;

/** Empties ED.5 (the data) of every OBX-5 repetition; ED.1 to ED.4 say what was there. */
function dropEmbeddedData(segment: Hl7Segment): void {
  if (segment.getFieldText(5) === '') {
    return;
  }
  segment.editRepetitions(5, (repetition) => {
    if ((repetition.get(ED_DATA) ?? '') !== '') {
      repetition.set('', ED_DATA);
    }
  });
}

function keepYear(repetition: Hl7Repetition): void {
  const date = repetition.get(1);
  if (date !== null) {
    // A date that does not start with a year (`Aug 15, 1942`) is dropped, not guessed at.
    repetition.set(/^\s*(\d{4})/.exec(date)?.[1] ?? '');
  }
}

function generalizeAddress(repetition: Hl7Repetition): void {
  const kept = XAD_KEPT.map((component) => repetition.get(component));
  repetition.set('');

  XAD_KEPT.forEach((component, offset) => {
    let value = kept[offset];
    if (component === XAD_ZIP && value !== null) {
      // Non-US codes have no three-digit prefix to keep, so they go entirely.
      value = zip3(value) ?? '';
    }
    if (value !== '') {
      repetition.set(value, component);
    }
  });
}
