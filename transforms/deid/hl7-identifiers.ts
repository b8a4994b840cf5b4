import type { Hl7Delimiters } from '../hl7/delimiters.js';
import type { Hl7Message, Hl7Segment } from '../hl7/message.js';
import { unescapeHl7 } from '../hl7/escape.js';
import { emptyKnownIdentifiers } from './free-text.js';
import type { KnownIdentifiers } from './free-text.js';

/*
 * The identifiers an HL7 v2 message's structured fields carry about the patient and relatives:
 * what free text in the same message is scrubbed of, and what the leak checker looks for in the
 * output. Positions follow HL7 v2.5.1 (v2.7 telecom fields included).
 */

/** Field positions per segment, by what they hold. */
interface SegmentFields {
  /** XPN: family (with its subcomponents), given, middle. */
  names?: number[];
  /** CX and plain ids: component 1. */
  ids?: number[];
  /** XTN: the formatted number, area code plus local number, and e-mail. */
  phones?: number[];
  /** XAD: street lines and town; ZIP. */
  addresses?: number[];
  /** DT, DTM, TS: full dates only. */
  dates?: number[];
}

const FIELDS: Readonly<Record<string, SegmentFields>> = {
  PID: {
    names: [5, 6, 9],
    ids: [2, 3, 4, 18, 19, 20, 21],
    phones: [13, 14, 40],
    addresses: [11],
    dates: [7, 29],
  },
  PD1: {},
  PV1: { ids: [5, 19, 50], dates: [44, 45] },
  MRG: { names: [7], ids: [1, 2, 3, 4, 5, 6] },
  NK1: {
    names: [2, 26, 30],
    ids: [12, 33, 37],
    phones: [5, 6, 31, 40, 41],
    addresses: [4, 32],
    dates: [16],
  },
  GT1: { names: [3, 4], ids: [2, 12, 19], phones: [6, 7, 18], addresses: [5, 17], dates: [8] },
  IN1: { names: [16], ids: [36, 49], addresses: [19, 44], dates: [18] },
  IN2: { ids: [1, 2, 8, 61], phones: [63, 64] },
};

/**
 * Collects the identifiers of one message from the fields above. Call it before the message is
 * de-identified.
 *
 * @param message - a parsed message
 */
export function collectHl7Identifiers(message: Hl7Message): KnownIdentifiers {
  const known = emptyKnownIdentifiers();
  for (const segment of message.segments) {
    const fields = FIELDS[segment.name];
    if (fields !== undefined) {
      collectSegment(segment, fields, known, message);
    }
  }
  return known;
}

/**
 * Returns the text of the fields that are neither identifier fields above nor free text or
 * values (OBX-5, NTE-3, Z-segments): staff, organisations, codes. A value of the patient's that also appears
 * there (a provider with the patient's surname, the facility's town) is kept by design; the leak
 * checker counts only occurrences beyond these. Call it before the message is de-identified.
 *
 * @param message - a parsed message
 */
export function hl7BaselineText(message: Hl7Message): string {
  const parts: string[] = [];
  for (const segment of message.segments) {
    const fields = FIELDS[segment.name];
    if (segment.name.startsWith('Z')) {
      continue;
    }
    const skipped = new Set([
      ...(fields?.names ?? []),
      ...(fields?.ids ?? []),
      ...(fields?.phones ?? []),
      ...(fields?.addresses ?? []),
      ...(fields?.dates ?? []),
      ...(segment.name === 'OBX' ? [5] : []),
      ...(segment.name === 'NTE' ? [3] : []),
    ]);
    for (let field = 1; field <= segment.fieldCount; field++) {
      if (!skipped.has(field)) {
        parts.push(segment.getFieldText(field));
      }
    }
  }
  return parts.join('|');
}

// Fields are read by scanning for separators, without splitting them into arrays: this runs
// for every message, and what it allocates is most of its cost. A component is read whole
// (subcomponents joined as written), as `Hl7Repetition.get` reads it.
function collectSegment(
  segment: Hl7Segment,
  fields: SegmentFields,
  known: KnownIdentifiers,
  message: Hl7Message,
): void {
  const reader = new FieldReader(message);
  for (const field of fields.names ?? []) {
    for (let rep = reader.start(segment, field); rep; rep = reader.next()) {
      pushValue(known.names, reader.component(1));
      pushValue(known.names, reader.component(2));
      pushValue(known.names, reader.component(3));
    }
  }
  for (const field of fields.ids ?? []) {
    for (let rep = reader.start(segment, field); rep; rep = reader.next()) {
      pushValue(known.ids, reader.component(1, true));
    }
  }
  for (const field of fields.phones ?? []) {
    for (let rep = reader.start(segment, field); rep; rep = reader.next()) {
      pushValue(known.phones, reader.component(1));
      pushValue(known.phones, `${reader.component(6) ?? ''}${reader.component(7) ?? ''}`);
      pushValue(known.emails, reader.component(4));
    }
  }
  for (const field of fields.addresses ?? []) {
    for (let rep = reader.start(segment, field); rep; rep = reader.next()) {
      pushValue(known.addresses, reader.component(1, true));
      pushValue(known.addresses, reader.component(2));
      pushValue(known.addresses, reader.component(3));
      pushValue(known.zips, reader.component(5));
    }
  }
  for (const field of fields.dates ?? []) {
    for (let rep = reader.start(segment, field); rep; rep = reader.next()) {
      const match = /^(\d{4})(\d{2})(\d{2})/.exec(reader.component(1) ?? '');
      if (match !== null) {
        known.dates.push(`${match[1]}-${match[2]}-${match[3]}`);
      }
    }
  }
}

// Walks the repetitions of one field at a time and reads their components in place.
class FieldReader {
  private readonly d: Hl7Delimiters;
  private readonly charset: string | undefined;
  private text = '';
  /** Bounds of the repetition in hand within `text`. */
  private from = 0;
  private to = -1;

  constructor(message: Hl7Message) {
    this.d = message.delimiters;
    this.charset = message.charset;
  }

  /** Moves to the field's first repetition; false when the field is empty. */
  start(segment: Hl7Segment, field: number): boolean {
    this.text = segment.getFieldText(field);
    if (this.text === '') {
      return false;
    }
    this.to = -1;
    return this.next();
  }

  /** Moves to the next repetition; false after the last. */
  next(): boolean {
    if (this.to >= this.text.length) {
      return false;
    }
    this.from = this.to + 1;
    const end = this.text.indexOf(this.d.repetition, this.from);
    this.to = end === -1 ? this.text.length : end;
    return true;
  }

  /** A component of the repetition in hand, unescaped; its first subcomponent only if asked. */
  component(position: number, firstSubcomponent = false): string | null {
    const separator = this.d.component;
    let start = this.from;
    for (let skipped = 1; skipped < position; skipped++) {
      const at = this.text.indexOf(separator, start);
      if (at === -1 || at >= this.to) {
        return '';
      }
      start = at + 1;
    }
    let end = this.text.indexOf(separator, start);
    if (end === -1 || end > this.to) {
      end = this.to;
    }
    if (firstSubcomponent) {
      const sub = this.text.indexOf(this.d.subcomponent, start);
      if (sub !== -1 && sub < end) {
        end = sub;
      }
    }
    const raw = this.text.slice(start, end);
    return raw === '""' ? null : unescapeHl7(raw, this.d, this.charset);
  }
}

function pushValue(list: string[], value: string | null): void {
  const trimmed = value?.trim() ?? '';
  if (trimmed !== '') {
    list.push(trimmed);
  }
}
