import type { Position, RejectCode } from '../types.js';
import { checkObservationValue } from './datatypes.js';
import { charsetFor } from './charset.js';
import type { Hl7Failure } from './delimiters.js';
import { isDelimiterChar, readDelimiters } from './delimiters.js';
import { findBadEscape } from './escape.js';
import { Hl7Message, Hl7Segment, Hl7Text } from './message.js';
import { SegmentScanner } from './segment-breaks.js';

/** An MSH field a message must carry, such as `MSH-10`. */
export type MshFieldName = `MSH-${number}`;

export interface ParseHl7Options {
  /**
   * MSH fields whose first component must be non-empty, checked after MSH-9 (which is always
   * required and gives `HL7_MISSING_MESSAGE_TYPE`). A missing one gives `HL7_MISSING_FIELD`.
   * @default DEFAULT_REQUIRED_MSH_FIELDS
   */
  requiredMshFields?: readonly MshFieldName[];
}

export type Hl7ParseResult = { ok: true; message: Hl7Message } | Hl7Failure;

/**
 * The MSH fields required by default besides MSH-9: MSH-10, the message control id, which every
 * HL7 v2 version marks required and without which a message cannot be acknowledged or told
 * apart from a resend; and MSH-12, the version, without which no field can be interpreted.
 * MSH-3 to MSH-7 and MSH-11 are empty in valid messages of the developer corpus, so they are not
 * required by default; a feed that wants them passes {@link STANDARD_REQUIRED_MSH_FIELDS}.
 */
export const DEFAULT_REQUIRED_MSH_FIELDS: readonly MshFieldName[] = Object.freeze([
  'MSH-10',
  'MSH-12',
]);

/** The MSH fields HL7 v2.5.1 marks required (R), besides MSH-1, MSH-2 and MSH-9. */
export const STANDARD_REQUIRED_MSH_FIELDS: readonly MshFieldName[] = Object.freeze([
  'MSH-7',
  'MSH-10',
  'MSH-11',
  'MSH-12',
]);

/**
 * Parses one decoded HL7 message. Checks, in order: MSH first (`HL7_MISSING_MSH`), MSH-1 and
 * MSH-2 (`HL7_BAD_DELIMITERS`), MSH-18 (`HL7_UNSUPPORTED_CHARSET`, as `decodeHl7Bytes` would),
 * segment ids `[A-Z][A-Z0-9]{2}` and no second MSH or envelope segment (`HL7_BAD_SEGMENT`),
 * escape sequences (`HL7_BAD_ESCAPE`), MSH-9 (`HL7_MISSING_MESSAGE_TYPE`), required MSH fields
 * (`HL7_MISSING_FIELD`), and OBX-5 against OBX-2 for NM, DT, DTM and TS (`HL7_BAD_DATATYPE`).
 * Never throws for bad input.
 *
 * Segments are found and checked here; fields are split only when read (see `message.ts`).
 *
 * @param text - one HL7 message, decoded
 * @param messageIndex - the HL7 message's index in the batch, for positions
 * @param options - see {@link ParseHl7Options}
 */
export function parseHl7(
  text: string,
  messageIndex: number,
  options: ParseHl7Options = {},
): Hl7ParseResult {
  if (text.length < 4 || !text.startsWith('MSH')) {
    return reject(messageIndex, 'HL7_MISSING_MSH', { segmentIndex: 1 });
  }
  const fieldSeparator = text[3];
  if (!isDelimiterChar(fieldSeparator)) {
    return reject(messageIndex, 'HL7_BAD_DELIMITERS', { ...MSH_AT, field: 'MSH-1' });
  }
  const separatorCode = fieldSeparator.charCodeAt(0);

  const scanner = new SegmentScanner(text);
  scanner.scan(0, separatorCode);
  const mshEnd = scanner.end;
  const encodingEnd = text.indexOf(fieldSeparator, 4);
  const delimiters = readDelimiters(
    fieldSeparator,
    text.slice(4, encodingEnd === -1 || encodingEnd > mshEnd ? mshEnd : encodingEnd),
  );
  if (!delimiters) {
    return reject(messageIndex, 'HL7_BAD_DELIMITERS', { ...MSH_AT, field: 'MSH-2' });
  }

  const shared = new Hl7Text(text, delimiters);
  const escapeFinder = { text, escape: delimiters.escape, at: -2 };
  const segments: Hl7Segment[] = [];
  let charset: string | undefined;
  let start = 0;
  while (start < text.length) {
    const segmentIndex = segments.length + 1;
    if (segmentIndex > 1) {
      scanner.scan(start, separatorCode);
    }
    const end = scanner.end;
    if (!isSegmentStart(text, start, end, separatorCode)) {
      return reject(messageIndex, 'HL7_BAD_SEGMENT', { segmentIndex });
    }
    const name = segmentName(text, start);
    if (segmentIndex > 1 && isEnvelopeId(name)) {
      return reject(messageIndex, 'HL7_BAD_SEGMENT', { segmentIndex, segmentName: name });
    }

    const terminator = terminatorText(text, end, scanner.next);
    let segment = new Hl7Segment(
      name,
      segmentIndex,
      shared,
      terminator,
      delimiters,
      charset,
      start,
      end,
    );
    if (segmentIndex === 1) {
      // MSH-18 names the character set `\X..\` escapes decode in, so it is read first.
      const declared = (segment.getValue(18, 1, 1) ?? '').trim();
      if (declared !== '') {
        charset = charsetFor(declared);
        if (charset === undefined) {
          return reject(messageIndex, 'HL7_UNSUPPORTED_CHARSET', { ...MSH_AT, field: 'MSH-18' });
        }
        segment = new Hl7Segment(name, 1, shared, terminator, delimiters, charset, start, end);
      }
    }
    segments.push(segment);

    // MSH-2 holds the escape character itself; MSH is checked from MSH-3 on.
    const from = segmentIndex === 1 ? afterSecondSeparator(text, fieldSeparator, end) : start + 4;
    if (from !== -1 && from < end && hasEscapeBefore(escapeFinder, from, end)) {
      const bad = findBadEscape(text, from, delimiters, charset, end);
      if (bad !== -1) {
        const field = `${name}-${fieldNumberAt(text, start, bad, separatorCode, segmentIndex === 1)}`;
        return reject(messageIndex, 'HL7_BAD_ESCAPE', { segmentIndex, segmentName: name, field });
      }
    }
    start = scanner.next;
  }
  const message = new Hl7Message(messageIndex, delimiters, segments, charset);

  const msh = segments[0];
  if (!hasValue(msh, 9)) {
    return reject(messageIndex, 'HL7_MISSING_MESSAGE_TYPE', { ...MSH_AT, field: 'MSH-9' });
  }
  for (const field of options.requiredMshFields ?? DEFAULT_REQUIRED_MSH_FIELDS) {
    if (!hasValue(msh, Number(field.slice(4)))) {
      return reject(messageIndex, 'HL7_MISSING_FIELD', { ...MSH_AT, field });
    }
  }

  for (const segment of segments) {
    if (segment.name === 'OBX' && !checkObservationValue(segment)) {
      return reject(messageIndex, 'HL7_BAD_DATATYPE', {
        segmentIndex: segment.index,
        segmentName: 'OBX',
        field: 'OBX-5',
      });
    }
  }
  return { ok: true, message };
}

const MSH_AT: Readonly<Position> = Object.freeze({ segmentIndex: 1, segmentName: 'MSH' });

function reject(messageIndex: number, code: RejectCode, position: Position): Hl7Failure {
  return { ok: false, code, position: { messageIndex, ...position } };
}

/** `text[start, end)` starts with `[A-Z][A-Z0-9]{2}` and then ends or has the separator. */
function isSegmentStart(text: string, start: number, end: number, separator: number): boolean {
  if (end - start < 3 || (end - start > 3 && text.charCodeAt(start + 3) !== separator)) {
    return false;
  }
  const a = text.charCodeAt(start);
  return (
    a >= 0x41 &&
    a <= 0x5a &&
    isUpperOrDigit(text.charCodeAt(start + 1)) &&
    isUpperOrDigit(text.charCodeAt(start + 2))
  );
}

function isUpperOrDigit(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39);
}

/**
 * MSH, FHS, BHS, BTS or FTS: these cannot follow MSH inside one message (envelope segments belong
 * to the file, and `splitHl7File` takes them out).
 */
function isEnvelopeId(name: string): boolean {
  return name === 'MSH' || name === 'FHS' || name === 'BHS' || name === 'BTS' || name === 'FTS';
}

// Segment ids seen so far, by their three character codes: ids repeat across messages, so each
// is one shared string, which also makes comparing them cheap.
const SEGMENT_NAMES = new Map<number, string>();
const SEGMENT_NAMES_LIMIT = 4096;

function segmentName(text: string, start: number): string {
  const key =
    (text.charCodeAt(start) << 16) | (text.charCodeAt(start + 1) << 8) | text.charCodeAt(start + 2);
  let name = SEGMENT_NAMES.get(key);
  if (name === undefined) {
    if (SEGMENT_NAMES.size >= SEGMENT_NAMES_LIMIT) {
      SEGMENT_NAMES.clear();
    }
    // A property key is an internalized string: `name === 'OBX'` is then a pointer compare.
    name = Object.keys({ [text.slice(start, start + 3)]: 0 })[0];
    SEGMENT_NAMES.set(key, name);
  }
  return name;
}

/** The terminator `text[end, next)`, as a shared string for the usual ones. */
function terminatorText(text: string, end: number, next: number): string {
  if (next === end + 1) {
    return text.charCodeAt(end) === 0x0d ? '\r' : text.slice(end, next);
  }
  if (next === end + 2 && text.charCodeAt(end) === 0x0d && text.charCodeAt(end + 1) === 0x0a) {
    return '\r\n';
  }
  return text.slice(end, next);
}

/** Index just past MSH-2 (the second separator) in the MSH at the start, or -1 when there is none. */
function afterSecondSeparator(text: string, separator: string, end: number): number {
  const second = text.indexOf(separator, 4);
  return second === -1 || second >= end ? -1 : second + 1;
}

/**
 * Tells whether the escape character occurs in `[from, end)`, remembering where the next one
 * is, so the message is scanned for it once, not once per segment.
 */
function hasEscapeBefore(
  finder: { text: string; escape: string; at: number },
  from: number,
  end: number,
): boolean {
  if (finder.at === -2 || (finder.at !== -1 && finder.at < from)) {
    finder.at = finder.text.indexOf(finder.escape, from);
  }
  return finder.at !== -1 && finder.at < end;
}

/** The number of the field that holds `text[index]`, in the segment that starts at `start`. */
function fieldNumberAt(
  text: string,
  start: number,
  index: number,
  separator: number,
  isMsh: boolean,
): number {
  let count = 0;
  for (let k = start + 3; k < index; k++) {
    if (text.charCodeAt(k) === separator) {
      count++;
    }
  }
  return isMsh ? count + 1 : count;
}

/** First component of the first repetition is neither empty nor the explicit null. */
function hasValue(segment: Hl7Segment, field: number): boolean {
  const value = segment.getValue(field, 1, 1);
  return value !== null && value.trim() !== '';
}
