import type { CompiledHl7Rule } from '../deid/compile.js';
import { shiftHl7Date } from '../deid/date-shift.js';
import { encryptField } from '../deid/field-crypto.js';
import { collectHl7Identifiers } from '../deid/hl7-identifiers.js';
import { perturbNumber } from '../deid/perturb.js';
import { compiledRulesOf, createRecordDeid } from '../deid/record-context.js';
import type { RecordDeid } from '../deid/record-context.js';
import type { DeidMethod, GeneralizeTarget } from '../deid/rules.js';
import { pseudonymize } from '../pseudonym.js';
import { foldAge, foldBirthYear, zip3 } from '../safe-harbor.js';
import type { DeidContext } from '../types.js';
import type { Hl7Message, Hl7Segment } from './message.js';
import { NULL_VALUE } from './repetition.js';
import type { Hl7Repetition } from './repetition.js';

/*
 * HL7 v2 de-identification driven by rules (transforms/deid/): the feed's rules first, then its
 * preset's (transforms/deid/presets.ts). For each field the first rule whose selector matches
 * decides; fields no rule names pass as sent. Setting a field rebuilds its segment, so old
 * values leave the raw text.
 */

/** A record's de-identification state, with the message's component separator. */
interface Hl7RecordDeid extends RecordDeid {
  componentSeparator: string;
}

/** Marker written in place of an embedded document's data (ED.5). */
export const EMBEDDED_DOCUMENT_MARKER = '[embedded document removed]';

/**
 * De-identifies a parsed HL7 message in place with the context's rules (the safe-harbor preset
 * when it has none). The patient is PID-3's MR identifier (else its first identifier); their
 * pseudonym keys the date offset, as the MR identifier of a FHIR Patient does.
 *
 * @param message - the parsed message; modified in place
 * @param ctx - the pseudonym key, the feed's rules and the reference year for ages
 */
export function deidentifyHl7(message: Hl7Message, ctx: DeidContext): void {
  const compiled = compiledRulesOf(ctx);
  if (!compiled.active) {
    return;
  }
  const mrn = patientMrnOf(message);
  const patient = mrn === undefined ? undefined : pseudonymize(ctx.pseudonymKey, 'patient-id', mrn);
  const record: Hl7RecordDeid = Object.assign(
    createRecordDeid(ctx, patient, collectHl7Identifiers(message), compiled),
    { componentSeparator: message.delimiters.component },
  );

  for (const segment of message.segments) {
    const rules = compiled.hl7RulesFor(segment.name);
    if (rules.length > 0) {
      applySegmentRules(segment, rules, record);
    }
  }
}

/**
 * Returns the MRN that identifies a message's patient: the PID-3 repetition whose type code
 * (CX.5) is MR, else the first PID-3 repetition, else PID-2 or PID-4.
 *
 * @param message - a parsed message, before de-identification
 */
export function patientMrnOf(message: Hl7Message): string | undefined {
  const pid = message.segments.find((segment) => segment.name === 'PID');
  if (pid === undefined) {
    return undefined;
  }
  const ids = pid.repetitions(3);
  const chosen = ids.find((id) => (id.get(5) ?? '').trim().toUpperCase() === 'MR') ?? ids[0];
  for (const candidate of [chosen?.get(1), pid.getValue(2, 1, 1), pid.getValue(4, 1, 1)]) {
    const value = candidate?.trim();
    if (value) {
      return value;
    }
  }
  return undefined;
}

// Which fields of the segment in hand a rule has decided: those whose entry holds its stamp. One
// array for every segment spares a set per segment.
let decided = new Uint32Array(64);
let segmentStamp = 0;

function applySegmentRules(
  segment: Hl7Segment,
  rules: readonly CompiledHl7Rule[],
  record: Hl7RecordDeid,
): void {
  segmentStamp++;
  if (segmentStamp === 0xffffffff) {
    decided.fill(0);
    segmentStamp = 1;
  }
  // Conditions of one segment's rules mostly read the same field (OBX-2); it is read again only
  // after a rule has applied, since that rule may have changed it.
  let whereField = 0;
  let whereValue = '';
  for (const { selector, method } of rules) {
    const where = selector.where;
    if (where !== undefined) {
      if (where.field !== whereField) {
        whereField = where.field;
        whereValue = (segment.getValue(whereField, 1, 1) ?? '').trim().toUpperCase();
      }
      if (!where.values.includes(whereValue)) {
        continue;
      }
    }

    if (selector.field === '*') {
      // MSH-1 and MSH-2 are the delimiters, never data.
      const first = segment.name === 'MSH' ? 3 : 1;
      for (let field = first; field <= segment.fieldCount; field++) {
        applyOnce(segment, field, method, record);
      }
    } else {
      applyOnce(segment, selector.field, method, record);
    }
    whereField = 0;
  }
}

function applyOnce(
  segment: Hl7Segment,
  field: number,
  method: DeidMethod,
  record: Hl7RecordDeid,
): void {
  if (field >= decided.length) {
    const grown = new Uint32Array(Math.max(field + 1, decided.length * 2));
    grown.set(decided);
    decided = grown;
  }
  if (decided[field] === segmentStamp || (segment.name === 'MSH' && field < 3)) {
    return;
  }
  decided[field] = segmentStamp;
  const text = segment.getFieldText(field);
  if (text === '' || text === NULL_VALUE) {
    return;
  }
  applyMethod(segment, field, method, record);
}

function applyMethod(
  segment: Hl7Segment,
  field: number,
  method: DeidMethod,
  record: Hl7RecordDeid,
): void {
  switch (method.method) {
    case 'keep':
      return;
    case 'redact':
      segment.setValue('', field);
      return;
    case 'substitute':
      segment.setValue(method.value, field);
      return;
    case 'encrypt': {
      const fieldName = `hl7:${segment.name}-${field}`;
      const sealed = encryptField(record.fieldKeys(), fieldName, segment.getFieldText(field));
      segment.setValue(sealed, field);
      return;
    }
    case 'cryptoHash':
      hashField(segment, field, method.namespace ?? 'other', method.part ?? 'whole', record);
      return;
    case 'dateShift':
      segment.editRepetitions(field, (repetition) => shiftComponents(repetition, record));
      return;
    case 'generalize':
      segment.editRepetitions(field, (repetition) => generalize(repetition, method.to, record));
      return;
    case 'perturb': {
      const fieldName = `${segment.name}-${field}`;
      segment.editRepetitions(field, (repetition) => {
        const value = repetition.get(1) ?? '';
        const moved = perturbNumber(record.pseudonymKey, fieldName, value, method.span, method.roundTo);
        repetition.set(moved ?? '', 1);
      });
      return;
    }
    case 'scrub':
      scrubField(segment, field, record);
      return;
    case 'embeddedDocument':
      embeddedDocument(segment, field, record);
      return;
  }
}

// CX components kept beside the pseudonymous id: 4 assigning authority, 5 type code, 6 assigning
// facility. CX.2 (a check digit of the real id), CX.3 (free text in some feeds) and CX.7 onwards
// (effective and expiration dates, which are dates of the patient) go.
const CX_KEPT = [4, 5, 6];

function hashField(
  segment: Hl7Segment,
  field: number,
  namespace: 'patient-id' | 'account' | 'visit' | 'message' | 'other',
  part: 'whole' | 'id',
  record: Hl7RecordDeid,
): void {
  if (part === 'whole') {
    const value = segment.getValue(field);
    if (value !== null && value.trim() !== '') {
      segment.setValue(pseudonymize(record.pseudonymKey, namespace, value), field);
    }
    return;
  }
  segment.editRepetitions(field, (repetition) => {
    const id = repetition.get(1);
    const components: Array<string | undefined> = [];
    if (id !== null && id.trim() !== '') {
      components[0] = pseudonymize(record.pseudonymKey, namespace, id);
    }
    for (const component of CX_KEPT) {
      const value = repetition.get(component);
      components[component - 1] = value ? value : undefined;
    }
    repetition.setComponents(components);
  });
}

// Every component (or first subcomponent) that starts like a date is shifted: TS.1, both ends of
// a DR, a DTM. Precision codes and other text in the same field are left alone.
function shiftComponents(repetition: Hl7Repetition, record: Hl7RecordDeid): void {
  const count = componentCount(repetition, record);
  for (let component = 1; component <= count; component++) {
    const value = repetition.get(component, 1);
    if (value !== null && /^\s*\d{4}/.test(value)) {
      repetition.set(shiftHl7Date(value, record.offsetDays), component, 1);
    }
  }
}

// XAD components kept: 4 state, 5 ZIP, 6 country, 7 address type, and for a limited data set
// 3 town. An allow-list, so street, census tract, county and later components go.
const XAD_STATE_KEPT = [4, 5, 6, 7];
const XAD_TOWN_KEPT = [3, 4, 5, 6, 7];
const XAD_ZIP = 5;

function generalize(repetition: Hl7Repetition, to: GeneralizeTarget, record: Hl7RecordDeid): void {
  switch (to) {
    case 'address-state':
    case 'address-town': {
      const keptComponents = to === 'address-state' ? XAD_STATE_KEPT : XAD_TOWN_KEPT;
      const kept = keptComponents.map((component) => repetition.get(component));
      repetition.set('');
      keptComponents.forEach((component, index) => {
        let value = kept[index];
        if (component === XAD_ZIP && value !== null && to === 'address-state') {
          // Non-US codes have no three-digit prefix to keep, so they go entirely.
          value = zip3(value) ?? '';
        }
        if (value) {
          repetition.set(value, component);
        }
      });
      return;
    }
    case 'zip3':
      repetition.set(zip3(repetition.get(1)) ?? '');
      return;
    case 'year':
    case 'birth-year': {
      // A date that does not start with a year (`Aug 15, 1942`) is dropped, not guessed at.
      const year = /^\s*(\d{4})/.exec(repetition.get(1) ?? '')?.[1];
      if (year === undefined) {
        repetition.set('');
      } else if (to === 'birth-year') {
        repetition.set(String(foldBirthYear(Number(year), record.referenceYear)));
      } else {
        repetition.set(year);
      }
      return;
    }
    case 'age': {
      const age = Number((repetition.get(1) ?? '').trim());
      repetition.set(Number.isFinite(age) ? String(foldAge(age)) : '', 1);
      return;
    }
  }
}

function scrubField(segment: Hl7Segment, field: number, record: Hl7RecordDeid): void {
  const scrubber = record.scrubber();
  segment.editRepetitions(field, (repetition) => {
    const count = componentCount(repetition, record);
    for (let component = 1; component <= count; component++) {
      const value = repetition.get(component);
      if (value === null || value === '') {
        continue;
      }
      // Only what changed is written back; untouched text keeps its formatting escapes.
      const scrubbed = scrubber.scrub(value);
      if (scrubbed !== value) {
        repetition.set(scrubbed, component);
      }
    }
  });
}

// ED (encapsulated data) carries whole documents, often base64 reports that name the patient;
// they cannot be scrubbed. ED: 1 source, 2 type, 3 subtype, 4 encoding, 5 data.
const ED_ENCODING = 4;
const ED_DATA = 5;

function embeddedDocument(segment: Hl7Segment, field: number, record: Hl7RecordDeid): void {
  const encrypt = record.compiled.rules.embeddedDocuments === 'encrypt';
  segment.editRepetitions(field, (repetition) => {
    const data = repetition.get(ED_DATA) ?? '';
    if (data === '') {
      return;
    }
    if (encrypt) {
      const fieldName = `hl7:${segment.name}-${field}.${ED_DATA}`;
      repetition.set(encryptField(record.fieldKeys(), fieldName, data), ED_DATA);
    } else {
      // The marker is plain text, so the encoding says so; source, type and subtype stay.
      repetition.set('A', ED_ENCODING);
      repetition.set(EMBEDDED_DOCUMENT_MARKER, ED_DATA);
    }
  });
}

function componentCount(repetition: Hl7Repetition, record: Hl7RecordDeid): number {
  const text = repetition.toText();
  const separator = record.componentSeparator;
  if (separator.length !== 1) {
    return text.split(separator).length;
  }
  // Counting separators gives what splitting would, without the parts.
  let count = 1;
  for (let at = text.indexOf(separator); at !== -1; at = text.indexOf(separator, at + 1)) {
    count++;
  }
  return count;
}
