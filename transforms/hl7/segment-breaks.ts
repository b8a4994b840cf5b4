import { isDelimiterChar } from './delimiters.js';

/*
 * Where segments end. The same rule runs on bytes (splitting a file) and on decoded text
 * (parsing one HL7 message), so both see the same segments.
 *
 * HL7 ends a segment with CR. Files in the wild also use CRLF and LF, sometimes mixed in one
 * message, and text fields may hold a bare LF. The rule:
 * - A run of CR and LF characters (with any white-space-only lines inside it) is one terminator.
 * - A run that holds a CR always ends the segment: CR is the standard terminator.
 * - A run of LF only ends the segment when the next line starts like a segment: three characters
 *   `[A-Z][A-Z0-9]{2}` followed by the field separator or the end of the line (or `MSH`, `FHS`,
 *   `BHS` followed by any delimiter character, since those set their own separator). Otherwise
 *   the LF is data: a wrapped text line continues the segment before it. So a bare LF inside a
 *   text field of a CR message stays data, an LF-only message splits where segments start, and
 *   a file that uses both CR and LF as terminators splits at both. (Text whose next line begins
 *   `ABC|` would be split in any case, since its `|` is a field separator.)
 * - The end of the input and a hard stop (the MLLP framing bytes, when splitting a file) always
 *   end the segment.
 */

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;

/** Code units of the input, bytes or UTF-16, read through a function so both share one rule. */
export interface CodeUnits {
  readonly length: number;
  at(index: number): number;
  /** True for code units that end a segment wherever they occur (MLLP framing bytes). */
  isHardStop(code: number): boolean;
}

/** One segment found by {@link nextSegment}. */
export interface SegmentSpan {
  /** Index of the first code unit of the segment. */
  start: number;
  /** Index just past the segment's own text, where its terminator begins. */
  end: number;
  /** Index just past the terminator: the start of the next segment or a hard stop. */
  next: number;
}

/**
 * Finds the end of the segment that starts at `start`.
 *
 * @param units - the input
 * @param start - index where the segment starts
 * @param fieldSeparator - the field separator in force, as a code unit
 */
export function nextSegment(units: CodeUnits, start: number, fieldSeparator: number): SegmentSpan {
  let index = start;
  while (index < units.length) {
    const code = units.at(index);
    if (units.isHardStop(code)) {
      return { start, end: index, next: index };
    }
    if (code !== CR && code !== LF) {
      index++;
      continue;
    }

    const run = terminatorRun(units, index);
    if (run.hasCr || run.end >= units.length || units.isHardStop(units.at(run.end))) {
      return { start, end: index, next: run.end };
    }
    if (startsSegment(units, run.end, fieldSeparator)) {
      return { start, end: index, next: run.end };
    }
    index = run.end;
  }
  return { start, end: units.length, next: units.length };
}

/**
 * Tells whether a segment plausibly starts at `index`.
 *
 * @param units - the input
 * @param index - where the line starts
 * @param fieldSeparator - the field separator in force, as a code unit
 */
export function startsSegment(units: CodeUnits, index: number, fieldSeparator: number): boolean {
  if (index + 3 > units.length || !isSegmentIdAt(units, index)) {
    return false;
  }
  if (index + 3 === units.length) {
    return true;
  }

  const after = units.at(index + 3);
  if (after === fieldSeparator || after === CR || after === LF || units.isHardStop(after)) {
    return true;
  }
  return isHeaderIdAt(units, index) && isDelimiterChar(String.fromCharCode(after));
}

/**
 * Tells whether `[A-Z][A-Z0-9]{2}` starts at `index`.
 *
 * @param units - the input
 * @param index - where to look
 */
export function isSegmentIdAt(units: CodeUnits, index: number): boolean {
  if (index + 3 > units.length || !isUpper(units.at(index))) {
    return false;
  }
  return isUpperOrDigit(units.at(index + 1)) && isUpperOrDigit(units.at(index + 2));
}

/**
 * Reads three code units as a segment id, or `undefined` when they are not one.
 *
 * @param units - the input
 * @param index - where the segment starts
 */
export function segmentIdAt(units: CodeUnits, index: number): string | undefined {
  if (!isSegmentIdAt(units, index)) {
    return undefined;
  }
  return String.fromCharCode(units.at(index), units.at(index + 1), units.at(index + 2));
}

/**
 * Index just past the white space at `index` when it runs to the end of a line (or the input),
 * else `undefined`: used to skip blank lines where no segment is open.
 *
 * @param units - the input
 * @param index - where the line starts
 */
export function blankLineEnd(units: CodeUnits, index: number): number | undefined {
  let cursor = index;
  while (cursor < units.length && isBlank(units.at(cursor))) {
    cursor++;
  }
  const code = cursor < units.length ? units.at(cursor) : undefined;
  if (code !== undefined && !isLineEnd(code) && !units.isHardStop(code)) {
    return undefined;
  }
  while (cursor < units.length && isLineEnd(units.at(cursor))) {
    cursor++;
  }
  return cursor;
}

/**
 * Finds segments one after another with the rule above, fast: native `indexOf` scans find the
 * next CR (and the next LF and hard stop, remembered until passed), and the common endings (CR
 * or CRLF followed by the next segment's first character) are taken on the spot. Anything else
 * (an LF, a blank line, a run of terminators) goes to {@link nextSegment}, so both give the same
 * segments. After {@link SegmentScanner.scan}, `end` and `next` hold the span's ends.
 */
export class SegmentScanner {
  /** Index just past the segment's own text. */
  end = 0;
  /** Index just past the terminator. */
  next = 0;
  private readonly text: string;
  private readonly bytes: Buffer | undefined;
  private readonly length: number;
  private readonly units: CodeUnits;
  private readonly hardStops: readonly number[];
  /** Next position of LF and of each hard stop at or after the last scan's start; -1: none left. */
  private nextLf: number;
  private readonly nextStops: number[];

  /**
   * @param input - a decoded message or a whole file's bytes
   * @param hardStops - code units that always end a segment (MLLP framing bytes, for files)
   */
  constructor(input: string | Uint8Array, hardStops: readonly number[] = []) {
    if (typeof input === 'string') {
      this.text = input;
      this.bytes = undefined;
      this.units = textUnits(input);
    } else {
      this.text = '';
      // Buffer's indexOf is a native memchr; a typed array's is far slower. No copy is made.
      this.bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
      this.units = byteUnits(input, hardStops);
    }
    this.length = input.length;
    this.hardStops = hardStops;
    this.nextLf = this.find(LF, 0);
    this.nextStops = hardStops.map((code) => this.find(code, 0));
  }

  /**
   * Finds the end of the segment that starts at `start`; starts must not go backwards.
   *
   * @param start - index where the segment starts
   * @param fieldSeparator - the field separator in force, as a code unit
   */
  scan(start: number, fieldSeparator: number): void {
    let stop = this.length;
    if (this.nextLf !== -1 && this.nextLf < start) {
      this.nextLf = this.find(LF, start);
    }
    if (this.nextLf !== -1) {
      stop = this.nextLf;
    }
    for (let k = 0; k < this.nextStops.length; k++) {
      let at = this.nextStops[k];
      if (at !== -1 && at < start) {
        at = this.find(this.hardStops[k], start);
        this.nextStops[k] = at;
      }
      if (at !== -1 && at < stop) {
        stop = at;
      }
    }

    const cr = this.find(CR, start);
    if (cr !== -1 && cr < stop) {
      // CR, or CRLF, then anything but another terminator or a blank: the common ending.
      let after = cr + 1;
      if (after < this.length && this.codeAt(after) === LF) {
        after++;
      }
      if (after >= this.length || !isLineEndOrBlank(this.codeAt(after))) {
        this.end = cr;
        this.next = after;
        return;
      }
    } else if (stop === this.length || stop !== this.nextLf) {
      // No terminator before the end of the input or a hard stop.
      this.end = stop;
      this.next = stop;
      return;
    }
    const span = nextSegment(this.units, start, fieldSeparator);
    this.end = span.end;
    this.next = span.next;
  }

  private find(code: number, from: number): number {
    if (this.bytes) {
      return this.bytes.indexOf(code, from);
    }
    if (code === CR) {
      return this.text.indexOf('\r', from);
    }
    return this.text.indexOf(code === LF ? '\n' : String.fromCharCode(code), from);
  }

  private codeAt(index: number): number {
    return this.bytes ? this.bytes[index] : this.text.charCodeAt(index);
  }
}

/** Wraps a byte array. */
export function byteUnits(bytes: Uint8Array, hardStops: readonly number[] = []): CodeUnits {
  return {
    length: bytes.length,
    at: (index) => bytes[index],
    isHardStop: (code) => hardStops.includes(code),
  };
}

/** Wraps a string; strings have no hard stops. */
export function textUnits(text: string): CodeUnits {
  return {
    length: text.length,
    at: (index) => text.charCodeAt(index),
    isHardStop: () => false,
  };
}

function terminatorRun(units: CodeUnits, index: number): { end: number; hasCr: boolean } {
  let cursor = index;
  let hasCr = false;
  for (;;) {
    while (cursor < units.length && isLineEnd(units.at(cursor))) {
      hasCr ||= units.at(cursor) === CR;
      cursor++;
    }

    // A line of only spaces or tabs belongs to the terminator, as does trailing white space.
    let lookahead = cursor;
    while (lookahead < units.length && isBlank(units.at(lookahead))) {
      lookahead++;
    }
    if (lookahead === cursor) {
      return { end: cursor, hasCr };
    }
    if (lookahead >= units.length || units.isHardStop(units.at(lookahead))) {
      return { end: lookahead, hasCr };
    }
    if (!isLineEnd(units.at(lookahead))) {
      return { end: cursor, hasCr };
    }
    cursor = lookahead;
  }
}

function isHeaderIdAt(units: CodeUnits, index: number): boolean {
  const id = segmentIdAt(units, index);
  return id === 'MSH' || id === 'FHS' || id === 'BHS';
}

function isUpper(code: number): boolean {
  return code >= 0x41 && code <= 0x5a;
}

function isUpperOrDigit(code: number): boolean {
  return isUpper(code) || (code >= 0x30 && code <= 0x39);
}

function isLineEnd(code: number): boolean {
  return code === CR || code === LF;
}

function isLineEndOrBlank(code: number): boolean {
  return code === CR || code === LF || code === SPACE || code === TAB;
}

function isBlank(code: number): boolean {
  return code === SPACE || code === TAB;
}
