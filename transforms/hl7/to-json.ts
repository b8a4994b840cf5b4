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

/**
 * Converts a parsed (and usually de-identified) HL7 message to its NDJSON record; the shape is
 * described above.
 *
 * @param message - the message to convert
 */
export function hl7ToJson(message: Hl7Message): Hl7JsonRecord {
  return {
    messageType: message.messageType,
    version: message.version,
    segments: message.segments.map((segment) =>
      segmentToJson(segment, message.delimiters, message.charset),
    ),
  };
}

function segmentToJson(
  segment: Hl7Segment,
  d: Hl7Delimiters,
  charset: string | undefined,
): Hl7JsonSegment {
  const fields: Record<string, Hl7JsonValue> = {};
  for (let field = 1; field <= segment.fieldCount; field++) {
    const key = `${segment.name}-${field}`;
    const text = segment.getFieldText(field);
    if (segment.name === 'MSH' && field <= 2) {
      fields[key] = text;
      continue;
    }
    const value = fieldToJson(text, d, charset);
    if (value !== '') {
      fields[key] = value;
    }
  }
  return { segment: segment.name, index: segment.index, fields };
}

// Plain loops and no per-field closures: this runs for every field of every message, and a
// closure per call (named by the tsx/esbuild keepNames wrapper) cost a quarter of the stage.
function fieldToJson(text: string, d: Hl7Delimiters, charset: string | undefined): Hl7JsonValue {
  if (!text.includes(d.repetition) && !text.includes(d.component) && !text.includes(d.subcomponent)) {
    return leafOf(text, d, charset);
  }

  const repetitions: Hl7JsonRepetition[] = [];
  for (const repetitionText of text.split(d.repetition)) {
    const components: Hl7JsonComponent[] = [];
    for (const componentText of repetitionText.split(d.component)) {
      const subcomponents: Hl7JsonLeaf[] = [];
      for (const subcomponentText of componentText.split(d.subcomponent)) {
        subcomponents.push(leafOf(subcomponentText, d, charset));
      }
      const trimmedSubcomponents = trimEmpty(subcomponents);
      components.push(
        trimmedSubcomponents.length > 1 ? trimmedSubcomponents : firstOrEmpty(trimmedSubcomponents),
      );
    }
    const trimmedComponents = trimEmpty(components);
    const onlyComponent = firstOrEmpty(trimmedComponents);
    repetitions.push(
      trimmedComponents.length > 1 || Array.isArray(onlyComponent) ? trimmedComponents : onlyComponent,
    );
  }

  const trimmed = trimEmpty(repetitions);
  const only = firstOrEmpty(trimmed);
  return trimmed.length > 1 || Array.isArray(only) ? trimmed : only;
}

function leafOf(part: string, d: Hl7Delimiters, charset: string | undefined): Hl7JsonLeaf {
  return part === NULL_VALUE ? null : unescapeHl7(part, d, charset);
}

/** The only part left after trimming; '' when none is (`null` is a value here, not absence). */
function firstOrEmpty<T>(parts: T[]): T | '' {
  return parts.length === 0 ? '' : parts[0];
}

/** Drops trailing parts that are empty strings. */
function trimEmpty<T>(parts: T[]): T[] {
  let end = parts.length;
  while (end > 0 && parts[end - 1] === '') {
    end--;
  }
  return parts.slice(0, end);
}
