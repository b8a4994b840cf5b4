import { parseHl7DateTime } from './datatypes.js';
import type { Hl7DateTimeResult } from './datatypes.js';
import type { Hl7Delimiters } from './delimiters.js';
import { unescapeHl7 } from './escape.js';
import { Hl7Repetition, NULL_VALUE, joinParts } from './repetition.js';

/*
 * A parsed HL7 message keeps its text as written, each segment as a range of it with its own
 * terminator, so an unmodified message serialises back exactly. Nothing is split up front: a
 * read finds the field separators of the segment up to the field it needs (once, then
 * remembered), narrows to the repetition, component and subcomponent with `indexOf` scans, and
 * makes one string, the value. Only values that hold the escape character are unescaped. A
 * segment is split into field strings only once something in it is set; its text is then
 * rebuilt from them.
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
const PATH_CACHE_LIMIT = 1000;
const pathCache = new Map<string, Readonly<Hl7FieldPath>>();

/**
 * Reads a field path such as `PID-3[2].1.2`. A malformed path is a programming error, not bad
 * input, so it throws a `RangeError` (which quotes the path, never a value).
 *
 * @param path - the path to read
 */
export function parseFieldPath(path: string): Hl7FieldPath {
  return { ...readPath(path) };
}

/** {@link parseFieldPath}, shared and frozen: paths repeat, so they are read once. */
function readPath(path: string): Readonly<Hl7FieldPath> {
  const cached = pathCache.get(path);
  if (cached) {
    return cached;
  }
  const match = PATH_PATTERN.exec(path);
  const numbers = match?.slice(2).map((part) => (part === undefined ? undefined : Number(part)));
  if (!match || !numbers || numbers.some((n) => n !== undefined && n < 1)) {
    throw new RangeError(`Expected an HL7 field path like PID-3[2].1.2, got ${path}`);
  }
  const [field, repetition, component, subcomponent] = numbers;
  const parsed = Object.freeze({
    segmentName: match[1],
    field: field as number,
    repetition,
    component,
    subcomponent,
  });
  if (pathCache.size >= PATH_CACHE_LIMIT) {
    pathCache.clear();
  }
  pathCache.set(path, parsed);
  return parsed;
}

/**
 * Finds one delimiter in a text and remembers the last answer. If the first occurrence at or
 * after `f` is `a`, it is also the first at or after any index between `f` and `a`; reads move
 * forward through a message, so most lookups reuse the last one, and a delimiter that is rare
 * or absent costs one scan per message, not one per segment.
 */
class DelimiterFinder {
  private from = 0;
  private at = -2;

  constructor(
    private readonly text: string,
    private readonly delimiter: string,
  ) {}

  /** The first index of the delimiter at or after `from`, or -1. */
  next(from: number): number {
    const at = this.at;
    if (at !== -2 && from >= this.from && (at === -1 || from <= at)) {
      return at;
    }
    this.from = from;
    this.at = this.text.indexOf(this.delimiter, from);
    return this.at;
  }
}

/**
 * The text of one parsed message, shared by its segments, with the finders their reads use.
 * `parseHl7` makes one per message; segments made from a string get their own.
 */
export class Hl7Text {
  readonly text: string;
  readonly repetitions: DelimiterFinder;
  readonly components: DelimiterFinder;
  readonly subcomponents: DelimiterFinder;

  /**
   * @param text - the message text
   * @param delimiters - its delimiters
   */
  constructor(text: string, delimiters: Hl7Delimiters) {
    this.text = text;
    this.repetitions = new DelimiterFinder(text, delimiters.repetition);
    this.components = new DelimiterFinder(text, delimiters.component);
    this.subcomponents = new DelimiterFinder(text, delimiters.subcomponent);
  }
}

// Where the last `narrow` call found its part: `[partStart, partEnd)`.
let partStart = 0;
let partEnd = 0;

/**
 * Finds part `n` (one-based) of `[start, end)` of the finder's text, split at its delimiter,
 * leaving it in `partStart` and `partEnd`; an absent part is empty. Scans only up to the part.
 */
function narrow(finder: DelimiterFinder, start: number, end: number, n: number): void {
  let from = start;
  for (let k = 1; k < n; k++) {
    const at = finder.next(from);
    if (at === -1 || at >= end) {
      partStart = end;
      partEnd = end;
      return;
    }
    from = at + 1;
  }
  const at = finder.next(from);
  partStart = from;
  partEnd = at === -1 || at >= end ? end : at;
}

/** {@link narrow} for a short string of its own (a field once a segment is modified). */
function narrowString(
  text: string,
  start: number,
  end: number,
  delimiter: string,
  n: number,
): void {
  let from = start;
  for (let k = 1; k < n; k++) {
    const at = text.indexOf(delimiter, from);
    if (at === -1 || at >= end) {
      partStart = end;
      partEnd = end;
      return;
    }
    from = at + 1;
  }
  const at = text.indexOf(delimiter, from);
  partStart = from;
  partEnd = at === -1 || at >= end ? end : at;
}

/** One segment of a parsed HL7 message. */
export class Hl7Segment {
  /** Segment id, such as `PID`. */
  readonly name: string;
  /** One-based position in the HL7 message (MSH is 1). */
  readonly index: number;
  /** The terminator that followed the segment as written: `\r`, `\r\n`, `\n`, or '' at the end. */
  readonly terminator: string;
  /** The message's declared character set (WHATWG name), for `\X..\`; undefined when undeclared. */
  readonly charset: string | undefined;
  private readonly delimiters: Hl7Delimiters;
  /** 1 for MSH, whose field 1 is the separator right after the name; 0 for other segments. */
  private readonly shift: number;
  /** The text the segment is in (usually its whole message), and where in it the segment is. */
  private shared: Hl7Text | undefined;
  private source: string;
  private begin: number;
  private finish: number;
  /** Positions in `source` of the field separators found so far, in order; none until a read. */
  private separators: number[] | undefined;
  private separatorsComplete = false;
  /** The field strings, once something is set; then they are the segment's truth. */
  private fields: string[] | undefined;
  /** `fieldCount` of the raw text, once read. */
  private rawFieldCount: number | undefined;
  private dirty = false;

  /**
   * @param name - segment id
   * @param index - one-based position in the HL7 message
   * @param raw - the segment's text as written, without its terminator; or, with `start` and
   *   `end`, the message text it is part of (`parseHl7` passes that, which saves a copy per
   *   segment)
   * @param terminator - the terminator that followed it
   * @param delimiters - the delimiters of its message
   * @param charset - the message's declared character set; omit when MSH-18 is empty
   * @param start - where the segment starts in `raw`; default 0
   * @param end - where it ends in `raw` (its terminator's index); default the end of `raw`
   */
  constructor(
    name: string,
    index: number,
    raw: string | Hl7Text,
    terminator: string,
    delimiters: Hl7Delimiters,
    charset?: string,
    start = 0,
    end = typeof raw === 'string' ? raw.length : raw.text.length,
  ) {
    this.name = name;
    this.index = index;
    this.shared = typeof raw === 'string' ? undefined : raw;
    this.source = typeof raw === 'string' ? raw : raw.text;
    this.begin = start;
    this.finish = end;
    this.terminator = terminator;
    this.delimiters = delimiters;
    this.charset = charset;
    this.shift = name === 'MSH' ? 1 : 0;
  }

  /** True once anything in the segment has been set. */
  get modified(): boolean {
    return this.dirty;
  }

  /** The highest field number present (0 for a segment with no fields). */
  get fieldCount(): number {
    if (this.fields) {
      return this.fields.length - 1;
    }
    // The raw text does not change until a field is set (which splits the fields), and the
    // count is read for every field a converter visits.
    if (this.rawFieldCount === undefined) {
      const count = this.findSeparators(Number.MAX_SAFE_INTEGER).length;
      this.rawFieldCount = count === 0 ? 0 : count + this.shift;
    }
    return this.rawFieldCount;
  }

  /**
   * The raw (still escaped) text of a field, '' when absent.
   *
   * @param field - field number
   */
  getFieldText(field: number): string {
    if (this.fields) {
      return this.fields[field] ?? '';
    }
    if (!this.locateField(field)) {
      return '';
    }
    return this.source.slice(partStart, partEnd);
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
    const separator = this.delimiters.repetition;
    let count = 1;
    for (let at = text.indexOf(separator); at !== -1; at = text.indexOf(separator, at + 1)) {
      count++;
    }
    return count;
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
    if (this.isVerbatim(field)) {
      return repetition === 1 && component === undefined ? this.getFieldText(field) : '';
    }
    const d = this.delimiters;
    if (this.fields) {
      const text = this.fields[field] ?? '';
      narrowString(text, 0, text.length, d.repetition, repetition);
      if (component !== undefined) {
        narrowString(text, partStart, partEnd, d.component, component);
        if (subcomponent !== undefined) {
          narrowString(text, partStart, partEnd, d.subcomponent, subcomponent);
        }
      }
      return this.valueAt(text);
    }
    if (!this.locateField(field)) {
      return '';
    }
    const shared = (this.shared ??= new Hl7Text(this.source, d));
    narrow(shared.repetitions, partStart, partEnd, repetition);
    if (component !== undefined) {
      narrow(shared.components, partStart, partEnd, component);
      if (subcomponent !== undefined) {
        narrow(shared.subcomponents, partStart, partEnd, subcomponent);
      }
    }
    return this.valueAt(this.source);
  }

  /** The value at `[partStart, partEnd)` of `text`: `null` for `""`, else unescaped. */
  private valueAt(text: string): string | null {
    if (partEnd - partStart === 2 && text.startsWith(NULL_VALUE, partStart)) {
      return null;
    }
    const value = text.slice(partStart, partEnd);
    return unescapeHl7(value, this.delimiters, this.charset);
  }

  /**
   * Reads a DTM or TS part as a date/time, keeping its precision and offset; see
   * `parseHl7DateTime`. For a TS field, the time is component 1: pass `component` 1, or leave it
   * out and it is taken for you. `value` is `undefined` for an empty part and `null` for HL7's
   * explicit null; text that is not a date/time gives `HL7_BAD_DATATYPE` with the position.
   *
   * @param field - field number
   * @param repetition - repetition number, default 1
   * @param component - component number; default 1
   */
  getDateTime(field: number, repetition = 1, component = 1): Hl7DateTimeResult {
    const value = this.getValue(field, repetition, component);
    if (value === null) {
      return { ok: true, value: null };
    }
    const text = value.trim();
    if (text === '') {
      return { ok: true, value: undefined };
    }
    const parsed = parseHl7DateTime(text);
    if (!parsed.ok) {
      return {
        ok: false,
        code: parsed.code,
        position: {
          segmentIndex: this.index,
          segmentName: this.name,
          field: `${this.name}-${field}`,
        },
      };
    }
    return parsed;
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
    return text
      .split(this.delimiters.repetition)
      .map((r) => new Hl7Repetition(r, this.delimiters, this.charset));
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
      const whole = new Hl7Repetition('', d, this.charset);
      whole.set(value);
      fields[field] = whole.toText();
    } else {
      const reps = fields[field] === '' ? [] : fields[field].split(d.repetition);
      const index = (repetition ?? 1) - 1;
      const edited = new Hl7Repetition(reps[index] ?? '', d, this.charset);
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
      this.source =
        this.name === 'MSH'
          ? 'MSH' + separator + this.fields.slice(2).join(separator)
          : this.fields.join(separator);
      this.begin = 0;
      this.finish = this.source.length;
      this.shared = undefined;
      this.separators = undefined;
      this.separatorsComplete = false;
      return this.source;
    }
    return this.begin === 0 && this.finish === this.source.length
      ? this.source
      : this.source.slice(this.begin, this.finish);
  }

  /**
   * Puts the range of a field in `source` in `partStart` and `partEnd`; false when the segment
   * has no such field. MSH-1 is the separator right after `MSH` itself.
   */
  private locateField(field: number): boolean {
    if (field < 1) {
      return false;
    }
    const begin = this.begin;
    if (field === 1 && this.shift === 1) {
      partStart = begin + 3;
      partEnd = begin + 4;
      return this.finish > begin + 3;
    }
    // The separator before field n is separator n - 1 (n - 2 for MSH), counted from 0.
    const before = field - 1 - this.shift;
    const separators = this.findSeparators(before + 2);
    if (before >= separators.length) {
      return false;
    }
    partStart = separators[before] + 1;
    partEnd = before + 1 < separators.length ? separators[before + 1] : this.finish;
    return true;
  }

  /** Finds field separators until `count` are known or the segment ends; returns them all. */
  private findSeparators(count: number): number[] {
    let separators = this.separators;
    if (separators === undefined) {
      separators = [];
      this.separators = separators;
      // Every segment's first separator is right after its id, MSH's included (it is MSH-1).
      if (this.finish - this.begin <= 3) {
        this.separatorsComplete = true;
        return separators;
      }
      separators.push(this.begin + 3);
    }
    if (this.separatorsComplete || separators.length >= count) {
      return separators;
    }
    const source = this.source;
    const separatorChar = this.delimiters.field;
    const finish = this.finish;
    let from = separators[separators.length - 1] + 1;
    while (separators.length < count) {
      const index = source.indexOf(separatorChar, from);
      if (index === -1 || index >= finish) {
        this.separatorsComplete = true;
        break;
      }
      separators.push(index);
      from = index + 1;
    }
    return separators;
  }

  private splitFields(): string[] {
    if (this.fields) {
      return this.fields;
    }
    const separator = this.delimiters.field;
    const raw = this.toText();
    if (this.name === 'MSH') {
      // MSH-1 is the separator itself; splitting what follows it gives MSH-2 onwards.
      this.fields = ['MSH', separator, ...raw.slice(4).split(separator)];
    } else {
      this.fields = raw.split(separator);
    }
    return this.fields;
  }

  private assertSettable(field: number): void {
    if (field < 1 || !Number.isInteger(field) || this.isVerbatim(field)) {
      throw new RangeError(`${this.name}-${field} cannot be set`);
    }
  }

  private isVerbatim(field: number): boolean {
    return this.shift === 1 && (field === 1 || field === 2);
  }

  private ownPath(path: string): Readonly<Hl7FieldPath> {
    const parsed = readPath(path);
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
   * The character set MSH-18 declares, as a WHATWG name (`utf-8`, `iso-8859-1`, ...);
   * `undefined` when MSH-18 is empty. `\X..\` escapes decode in it.
   */
  readonly charset: string | undefined;

  /**
   * @param messageIndex - zero-based index of the HL7 message in the batch
   * @param delimiters - the delimiters from MSH-1 and MSH-2
   * @param segments - the segments, MSH first
   * @param charset - the declared character set; omit when MSH-18 is empty
   */
  constructor(
    messageIndex: number,
    delimiters: Hl7Delimiters,
    segments: readonly Hl7Segment[],
    charset?: string,
  ) {
    this.messageIndex = messageIndex;
    this.delimiters = delimiters;
    this.segments = segments;
    this.charset = charset;
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
   * The first segment with a given id, or `undefined`.
   *
   * @param name - segment id, such as `PID`
   */
  segment(name: string): Hl7Segment | undefined {
    const segments = this.segments;
    for (let index = 0; index < segments.length; index++) {
      if (segments[index].name === name) {
        return segments[index];
      }
    }
    return undefined;
  }

  /**
   * Every segment with a given id, in order.
   *
   * @param name - segment id, such as `NK1`
   */
  segmentsNamed(name: string): Hl7Segment[] {
    const found: Hl7Segment[] = [];
    for (const segment of this.segments) {
      if (segment.name === name) {
        found.push(segment);
      }
    }
    return found;
  }

  /**
   * Reads a path from the first segment with that id; '' when there is none.
   *
   * @param path - field path, such as `PID-3[2].1`
   */
  get(path: string): string | null {
    const p = readPath(path);
    const segment = this.segment(p.segmentName);
    return segment ? segment.getValue(p.field, p.repetition, p.component, p.subcomponent) : '';
  }

  /**
   * Reads a path from every segment with that id.
   *
   * @param path - field path, such as `OBX-5`
   */
  getAll(path: string): Array<string | null> {
    const p = readPath(path);
    return this.segmentsNamed(p.segmentName).map((segment) =>
      segment.getValue(p.field, p.repetition, p.component, p.subcomponent),
    );
  }

  /**
   * Reads a path from every repetition of its field, in the first segment with that id: `PID-3.1`
   * gives component 1 of each repetition of PID-3. The path must not name a repetition. An
   * empty field gives `[]`.
   *
   * @param path - field path without `[r]`, such as `PID-3.1` or `PID-13`
   */
  getRepetitions(path: string): Array<string | null> {
    const p = readPath(path);
    if (p.repetition !== undefined) {
      throw new RangeError(`Expected a path without a repetition, got ${path}`);
    }
    const segment = this.segment(p.segmentName);
    const count = segment ? segment.repetitionCount(p.field) : 0;
    const values: Array<string | null> = [];
    for (let repetition = 1; repetition <= count; repetition++) {
      values.push(
        (segment as Hl7Segment).getValue(p.field, repetition, p.component, p.subcomponent),
      );
    }
    return values;
  }

  /**
   * Reads a DTM or TS value as a date/time, from the first segment with that id; see
   * {@link Hl7Segment.getDateTime}. `PID-7` reads component 1 of PID-7.
   *
   * @param path - field path, such as `PID-7` or `OBX-14`
   */
  getDateTime(path: string): Hl7DateTimeResult {
    const p = readPath(path);
    const segment = this.segment(p.segmentName);
    if (!segment) {
      return { ok: true, value: undefined };
    }
    const result = segment.getDateTime(p.field, p.repetition, p.component);
    return result.ok
      ? result
      : { ...result, position: { messageIndex: this.messageIndex, ...result.position } };
  }

  /**
   * Writes a path in the first segment with that id. Returns false when there is none.
   *
   * @param path - field path, such as `PID-5`
   * @param value - the new value; see {@link Hl7Segment.setValue}
   */
  set(path: string, value: string | null): boolean {
    const p = readPath(path);
    const segment = this.segment(p.segmentName);
    segment?.setValue(value, p.field, p.repetition, p.component, p.subcomponent);
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
