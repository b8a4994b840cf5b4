import type { Position, RejectCode } from '../types.js';
import { checkObservationValue } from './datatypes.js';
import type { Hl7Delimiters, Hl7Failure } from './delimiters.js';
import { isDelimiterChar, readDelimiters } from './delimiters.js';
import { hasValidEscapes } from './escape.js';
import { Hl7Message, Hl7Segment } from './message.js';
import { nextSegment, segmentIdAt, textUnits } from './segment-breaks.js';
import type { SegmentSpan } from './segment-breaks.js';

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

// Envelope segments belong to the file, not to a message; `splitHl7File` takes them out.
const HEADER_SEGMENTS = new Set(['MSH', 'FHS', 'BHS', 'BTS', 'FTS']);

/**
 * Parses one decoded HL7 message. Checks, in order: MSH first (`HL7_MISSING_MSH`), MSH-1 and
 * MSH-2 (`HL7_BAD_DELIMITERS`), segment ids `[A-Z][A-Z0-9]{2}` and no second MSH or envelope
 * segment (`HL7_BAD_SEGMENT`), escape sequences (`HL7_BAD_ESCAPE`), MSH-9
 * (`HL7_MISSING_MESSAGE_TYPE`), required MSH fields (`HL7_MISSING_FIELD`), and OBX-5 against
 * OBX-2 for NM, DT, DTM and TS (`HL7_BAD_DATATYPE`). Never throws for bad input.
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
  const reject = (code: RejectCode, position: Position = {}): Hl7Failure => ({
    ok: false,
    code,
    position: { messageIndex, ...position },
  });
  const msh = { segmentIndex: 1, segmentName: 'MSH' };
  if (!text.startsWith('MSH') || text.length < 4) {
    return reject('HL7_MISSING_MSH', { segmentIndex: 1 });
  }
  const fieldSeparator = text[3];
  if (!isDelimiterChar(fieldSeparator)) {
    return reject('HL7_BAD_DELIMITERS', { ...msh, field: 'MSH-1' });
  }

  const units = textUnits(text);
  const spans: SegmentSpan[] = [];
  for (let start = 0; start < text.length; ) {
    const span = nextSegment(units, start, fieldSeparator.charCodeAt(0));
    spans.push(span);
    start = span.next;
  }
  const mshText = text.slice(0, spans[0].end);
  const encodingEnd = mshText.indexOf(fieldSeparator, 4);
  const delimiters = readDelimiters(
    fieldSeparator,
    mshText.slice(4, encodingEnd === -1 ? mshText.length : encodingEnd),
  );
  if (!delimiters) {
    return reject('HL7_BAD_DELIMITERS', { ...msh, field: 'MSH-2' });
  }

  const segments: Hl7Segment[] = [];
  for (const [offset, span] of spans.entries()) {
    const segmentIndex = offset + 1;
    const raw = text.slice(span.start, span.end);
    const id = segmentIdAt(units, span.start);
    const name = raw.length === 3 || raw[3] === fieldSeparator ? id : undefined;
    if (name === undefined) {
      return reject('HL7_BAD_SEGMENT', { segmentIndex });
    }
    if (segmentIndex > 1 && HEADER_SEGMENTS.has(name)) {
      return reject('HL7_BAD_SEGMENT', { segmentIndex, segmentName: name });
    }

    const terminator = text.slice(span.end, span.next);
    const segment = new Hl7Segment(name, segmentIndex, raw, terminator, delimiters);
    const badField = raw.includes(delimiters.escape)
      ? findBadEscape(segment, delimiters)
      : undefined;
    if (badField !== undefined) {
      const field = `${name}-${badField}`;
      return reject('HL7_BAD_ESCAPE', { segmentIndex, segmentName: name, field });
    }
    segments.push(segment);
  }
  const message = new Hl7Message(messageIndex, delimiters, segments);

  if (!hasValue(segments[0], 9)) {
    return reject('HL7_MISSING_MESSAGE_TYPE', { ...msh, field: 'MSH-9' });
  }
  for (const field of options.requiredMshFields ?? DEFAULT_REQUIRED_MSH_FIELDS) {
    if (!hasValue(segments[0], Number(field.slice(4)))) {
      return reject('HL7_MISSING_FIELD', { ...msh, field });
    }
  }

  for (const segment of message.segmentsNamed('OBX')) {
    if (!checkObservationValue(segment)) {
      return reject('HL7_BAD_DATATYPE', {
        segmentIndex: segment.index,
        segmentName: 'OBX',
        field: 'OBX-5',
      });
    }
  }
  return { ok: true, message };
}

/** Field number of the first field with a bad escape sequence, if any. */
function findBadEscape(segment: Hl7Segment, delimiters: Hl7Delimiters): number | undefined {
  const first = segment.name === 'MSH' ? 3 : 1;
  for (let field = first; field <= segment.fieldCount; field++) {
    const text = segment.getFieldText(field);
    if (text.includes(delimiters.escape) && !hasValidEscapes(text, delimiters)) {
      return field;
    }
  }
  return undefined;
}

/** First component of the first repetition is neither empty nor the explicit null. */
function hasValue(segment: Hl7Segment, field: number): boolean {
  const value = segment.getValue(field, 1, 1);
  return value !== null && value.trim() !== '';
}
