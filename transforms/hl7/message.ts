import type { Hl7Delimiters } from './delimiters.js';
import { Hl7Repetition, NULL_VALUE, joinParts } from './repetition.js';

/*
 * A parsed HL7 message keeps each segment's raw text and terminator, so an unmodified message
 * serialises back exactly. Fields are split on first use, and a segment is rebuilt from its
 * fields only once something in it is set; its old raw text is then discarded.
 *
 * Field paths: `SEG-f[r].c.s`, e.g. `PID-3[2].1.2` is field 3, repetition 2, component 1,
 * subcomponent 2. Repetition defaults to 1. Reading:
 * - `PID-5` is the first repetition, unescaped, component separators left in place
 *   (`DOE^JOHN`); ask for a component to read one part.
 * - `PID-5.1` is component 1 of repetition 1 (subcomponent separators left in place).
 * - A part written as `""` (HL7's explicit null) reads as `null`; an absent or empty one as ''.
 * - `MSH-1` is the field separator and `MSH-2` the encoding characters, as written.
 * Writing (`set`) replaces exactly the part the path names: `PID-5` the whole field (all
 * repetitions), `PID-3[2]` one repetition, `PID-11.5` one component. The value is escaped;
 * `null` writes `""` and '' empties the part. Trailing empty parts are trimmed afterwards.
 */

/** A field path broken into numbers (all one-based). */
export interface Hl7FieldPath {
  segmentName: string;
  field: number;
  repetition?: number;
  component?: number;
  subcomponent?: number;
}

const PATH_PATTERN = /^([A-Z][A-Z0-9]{2})-(\d+)(?:\[(\d+)\])?(?:\.(\d+)(?:\.(\d+))?)?$/;

/**
 * Reads a field path such as `PID-3[2].1.2`. A malformed path is a programming error, not bad
 * input, so it throws a `RangeError` (which quotes the path, never a value).
 *
 * @param path - the path to read
 */
export function parseFieldPath(path: string): Hl7FieldPath {
  const match = PATH_PATTERN.exec(path);
  const numbers = match?.slice(2).map((part) => (part === undefined ? undefined : Number(part)));
  if (!match || !numbers || numbers.some((n) => n !== undefined && n < 1)) {
    throw new RangeError(`Expected an HL7 field path like PID-3[2].1.2, got ${path}`);
  }
  const [field, repetition, component, subcomponent] = numbers;
  return { segmentName: match[1], field: field as number, repetition, component, subcomponent };
}

/** One segment of a parsed HL7 message. */
export class Hl7Segment {
  /** Segment id, such as `PID`. */
  readonly name: string;
  /** One-based position in the HL7 message (MSH is 1). */
  readonly index: number;
  /** The terminator that followed the segment as written: `\r`, `\r\n`, `\n`, or '' at the end. */
  readonly terminator: string;
  private readonly delimiters: Hl7Delimiters;
  private raw: string;
  private fields: string[] | undefined;
  private dirty = false;

  /**
   * @param name - segment id
   * @param index - one-based position in the HL7 message
   * @param raw - the segment's text as written, without its terminator
   * @param terminator - the terminator that followed it
   * @param delimiters - the delimiters of its message
   */
  constructor(
    name: string,
    index: number,
    raw: string,
    terminator: string,
    delimiters: Hl7Delimiters,
  ) {
    this.name = name;
    this.index = index;
    this.raw = raw;
    this.terminator = terminator;
    this.delimiters = delimiters;
  }

  /** True once anything in the segment has been set. */
  get modified(): boolean {
    return this.dirty;
  }

  /** The highest field number present (0 for a segment with no fields). */
  get fieldCount(): number {
    return this.splitFields().length - 1;
  }

  /**
   * The raw (still escaped) text of a field, '' when absent.
   *
   * @param field - field number
   */
  getFieldText(field: number): string {
    return this.splitFields()[field] ?? '';
  }

  /**
   * How many repetitions a field has (0 when empty).
   *
   * @param field - field number
   */
  repetitionCount(field: number): number {
    const text = this.getFieldText(field);
    if (text === '' || this.isVerbatim(field)) {
      return text === '' ? 0 : 1;
    }
    return text.split(this.delimiters.repetition).length;
  }

  /**
   * Reads one part of a field, unescaped; see the path rules at the top of this file.
   *
   * @param field - field number
   * @param repetition - repetition number, default 1
   * @param component - component number; omit for the whole repetition
   * @param subcomponent - subcomponent number; omit for the whole component
   */
  getValue(
    field: number,
    repetition = 1,
    component?: number,
    subcomponent?: number,
  ): string | null {
    const text = this.getFieldText(field);
    if (this.isVerbatim(field)) {
      return repetition === 1 && component === undefined ? text : '';
    }

    const repetitionText = text.split(this.delimiters.repetition)[repetition - 1] ?? '';
    return new Hl7Repetition(repetitionText, this.delimiters).get(component, subcomponent);
  }

  /**
   * The repetitions of a field, for reading several parts without splitting it again.
   *
   * @param field - field number (MSH-1 and MSH-2 have none)
   */
  repetitions(field: number): Hl7Repetition[] {
    const text = this.getFieldText(field);
    if (text === '' || this.isVerbatim(field)) {
      return [];
    }
    return text.split(this.delimiters.repetition).map((r) => new Hl7Repetition(r, this.delimiters));
  }

  /**
   * Edits every repetition of a field in one pass, then writes the field back once.
   *
   * @param field - field number (MSH-1 and MSH-2 cannot be set)
   * @param edit - called with each repetition and its zero-based position
   */
  editRepetitions(field: number, edit: (repetition: Hl7Repetition, index: number) => void): void {
    this.assertSettable(field);
    const repetitions = this.repetitions(field);
    if (repetitions.length === 0) {
      return;
    }
    repetitions.forEach(edit);
    const texts = repetitions.map((repetition) => repetition.toText());
    this.splitFields()[field] = joinParts(texts, this.delimiters.repetition);
    this.dirty = true;
  }

  /**
   * Reads a path such as `PID-3[2].1`; the segment name in the path must be this segment's.
   *
   * @param path - field path
   */
  get(path: string): string | null {
    const p = this.ownPath(path);
    return this.getValue(p.field, p.repetition, p.component, p.subcomponent);
  }

  /**
   * Writes one part of a field; see the path rules at the top of this file.
   *
   * @param value - the new value, unescaped; `null` writes HL7's explicit null `""`
   * @param field - field number (MSH-1 and MSH-2 cannot be set)
   * @param repetition - repetition number; omit to replace the whole field
   * @param component - component number; omit to replace the whole repetition
   * @param subcomponent - subcomponent number; omit to replace the whole component
   */
  setValue(
    value: string | null,
    field: number,
    repetition?: number,
    component?: number,
    subcomponent?: number,
  ): void {
    this.assertSettable(field);
    const d = this.delimiters;
    const fields = this.splitFields();
    while (fields.length <= field) {
      fields.push('');
    }

    if (repetition === undefined && component === undefined) {
      const whole = new Hl7Repetition('', d);
      whole.set(value);
      fields[field] = whole.toText();
    } else {
      const reps = fields[field] === '' ? [] : fields[field].split(d.repetition);
      const index = (repetition ?? 1) - 1;
      const edited = new Hl7Repetition(reps[index] ?? '', d);
      edited.set(value, component, subcomponent);
      reps[index] = edited.toText();
      fields[field] = joinParts(reps, d.repetition);
    }
    this.dirty = true;
  }

  /**
   * Writes a path such as `PID-11.5`; the segment name in the path must be this segment's.
   *
   * @param path - field path
   * @param value - the new value; see {@link Hl7Segment.setValue}
   */
  set(path: string, value: string | null): void {
    const p = this.ownPath(path);
    this.setValue(value, p.field, p.repetition, p.component, p.subcomponent);
  }

  /** The segment's text without its terminator: as written, or rebuilt once modified. */
  toText(): string {
    if (this.dirty && this.fields) {
      const separator = this.delimiters.field;
      // MSH-1 is the separator between `MSH` and MSH-2, not a field between two separators.
      this.raw =
        this.name === 'MSH'
          ? 'MSH' + separator + this.fields.slice(2).join(separator)
          : this.fields.join(separator);
    }
    return this.raw;
  }

  private splitFields(): string[] {
    if (this.fields) {
      return this.fields;
    }
    const separator = this.delimiters.field;
    if (this.name === 'MSH') {
      // MSH-1 is the separator itself; splitting what follows it gives MSH-2 onwards.
      this.fields = ['MSH', separator, ...this.raw.slice(4).split(separator)];
    } else {
      this.fields = this.raw.split(separator);
    }
    return this.fields;
  }

  private assertSettable(field: number): void {
    if (field < 1 || !Number.isInteger(field) || this.isVerbatim(field)) {
      throw new RangeError(`${this.name}-${field} cannot be set`);
    }
  }

  private isVerbatim(field: number): boolean {
    return this.name === 'MSH' && (field === 1 || field === 2);
  }

  private ownPath(path: string): Hl7FieldPath {
    const parsed = parseFieldPath(path);
    if (parsed.segmentName !== this.name) {
      throw new RangeError(`Expected a path into ${this.name}, got ${path}`);
    }
    return parsed;
  }
}

/** A parsed HL7 message. Lives inside a worker only; `hl7ToJson` gives the plain-data form. */
export class Hl7Message {
  /** Zero-based index of the HL7 message in the batch. */
  readonly messageIndex: number;
  readonly delimiters: Hl7Delimiters;
  /** All segments in order; each has `name` and one-based `index`. */
  readonly segments: readonly Hl7Segment[];

  /**
   * @param messageIndex - zero-based index of the HL7 message in the batch
   * @param delimiters - the delimiters from MSH-1 and MSH-2
   * @param segments - the segments, MSH first
   */
  constructor(messageIndex: number, delimiters: Hl7Delimiters, segments: readonly Hl7Segment[]) {
    this.messageIndex = messageIndex;
    this.delimiters = delimiters;
    this.segments = segments;
  }

  /** MSH-9 as `type^trigger` (`ADT^A01`), or just the type (`ACK`), always joined with `^`. */
  get messageType(): string {
    const msh = this.segments[0];
    const type = msh.getValue(9, 1, 1) ?? '';
    const trigger = msh.getValue(9, 1, 2) ?? '';
    return trigger === '' ? type : `${type}^${trigger}`;
  }

  /** MSH-12 component 1, the HL7 version (`2.5.1`). */
  get version(): string {
    return this.segments[0].getValue(12, 1, 1) ?? '';
  }

  /** True once anything in the message has been set. */
  get modified(): boolean {
    return this.segments.some((segment) => segment.modified);
  }

  /**
   * Every segment with a given id, in order.
   *
   * @param name - segment id, such as `NK1`
   */
  segmentsNamed(name: string): Hl7Segment[] {
    return this.segments.filter((segment) => segment.name === name);
  }

  /**
   * Reads a path from the first segment with that id; '' when there is none.
   *
   * @param path - field path, such as `PID-3[2].1`
   */
  get(path: string): string | null {
    const name = parseFieldPath(path).segmentName;
    const segment = this.segments.find((s) => s.name === name);
    return segment ? segment.get(path) : '';
  }

  /**
   * Reads a path from every segment with that id.
   *
   * @param path - field path, such as `OBX-5`
   */
  getAll(path: string): Array<string | null> {
    const name = parseFieldPath(path).segmentName;
    return this.segmentsNamed(name).map((segment) => segment.get(path));
  }

  /**
   * Writes a path in the first segment with that id. Returns false when there is none.
   *
   * @param path - field path, such as `PID-5`
   * @param value - the new value; see {@link Hl7Segment.setValue}
   */
  set(path: string, value: string | null): boolean {
    const name = parseFieldPath(path).segmentName;
    const segment = this.segments.find((s) => s.name === name);
    segment?.set(path, value);
    return segment !== undefined;
  }
}

/**
 * Writes a message back as HL7 text, each segment followed by its original terminator. An
 * unmodified message gives back exactly the text it was parsed from.
 *
 * @param message - the message to write
 */
export function serializeHl7(message: Hl7Message): string {
  let text = '';
  for (const segment of message.segments) {
    text += segment.toText() + segment.terminator;
  }
  return text;
}
