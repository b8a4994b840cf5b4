import type { Hl7Message, Hl7Segment } from '../hl7/message.js';
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
      collectSegment(segment, fields, known);
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

function collectSegment(segment: Hl7Segment, fields: SegmentFields, known: KnownIdentifiers): void {
  for (const field of fields.names ?? []) {
    for (const repetition of segment.repetitions(field)) {
      for (const component of [1, 2, 3]) {
        pushValue(known.names, repetition.get(component));
      }
    }
  }
  for (const field of fields.ids ?? []) {
    for (const repetition of segment.repetitions(field)) {
      pushValue(known.ids, repetition.get(1, 1));
    }
  }
  for (const field of fields.phones ?? []) {
    for (const repetition of segment.repetitions(field)) {
      pushValue(known.phones, repetition.get(1));
      pushValue(known.phones, `${repetition.get(6) ?? ''}${repetition.get(7) ?? ''}`);
      pushValue(known.emails, repetition.get(4));
    }
  }
  for (const field of fields.addresses ?? []) {
    for (const repetition of segment.repetitions(field)) {
      pushValue(known.addresses, repetition.get(1, 1));
      pushValue(known.addresses, repetition.get(2));
      pushValue(known.addresses, repetition.get(3));
      pushValue(known.zips, repetition.get(5));
    }
  }
  for (const field of fields.dates ?? []) {
    for (const repetition of segment.repetitions(field)) {
      const match = /^(\d{4})(\d{2})(\d{2})/.exec(repetition.get(1) ?? '');
      if (match !== null) {
        known.dates.push(`${match[1]}-${match[2]}-${match[3]}`);
      }
    }
  }
}

function pushValue(list: string[], value: string | null): void {
  const trimmed = value?.trim() ?? '';
  if (trimmed !== '') {
    list.push(trimmed);
  }
}
