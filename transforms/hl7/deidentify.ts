import type { CompiledHl7Rule } from '../deid/compile.js';
import { shiftHl7Date } from '../deid/date-shift.js';
import { encryptField } from '../deid/field-crypto.js';
import { collectHl7Identifiers, FieldReader } from '../deid/hl7-identifiers.js';
import { perturbNumber } from '../deid/perturb.js';
import { compiledRulesOf, createRecordDeid } from '../deid/record-context.js';
import type { RecordDeid } from '../deid/record-context.js';
import type { DeidMethod, GeneralizeTarget } from '../deid/rules.js';
import { pseudonymize } from '../pseudonym.js';
import { foldAge, keptYearOf, zip3 } from '../safe-harbor.js';
import type { DeidContext } from '../types.js';
import type { Hl7Delimiters } from './delimiters.js';
import type { Hl7Message, Hl7Segment } from './message.js';
import { NULL_VALUE } from './repetition.js';
import { canonicalField, fieldParts, hl7ToJson } from './to-json.js';
import type {
  Hl7FieldEditor,
  Hl7FieldParts,
  Hl7JsonLeaf,
  Hl7JsonRecord,
  Hl7JsonValue,
} from './to-json.js';

/*
 * HL7 v2 de-identification driven by rules (transforms/deid/): the feed's rules first, then its
 * preset's (transforms/deid/presets.ts). For each field the first rule whose selector matches
 * decides; fields no rule names pass as sent. Rules apply while the message is converted to its
 * NDJSON record: a field a rule decides is split once, its leaves are edited, and only the
 * record carries the result. The parsed message (and its raw text) is left as it came, so
 * conditions (`where OBX-2 in ...`) read the values as sent.
 */

/** Marker written in place of an embedded document's data (ED.5). */
export const EMBEDDED_DOCUMENT_MARKER = '[embedded document removed]';

/**
 * Converts a parsed HL7 message to its NDJSON record, de-identified with the context's rules
 * (the safe-harbor preset when it has none). The patient is PID-3's MR identifier (else its
 * first identifier); their pseudonym keys the date offset, as the MR identifier of a FHIR
 * Patient does. The message itself is not changed.
 *
 * @param message - the parsed message
 * @param ctx - the pseudonym key, the feed's rules and the reference year for ages
 */
export function deidentifyHl7ToJson(message: Hl7Message, ctx: DeidContext): Hl7JsonRecord {
  const compiled = compiledRulesOf(ctx);
  if (!compiled.active) {
    return hl7ToJson(message);
  }
  const mrn = patientMrnOf(message);
  const patient = mrn === undefined ? undefined : pseudonymize(ctx.pseudonymKey, 'patient-id', mrn);
  const record = createRecordDeid(ctx, patient, collectHl7Identifiers(message), compiled);
  return hl7ToJson(message, new RuleEditor(record, message));
}

/**
 * Returns the MRN that identifies a message's patient: the PID-3 repetition whose type code
 * (CX.5) is MR, else the first PID-3 repetition, else PID-2 or PID-4.
 *
 * @param message - a parsed message, before de-identification
 */
export function patientMrnOf(message: Hl7Message): string | undefined {
  let pid: Hl7Segment | undefined;
  for (const segment of message.segments) {
    if (segment.name === 'PID') {
      pid = segment;
      break;
    }
  }
  if (pid === undefined) {
    return undefined;
  }
  // Read in place, every message: the repetitions are scanned, not split into objects.
  const reader = new FieldReader(message);
  let chosen: string | null | undefined;
  for (let rep = reader.start(pid, 3); rep; rep = reader.next()) {
    if ((reader.component(5) ?? '').trim().toUpperCase() === 'MR') {
      chosen = reader.component(1);
      break;
    }
    // The first repetition, unless one typed MR comes later.
    if (chosen === undefined) {
      chosen = reader.component(1);
    }
  }
  for (const candidate of [chosen, pid.getValue(2, 1, 1), pid.getValue(4, 1, 1)]) {
    const value = candidate?.trim();
    if (value) {
      return value;
    }
  }
  return undefined;
}

// Applies the rules to one message's fields as they are converted. One per message; its
// per-segment state is reused from segment to segment.
class RuleEditor implements Hl7FieldEditor {
  private readonly record: RecordDeid;
  private readonly d: Hl7Delimiters;
  private readonly charset: string | undefined;
  /** The method deciding each field of the segment in hand, by field number. */
  private methods: ReadonlyArray<DeidMethod | undefined> = [];

  constructor(record: RecordDeid, message: Hl7Message) {
    this.record = record;
    this.d = message.delimiters;
    this.charset = message.charset;
  }

  startSegment(segment: Hl7Segment): boolean {
    const rules = this.record.compiled.hl7RulesFor(segment.name);
    if (rules.length === 0) {
      return false;
    }
    this.methods = decideFields(segment, rules, this.d);
    return true;
  }

  editField(segment: Hl7Segment, field: number, text: string): Hl7JsonValue | undefined {
    const method = this.methods[field];
    if (method === undefined || method.method === 'keep' || text === '' || text === NULL_VALUE) {
      return undefined;
    }
    if (isPlainValue(text, this.d)) {
      const edited = applyToLeaf(text, method, this.record);
      if (edited !== undefined) {
        return edited;
      }
    }
    return applyMethod(segment, field, text, method, this);
  }

  /** The field split to its leaves, unescaped. */
  parts(text: string): Hl7FieldParts {
    return fieldParts(text, this.d, this.charset);
  }

  /** A component as one string, its subcomponents joined as written; null for `""`. */
  joined(component: Hl7JsonLeaf[] | undefined): string | null {
    if (component === undefined) {
      return '';
    }
    if (component.length === 1) {
      return component[0];
    }
    let text = '';
    for (let index = 0; index < component.length; index++) {
      text += (index > 0 ? this.d.subcomponent : '') + (component[index] ?? NULL_VALUE);
    }
    return text;
  }

  get rec(): RecordDeid {
    return this.record;
  }

  get componentSeparator(): string {
    return this.d.component;
  }
}

// Which method decides each field: the first rule that selects it, conditions read as sent.
// MSH-1 and MSH-2 are the delimiters, never data. The answer depends only on the segment's
// rules, its field count (only for `*`) and the values its conditions read, so it is kept per
// rules list under a key of those; most segments (PID, PV1) have neither and share one answer.
function decideFields(
  segment: Hl7Segment,
  rules: readonly CompiledHl7Rule[],
  d: Hl7Delimiters,
): ReadonlyArray<DeidMethod | undefined> {
  let decisions = DECISIONS.get(rules);
  if (decisions === undefined) {
    decisions = {
      anyField: rules.some((rule) => rule.selector.field === '*'),
      conditionFields: [...new Set(rules.flatMap((rule) => rule.selector.where?.field ?? []))],
      byKey: new Map(),
      byWritten: new Map(),
    };
    DECISIONS.set(rules, decisions);
  }
  // The commonest case (OBX-5 rules that read OBX-2): one condition field and no `*`. Its
  // answer follows the field as written when the field holds no delimiter or escape (then the
  // text is the value whatever the message's delimiters), with no trimming or upper-casing.
  if (!decisions.anyField && decisions.conditionFields.length === 1) {
    const written = segment.getFieldText(decisions.conditionFields[0]);
    if (isPlainValue(written, d)) {
      let methods = decisions.byWritten.get(written);
      if (methods === undefined) {
        methods = decide(segment, rules);
        rememberDecision(decisions.byWritten, written, methods);
      }
      return methods;
    }
  }

  let key = decisions.anyField ? String(segment.fieldCount) : '';
  for (const field of decisions.conditionFields) {
    // Length-prefixed, so no value can make two different readings share a key.
    const value = conditionValue(segment, field);
    key += `|${value.length}:${value}`;
  }
  let methods = decisions.byKey.get(key);
  if (methods === undefined) {
    methods = decide(segment, rules);
    rememberDecision(decisions.byKey, key, methods);
  }
  return methods;
}

function decide(
  segment: Hl7Segment,
  rules: readonly CompiledHl7Rule[],
): ReadonlyArray<DeidMethod | undefined> {
  const methods: Array<DeidMethod | undefined> = [];
  const first = segment.name === 'MSH' ? 3 : 1;
  for (const { selector, method } of rules) {
    const where = selector.where;
    if (where !== undefined && !where.values.includes(conditionValue(segment, where.field))) {
      continue;
    }
    if (selector.field === '*') {
      for (let field = first; field <= segment.fieldCount; field++) {
        methods[field] ??= method;
      }
    } else if (selector.field >= first) {
      methods[selector.field] ??= method;
    }
  }
  return methods;
}

function rememberDecision(
  answers: Map<string, ReadonlyArray<DeidMethod | undefined>>,
  key: string,
  methods: ReadonlyArray<DeidMethod | undefined>,
): void {
  if (answers.size >= MAX_DECISIONS) {
    answers.clear();
  }
  answers.set(key, methods);
}

/** True when a field holds no repetition, component, subcomponent or escape character. */
function isPlainValue(text: string, d: Hl7Delimiters): boolean {
  return (
    !text.includes(d.repetition) &&
    !text.includes(d.component) &&
    !text.includes(d.subcomponent) &&
    !text.includes(d.escape)
  );
}

/** What decides a rules list's answers, and the answers so far. */
interface Decisions {
  /** A rule selects every field, so the answer depends on the field count. */
  anyField: boolean;
  /** Fields that conditions read, in a fixed order. */
  conditionFields: number[];
  byKey: Map<string, ReadonlyArray<DeidMethod | undefined>>;
  /** Answers by the one condition field as written, for fields without delimiters or escapes. */
  byWritten: Map<string, ReadonlyArray<DeidMethod | undefined>>;
}

const DECISIONS = new WeakMap<readonly CompiledHl7Rule[], Decisions>();
const MAX_DECISIONS = 256;

function conditionValue(segment: Hl7Segment, field: number): string {
  return (segment.getValue(field, 1, 1) ?? '').trim().toUpperCase();
}

function applyMethod(
  segment: Hl7Segment,
  field: number,
  text: string,
  method: DeidMethod,
  editor: RuleEditor,
): Hl7JsonValue | undefined {
  const record = editor.rec;
  switch (method.method) {
    case 'keep':
      return undefined;
    case 'redact':
      return '';
    case 'substitute':
      return method.value;
    case 'encrypt':
      // The field as written, escapes and all, so decrypting gives back what was sent.
      return encryptField(record.fieldKeys(), `hl7:${segment.name}-${field}`, text);
    case 'cryptoHash':
      return hashField(
        editor.parts(text),
        method.namespace ?? 'other',
        method.part ?? 'whole',
        editor,
      );
    case 'dateShift':
      return shiftDates(editor.parts(text), record);
    case 'generalize':
      return generalize(editor.parts(text), method.to, editor);
    case 'perturb': {
      const parts = editor.parts(text);
      const fieldName = `${segment.name}-${field}`;
      for (const components of parts) {
        const value = editor.joined(components[0]) ?? '';
        const moved = perturbNumber(
          record.pseudonymKey,
          fieldName,
          value,
          method.span,
          method.roundTo,
        );
        components[0] = [moved ?? ''];
      }
      return canonicalField(parts);
    }
    case 'scrub':
      return scrub(editor.parts(text), editor);
    case 'embeddedDocument':
      return embeddedDocument(editor.parts(text), `hl7:${segment.name}-${field}`, editor);
  }
}

// The commonest edits of a field that is one plain value (a time stamp, a control id, a line of
// text), without splitting it into nested arrays first. Each gives what `applyMethod` gives for
// the same field; `undefined` leaves the field to `applyMethod`.
function applyToLeaf(
  text: string,
  method: DeidMethod,
  record: RecordDeid,
): Hl7JsonValue | undefined {
  switch (method.method) {
    case 'redact':
      return '';
    case 'cryptoHash':
      if (text.trim() === '') {
        // As written when the whole field is the value; an id part alone leaves nothing.
        return method.part === 'id' ? '' : text;
      }
      return pseudonymize(record.pseudonymKey, method.namespace ?? 'other', text);
    case 'dateShift':
      return shiftedDate(text, record);
    case 'scrub':
      return record.scrubber().scrub(text);
    case 'generalize':
      return method.to === 'year' || method.to === 'birth-year'
        ? yearOf(text, method.to, record.referenceYear)
        : undefined;
    default:
      return undefined;
  }
}

// CX components kept beside the pseudonymous id: 4 assigning authority, 5 type code, 6 assigning
// facility. CX.2 (a check digit of the real id), CX.3 (free text in some feeds) and CX.7 onwards
// (effective and expiration dates, which are dates of the patient) go.
const CX_KEPT = [4, 5, 6];

function hashField(
  parts: Hl7FieldParts,
  namespace: 'patient-id' | 'account' | 'visit' | 'message' | 'other',
  part: 'whole' | 'id',
  editor: RuleEditor,
): Hl7JsonValue {
  const key = editor.rec.pseudonymKey;
  if (part === 'whole') {
    // The first repetition as one value; a blank one is left as sent.
    const value = wholeRepetition(parts[0], editor);
    if (value === null || value.trim() === '') {
      return canonicalField(parts);
    }
    return pseudonymize(key, namespace, value);
  }

  for (let index = 0; index < parts.length; index++) {
    const components = parts[index];
    const id = editor.joined(components[0]);
    // Gaps are written as empty components rather than left as holes: both read as empty, but
    // an array with holes is slower for JSON.stringify (about a third, on a whole record).
    const kept: Hl7FieldParts[number] = [
      id !== null && id.trim() !== '' ? [pseudonymize(key, namespace, id)] : [''],
    ];
    for (const component of CX_KEPT) {
      const value = components[component - 1];
      if (editor.joined(value)) {
        fillComponents(kept, component - 1);
        kept.push(value);
      }
    }
    parts[index] = kept;
  }
  return canonicalField(parts);
}

// Every part of a date field that starts like a date is shifted: TS.1, both ends of a DR, a
// DTM, and a TS written as subcomponents of a DR (v2.4 and before: `20240101&D^20240105&D`).
// Precision codes and other text without digits are left alone. A value with digits that does
// not start with a year (`11/30/2026`, `Dec 1 2026`) cannot be shifted, so it goes rather than
// pass as sent.
function shiftDates(parts: Hl7FieldParts, record: RecordDeid): Hl7JsonValue {
  for (const components of parts) {
    for (const subcomponents of components) {
      for (let index = 0; index < subcomponents.length; index++) {
        const value = subcomponents[index];
        if (value === null) {
          continue;
        }
        subcomponents[index] = shiftedDate(value, record);
      }
    }
  }
  return canonicalField(parts);
}

// One value of a date field, shifted; one with digits that does not start with a year cannot
// be, so it goes; one without digits (a precision code) stays.
function shiftedDate(value: string, record: RecordDeid): string {
  if (startsWithYear(value)) {
    return shiftHl7Date(value, record.offsetDays);
  }
  return HAS_DIGIT.test(value) ? '' : value;
}

const HAS_DIGIT = /\d/;

// XAD components kept: 4 state, 5 ZIP, 6 country, 7 address type, and for a limited data set
// 3 town. An allow-list, so street, census tract, county and later components go.
const XAD_STATE_KEPT = [4, 5, 6, 7];
const XAD_TOWN_KEPT = [3, 4, 5, 6, 7];
const XAD_ZIP = 5;

function generalize(parts: Hl7FieldParts, to: GeneralizeTarget, editor: RuleEditor): Hl7JsonValue {
  for (let index = 0; index < parts.length; index++) {
    parts[index] = generalizeRepetition(parts[index], to, editor);
  }
  return canonicalField(parts);
}

function generalizeRepetition(
  components: Hl7FieldParts[number],
  to: GeneralizeTarget,
  editor: RuleEditor,
): Hl7FieldParts[number] {
  switch (to) {
    case 'address-state':
    case 'address-town': {
      // Gaps are empty components, not holes (see hashField).
      const kept: Hl7FieldParts[number] = [];
      for (const component of to === 'address-state' ? XAD_STATE_KEPT : XAD_TOWN_KEPT) {
        const value = components[component - 1];
        if (!editor.joined(value)) {
          continue;
        }
        fillComponents(kept, component - 1);
        if (component === XAD_ZIP && to === 'address-state') {
          // Non-US codes have no three-digit prefix to keep, so they go entirely.
          kept.push([zip3(editor.joined(value)) ?? '']);
        } else {
          kept.push(value);
        }
      }
      return kept;
    }
    case 'zip3':
      return [[zip3(editor.joined(components[0])) ?? '']];
    case 'year':
    case 'birth-year': {
      const year = yearOf(editor.joined(components[0]) ?? '', to, editor.rec.referenceYear);
      return year === '' ? [] : [[year]];
    }
    case 'age': {
      const age = Number((editor.joined(components[0]) ?? '').trim());
      components[0] = [Number.isFinite(age) ? String(foldAge(age)) : ''];
      return components;
    }
  }
}

// The year a date starts with, folded for a birth year; '' for a date that does not start with
// a year (`Aug 15, 1942`), which is dropped rather than guessed at.
function yearOf(value: string, to: 'year' | 'birth-year', referenceYear: number): string {
  return keptYearOf(value, to, referenceYear) ?? '';
}

function scrub(parts: Hl7FieldParts, editor: RuleEditor): Hl7JsonValue {
  const scrubber = editor.rec.scrubber();
  for (const components of parts) {
    for (let index = 0; index < components.length; index++) {
      const value = editor.joined(components[index]);
      if (value === null || value === '') {
        continue;
      }
      // Only what changed is replaced; untouched text keeps its subcomponents.
      const scrubbed = scrubber.scrub(value);
      if (scrubbed !== value) {
        components[index] = [scrubbed];
      }
    }
  }
  return canonicalField(parts);
}

// ED (encapsulated data) carries whole documents, often base64 reports that name the patient;
// they cannot be scrubbed. ED: 1 source, 2 type, 3 subtype, 4 encoding, 5 data.
const ED_ENCODING = 4;
const ED_DATA = 5;

function embeddedDocument(
  parts: Hl7FieldParts,
  fieldName: string,
  editor: RuleEditor,
): Hl7JsonValue {
  const encrypt = editor.rec.compiled.rules.embeddedDocuments === 'encrypt';
  for (const components of parts) {
    const data = editor.joined(components[ED_DATA - 1]) ?? '';
    if (data === '') {
      continue;
    }
    if (encrypt) {
      const sealed = encryptField(editor.rec.fieldKeys(), `${fieldName}.${ED_DATA}`, data);
      components[ED_DATA - 1] = [sealed];
    } else {
      // The marker is plain text, so the encoding says so; source, type and subtype stay.
      fillComponents(components, ED_DATA);
      components[ED_ENCODING - 1] = ['A'];
      components[ED_DATA - 1] = [EMBEDDED_DOCUMENT_MARKER];
    }
  }
  return canonicalField(parts);
}

/** A repetition as one value, components joined as written; null for `""`. */
function wholeRepetition(
  components: Hl7FieldParts[number] | undefined,
  editor: RuleEditor,
): string | null {
  if (components === undefined) {
    return '';
  }
  if (components.length === 1) {
    return editor.joined(components[0]);
  }
  let text = '';
  for (let index = 0; index < components.length; index++) {
    text +=
      (index > 0 ? editor.componentSeparator : '') +
      (editor.joined(components[index]) ?? NULL_VALUE);
  }
  return text;
}

// Components up to `count` exist, so later positions do not leave holes before earlier ones.
function fillComponents(components: Hl7FieldParts[number], count: number): void {
  for (let index = components.length; index < count; index++) {
    components.push(['']);
  }
}

function startsWithYear(value: string): boolean {
  return /^\s*\d{4}/.test(value);
}
