import type { Hl7Delimiters } from './delimiters.js';
import { unescapeHl7 } from './escape.js';
import type { Hl7Message, Hl7Segment } from './message.js';
import { NULL_VALUE } from './repetition.js';

/*
 * The NDJSON record for one HL7 message (also described in docs/hl7-json.md):
 *
 *   { "messageType": "ADT^A01", "version": "2.5.1",
 *     "segments": [ { "segment": "PID", "index": 3,
 *                     "fields": { "PID-3": [["MRN1", "", "", "HOSP", "MR"]], "PID-8": "F" } } ] }
 *
 * - Keys are `SEG-n`, so SQL can address `PID-5` directly. `index` is the segment's one-based
 *   position in the HL7 message (MSH is 1).
 * - MSH-1 and MSH-2 are the delimiters as written.
 * - A field without repetition, component or subcomponent separators is its unescaped string.
 *   Any other field is an array of repetitions; a repetition is a string, or an array of
 *   components when it has several; a component is a string, or an array of subcomponents.
 * - Trailing empty parts are trimmed first, so `A^` reads as `"A"`; an empty field is omitted.
 * - HL7's explicit null `""` becomes `null`, at any level.
 * - The worker adds `messageIndex`; it is not part of this record.
 */

/** A single value: unescaped text, or `null` for HL7's explicit null `""`. */
export type Hl7JsonLeaf = string | null;
/** A component: a value, or its subcomponents. */
export type Hl7JsonComponent = Hl7JsonLeaf | Hl7JsonLeaf[];
/** A repetition: a value, or its components. */
export type Hl7JsonRepetition = Hl7JsonLeaf | Hl7JsonComponent[];
/** A field: a value, or its repetitions. */
export type Hl7JsonValue = Hl7JsonLeaf | Hl7JsonRepetition[];

export interface Hl7JsonSegment {
  segment: string;
  index: number;
  fields: Record<string, Hl7JsonValue>;
}

export interface Hl7JsonRecord {
  messageType: string;
  version: string;
  segments: Hl7JsonSegment[];
}

/** A field split to the leaves: repetitions of components of subcomponents, all present. */
export type Hl7FieldParts = Hl7JsonLeaf[][][];

/**
 * Rewrites chosen fields while a message is converted; de-identification is one. A class
 * instance rather than closures: it runs for every field of every message.
 */
export interface Hl7FieldEditor {
  /**
   * Called before a segment's fields; false when no field of this segment will be edited.
   *
   * @param segment - the segment about to be converted
   */
  startSegment(segment: Hl7Segment): boolean;
  /**
   * The field's new value, or `undefined` to convert it as written. An empty string omits it.
   *
   * @param segment - the segment being converted
   * @param field - field number
   * @param text - the field as written (escaped)
   */
  editField(segment: Hl7Segment, field: number, text: string): Hl7JsonValue | undefined;
}

/**
 * Converts a parsed HL7 message to its NDJSON record; the shape is described above.
 *
 * @param message - the message to convert
 * @param editor - rewrites chosen fields on the way (de-identification); omit to convert as is
 */
export function hl7ToJson(message: Hl7Message, editor?: Hl7FieldEditor): Hl7JsonRecord {
  const segments: Hl7JsonSegment[] = [];
  for (const segment of message.segments) {
    const editing = editor !== undefined && editor.startSegment(segment);
    segments.push(
      segmentToJson(segment, message.delimiters, message.charset, editing ? editor : undefined),
    );
  }
  return { messageType: message.messageType, version: message.version, segments };
}

function segmentToJson(
  segment: Hl7Segment,
  d: Hl7Delimiters,
  charset: string | undefined,
  editor: Hl7FieldEditor | undefined,
): Hl7JsonSegment {
  const fields: Record<string, Hl7JsonValue> = {};
  const isHeader = segment.name === 'MSH';
  const fieldCount = segment.fieldCount;
  const keys = fieldKeys(segment.name, fieldCount);
  for (let field = 1; field <= fieldCount; field++) {
    const text = segment.getFieldText(field);
    if (isHeader && field <= 2) {
      fields[keys[field]] = text;
      continue;
    }
    const edited = editor === undefined ? undefined : editor.editField(segment, field, text);
    const value = edited === undefined ? fieldToJson(text, d, charset) : edited;
    if (value !== '') {
      fields[keys[field]] = value;
    }
  }
  return { segment: segment.name, index: segment.index, fields };
}

// `PID-5` and the like, made once per segment name rather than once per field of every message.
const KEYS_BY_SEGMENT = new Map<string, string[]>();
const MAX_KEYED_SEGMENTS = 1_000;

function fieldKeys(name: string, fieldCount: number): string[] {
  let keys = KEYS_BY_SEGMENT.get(name);
  if (keys === undefined) {
    if (KEYS_BY_SEGMENT.size >= MAX_KEYED_SEGMENTS) {
      KEYS_BY_SEGMENT.clear();
    }
    keys = [''];
    KEYS_BY_SEGMENT.set(name, keys);
  }
  for (let field = keys.length; field <= fieldCount; field++) {
    keys.push(`${name}-${field}`);
  }
  return keys;
}

/**
 * Converts one field as written to its JSON value.
 *
 * @param text - the field as written (escaped)
 * @param d - the message's delimiters
 * @param charset - the message's declared character set, for `\X..\`
 */
export function fieldToJson(
  text: string,
  d: Hl7Delimiters,
  charset: string | undefined,
): Hl7JsonValue {
  const repeats = text.includes(d.repetition);
  const hasSubcomponents = text.includes(d.subcomponent);
  if (!repeats && !hasSubcomponents) {
    return text.includes(d.component)
      ? componentsToJson(text, d, charset)
      : leafOf(text, d, charset);
  }
  return canonicalField(fieldParts(text, d, charset));
}

// The common composite (a name, a code, an identifier): one repetition of components with no
// subcomponents, made straight into its JSON value. It gives what canonicalField(fieldParts())
// gives, without an array per component; about 40% less time for these fields, which are nine
// in ten of the composite fields of the generated corpus.
function componentsToJson(
  text: string,
  d: Hl7Delimiters,
  charset: string | undefined,
): Hl7JsonValue {
  const componentCode = d.component.charCodeAt(0);
  const components: Hl7JsonLeaf[] = [];
  let start = 0;
  for (let at = 0; at < text.length; at++) {
    if (text.charCodeAt(at) === componentCode) {
      components.push(leafOf(text.slice(start, at), d, charset));
      start = at + 1;
    }
  }
  components.push(leafOf(text.slice(start), d, charset));
  let end = components.length;
  while (end > 0 && components[end - 1] === '') {
    end--;
  }
  if (end <= 1) {
    return end === 0 ? '' : components[0];
  }
  return [end === components.length ? components : components.slice(0, end)];
}

// Plain loops and no per-field closures: this runs for every field of every message, and a
// closure per call (named by the tsx/esbuild keepNames wrapper) cost a quarter of the stage.

/**
 * Splits a field as written into all its leaves, unescaped; `""` leaves become `null`.
 *
 * @param text - the field as written (escaped)
 * @param d - the message's delimiters
 * @param charset - the message's declared character set, for `\X..\`
 */
export function fieldParts(
  text: string,
  d: Hl7Delimiters,
  charset: string | undefined,
): Hl7FieldParts {
  // One scan that cuts only the leaves: splitting level by level copies every part once per
  // level. Delimiters are single characters (checked when the message was parsed).
  const repetitionCode = d.repetition.charCodeAt(0);
  const componentCode = d.component.charCodeAt(0);
  const subcomponentCode = d.subcomponent.charCodeAt(0);
  let subcomponents: Hl7JsonLeaf[] = [];
  let components: Hl7JsonLeaf[][] = [subcomponents];
  const repetitions: Hl7FieldParts = [components];
  let start = 0;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code !== repetitionCode && code !== componentCode && code !== subcomponentCode) {
      continue;
    }
    subcomponents.push(leafOf(text.slice(start, at), d, charset));
    start = at + 1;
    if (code === subcomponentCode) {
      continue;
    }
    subcomponents = [];
    if (code === componentCode) {
      components.push(subcomponents);
    } else {
      components = [subcomponents];
      repetitions.push(components);
    }
  }
  subcomponents.push(leafOf(text.slice(start), d, charset));
  return repetitions;
}

/**
 * The JSON value of a split field: trailing empty parts trimmed at every level, and a level with
 * one part left collapsed to that part (see docs/hl7-json.md). The arrays are reused.
 *
 * @param parts - the field's leaves; holes read as empty
 */
export function canonicalField(parts: Hl7FieldParts): Hl7JsonValue {
  let repetitions = parts as unknown as Hl7JsonRepetition[];
  for (let r = 0; r < parts.length; r++) {
    let components = (parts[r] ?? []) as unknown as Hl7JsonComponent[];
    for (let c = 0; c < components.length; c++) {
      const subcomponents = trimEmpty((components[c] ?? []) as Hl7JsonLeaf[]);
      components[c] = subcomponents.length > 1 ? subcomponents : firstOrEmpty(subcomponents);
    }
    components = trimEmpty(components);
    const onlyComponent = firstOrEmpty(components);
    repetitions[r] =
      components.length > 1 || Array.isArray(onlyComponent) ? components : onlyComponent;
  }
  repetitions = trimEmpty(repetitions);
  const only = firstOrEmpty(repetitions);
  return repetitions.length > 1 || Array.isArray(only) ? repetitions : only;
}

function leafOf(part: string, d: Hl7Delimiters, charset: string | undefined): Hl7JsonLeaf {
  return part === NULL_VALUE ? null : unescapeHl7(part, d, charset);
}

/** The only part left after trimming; '' when none is (`null` is a value here, not absence). */
function firstOrEmpty<T>(parts: T[]): T | '' {
  return parts.length === 0 ? '' : parts[0];
}

/** Drops trailing parts that are empty strings or holes; the same array when none is. */
function trimEmpty<T>(parts: T[]): T[] {
  let end = parts.length;
  while (end > 0 && (parts[end - 1] === '' || parts[end - 1] === undefined)) {
    end--;
  }
  // A copy rather than setting `length`, which V8 does slowly.
  return end === parts.length ? parts : parts.slice(0, end);
}
