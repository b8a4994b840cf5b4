import type { Hl7Delimiters } from '../hl7/delimiters.js';
import type { Hl7Message, Hl7Segment } from '../hl7/message.js';
import { unescapeHl7 } from '../hl7/escape.js';
import { emptyKnownIdentifiers, KnownOnRead, KnownValues } from './free-text.js';
import type { KnownIdentifiers, ScrubberSource, ScrubOptions, TextScrubber } from './free-text.js';
import { parseHl7Selector, selectsSegment } from './hl7-selector.js';
import type { Hl7Selector } from './hl7-selector.js';
import { hl7PresetRules } from './presets.js';

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
    // PID-23, the birth place, is a plain place name.
    addresses: [11, 23],
    dates: [7, 29],
  },
  PD1: { ids: [10] },
  PV1: { ids: [5, 19, 50], dates: [44, 45] },
  MRG: { names: [7], ids: [1, 2, 3, 4, 5, 6] },
  NK1: {
    names: [2, 26, 30],
    ids: [12, 33, 37],
    phones: [5, 6, 31, 40, 41],
    addresses: [4, 32, 38],
    dates: [16],
  },
  // Mother's maiden name, contact person and their phone; death, hire and end of employment.
  GT1: {
    names: [3, 4, 42, 45],
    ids: [2, 12, 19, 29],
    phones: [6, 7, 18, 46],
    addresses: [5, 17, 56],
    dates: [8, 24, 31, 32],
  },
  IN1: { names: [16], ids: [14, 36, 49, 54], addresses: [19, 44, 52], dates: [18] },
  // Medicaid case name, military sponsor, mother's maiden name, employer's and insured's contacts.
  IN2: {
    names: [7, 9, 40, 49, 52],
    ids: [1, 2, 6, 8, 10, 26, 61],
    phones: [50, 53, 63, 64],
  },
  // The certification contact and case manager are written as plain text.
  IN3: { names: [15, 21], ids: [2], phones: [16] },
  CTD: { names: [2], phones: [5], addresses: [3] },
  // Deliver-to addresses of a dispense: usually the patient's home.
  RXE: { addresses: [43] },
  RXO: { addresses: [35] },
  RXG: { addresses: [30] },
  DB1: { ids: [3] },
  CON: { names: [24] },
  IAM: { names: [14] },
  ACC: { names: [9], addresses: [3, 11] },
};

/**
 * The identifiers of one message, from the fields above. They are read on first use, from the
 * message as it is then, so do not change the message while the result is in use (de-identifying
 * it does not). A scrubber for the message's free text is built straight from its fields
 * (`createTextScrubber` asks for it), without the lists: most messages are scrubbed, and few
 * are leak-checked.
 *
 * @param message - a parsed message
 */
export function collectHl7Identifiers(message: Hl7Message): KnownIdentifiers & ScrubberSource {
  return new MessageIdentifiers(message);
}

// Its lists are read only by the leak checker; de-identification asks for the scrubber.
class MessageIdentifiers extends KnownOnRead implements ScrubberSource {
  private readonly message: Hl7Message;

  constructor(message: Hl7Message) {
    super();
    this.message = message;
  }

  createScrubber(options: ScrubOptions): TextScrubber {
    const values = new KnownValues();
    collectMessage(this.message, new ValuesSink(values));
    return values.scrubber(options);
  }

  protected collect(): KnownIdentifiers {
    const known = emptyKnownIdentifiers();
    collectMessage(this.message, new ListsSink(known));
    return known;
  }
}

/**
 * Returns the text of the fields that are kept by design: staff, organisations, codes, and the
 * parts a pseudonym or a generalised value keeps (an assigning authority, a state). A value of
 * the patient's that also appears there (a provider with the patient's surname, the facility's
 * town) is kept by design; the leak checker counts only occurrences beyond these. Left out: the
 * identifier fields above, and every field the safe-harbor preset empties or scrubs (free text,
 * query parameters, fields no allow-list names, Z-segments), so an identifier they repeat still
 * counts. Call it before the message is de-identified.
 *
 * @param message - a parsed message
 */
export function hl7BaselineText(message: Hl7Message): string {
  const parts: string[] = [];
  for (const segment of message.segments) {
    const inBaseline = baselineFieldsOf(segment.name);
    for (let field = 1; field <= segment.fieldCount; field++) {
      if (inBaseline(field)) {
        parts.push(segment.getFieldText(field));
      }
    }
  }
  return parts.join('|');
}

/** The lists a collected value goes to (dates have their own call). */
type ValueKind = Exclude<keyof KnownIdentifiers, 'dates'>;

/** Where collected values go: trimmed, never empty. */
interface IdentifierSink {
  /** False skips date fields. */
  readonly wantsDates: boolean;
  add(kind: ValueKind, value: string): void;
  /** An ISO date, `YYYY-MM-DD`. */
  date(value: string): void;
}

// Fills the `KnownIdentifiers` lists.
class ListsSink implements IdentifierSink {
  readonly wantsDates = true;
  private readonly known: KnownIdentifiers;

  constructor(known: KnownIdentifiers) {
    this.known = known;
  }

  add(kind: ValueKind, value: string): void {
    this.known[kind].push(value);
  }

  date(value: string): void {
    this.known.dates.push(value);
  }
}

// Feeds the scrubber's values what the lists would hold. Free text is not searched for the
// record's dates (the date patterns find them), so dates are not read.
class ValuesSink implements IdentifierSink {
  readonly wantsDates = false;
  private readonly values: KnownValues;

  constructor(values: KnownValues) {
    this.values = values;
  }

  add(kind: ValueKind, value: string): void {
    switch (kind) {
      case 'names':
        return this.values.addName(value);
      case 'ids':
        return this.values.addId(value);
      case 'phones':
        return this.values.addPhone(value);
      case 'emails':
        return this.values.addEmail(value);
      case 'addresses':
        return this.values.addAddress(value);
      case 'zips':
        return this.values.addZip(value);
    }
  }

  date(): void {
    // Not read: `wantsDates` is false.
  }
}

// Hands a value as read (unescaped, null for `""`) to the sink, trimmed, unless it is empty.
function put(sink: IdentifierSink, kind: ValueKind, value: string | null): void {
  const trimmed = value === null ? '' : value.trim();
  if (trimmed !== '') {
    sink.add(kind, trimmed);
  }
}

function collectMessage(message: Hl7Message, sink: IdentifierSink): void {
  let reader: FieldReader | undefined;
  for (const segment of message.segments) {
    const fields = FIELDS[segment.name];
    if (fields !== undefined) {
      reader ??= new FieldReader(message);
      collectSegment(segment, fields, reader, sink);
    }
  }
}

// Fields are read by scanning for separators, without splitting them into arrays: this runs
// for every message, and what it allocates is most of its cost. A component is read whole
// (subcomponents joined as written), as `Hl7Repetition.get` reads it.
function collectSegment(
  segment: Hl7Segment,
  fields: SegmentFields,
  reader: FieldReader,
  sink: IdentifierSink,
): void {
  for (const field of fields.names ?? NONE) {
    for (let rep = reader.start(segment, field); rep; rep = reader.next()) {
      put(sink, 'names', reader.component(1));
      put(sink, 'names', reader.component(2));
      put(sink, 'names', reader.component(3));
    }
  }
  for (const field of fields.ids ?? NONE) {
    for (let rep = reader.start(segment, field); rep; rep = reader.next()) {
      put(sink, 'ids', reader.component(1, true));
    }
  }
  for (const field of fields.phones ?? NONE) {
    for (let rep = reader.start(segment, field); rep; rep = reader.next()) {
      // In rising order, so each is found from the one before (e-mail and phones are kept apart).
      put(sink, 'phones', reader.component(1));
      put(sink, 'emails', reader.component(4));
      const area = reader.component(6) ?? '';
      const local = reader.component(7) ?? '';
      put(sink, 'phones', area === '' ? local : local === '' ? area : area + local);
    }
  }
  for (const field of fields.addresses ?? NONE) {
    for (let rep = reader.start(segment, field); rep; rep = reader.next()) {
      put(sink, 'addresses', reader.component(1, true));
      put(sink, 'addresses', reader.component(2));
      put(sink, 'addresses', reader.component(3));
      put(sink, 'zips', reader.component(5));
    }
  }
  if (!sink.wantsDates) {
    return;
  }
  for (const field of fields.dates ?? NONE) {
    for (let rep = reader.start(segment, field); rep; rep = reader.next()) {
      const match = /^(\d{4})(\d{2})(\d{2})/.exec(reader.component(1) ?? '');
      if (match !== null) {
        sink.date(`${match[1]}-${match[2]}-${match[3]}`);
      }
    }
  }
}

const NONE: readonly number[] = [];

/** Walks the repetitions of one field at a time and reads their components in place. */
export class FieldReader {
  private readonly d: Hl7Delimiters;
  private readonly charset: string | undefined;
  private text = '';
  /** Bounds of the repetition in hand within `text`. */
  private from = 0;
  private to = -1;
  /** The last component read in this repetition, and where it starts. */
  private cursorPosition = 1;
  private cursorStart = 0;

  /**
   * @param message - the message whose segments are read; its delimiters and character set
   */
  constructor(message: Hl7Message) {
    this.d = message.delimiters;
    this.charset = message.charset;
  }

  /**
   * Moves to the field's first repetition; false when the field is empty.
   *
   * @param segment - a segment of the message
   * @param field - field number
   */
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
    this.cursorPosition = 1;
    this.cursorStart = this.from;
    const end = this.text.indexOf(this.d.repetition, this.from);
    this.to = end === -1 ? this.text.length : end;
    return true;
  }

  /**
   * A component of the repetition in hand, unescaped; its first subcomponent only if asked.
   * Components read in rising order are found from the last one read, not from the start.
   *
   * @param position - component number, from 1
   * @param firstSubcomponent - read only up to the first subcomponent separator
   */
  component(position: number, firstSubcomponent = false): string | null {
    const separator = this.d.component;
    let skipped = 1;
    let start = this.from;
    if (position >= this.cursorPosition) {
      skipped = this.cursorPosition;
      start = this.cursorStart;
    }
    for (; skipped < position; skipped++) {
      const at = this.text.indexOf(separator, start);
      if (at === -1 || at >= this.to) {
        return '';
      }
      start = at + 1;
    }
    this.cursorPosition = position;
    this.cursorStart = start;
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
    if (raw === '""') {
      return null;
    }
    // Most values hold no escape: no call into the unescaper for them.
    return raw.indexOf(this.d.escape) === -1 ? raw : unescapeHl7(raw, this.d, this.charset);
  }
}

// Whether a field of a segment is part of the baseline: not an identifier field, and not one
// the safe-harbor preset empties or scrubs, by the first rule that selects it (a rule with a
// condition, `OBX-5 where OBX-2 ...`, counts as scrubbing). Only the leak checker asks, so the
// answers are kept per segment name.
const BASELINE_BY_SEGMENT = new Map<string, (field: number) => boolean>();
const CONTENT_GOES = new Set(['redact', 'scrub', 'embeddedDocument', 'encrypt', 'substitute']);

function baselineFieldsOf(segmentName: string): (field: number) => boolean {
  let inBaseline = BASELINE_BY_SEGMENT.get(segmentName);
  if (inBaseline === undefined) {
    const fields = FIELDS[segmentName];
    const identifiers = new Set([
      ...(fields?.names ?? NONE),
      ...(fields?.ids ?? NONE),
      ...(fields?.phones ?? NONE),
      ...(fields?.addresses ?? NONE),
      ...(fields?.dates ?? NONE),
    ]);
    const rules = hl7PresetRules('safe-harbor')
      .map((rule) => ({ selector: parseHl7Selector(rule.path), method: rule.method }))
      .filter((rule) => selectsSegment(rule.selector, segmentName));
    const answers: boolean[] = [];
    inBaseline = (field) => {
      answers[field] ??= !identifiers.has(field) && !contentGoes(rules, field);
      return answers[field];
    };
    BASELINE_BY_SEGMENT.set(segmentName, inBaseline);
  }
  return inBaseline;
}

function contentGoes(
  rules: ReadonlyArray<{ selector: Hl7Selector; method: string }>,
  field: number,
): boolean {
  const rule = rules.find(({ selector }) => selector.field === '*' || selector.field === field);
  return rule !== undefined && (rule.selector.where !== undefined || CONTENT_GOES.has(rule.method));
}
