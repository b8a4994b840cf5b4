import type { Position, RejectCode } from '../types.js';
import type { Hl7Failure } from './delimiters.js';
import { isDelimiterChar } from './delimiters.js';
import type { CodeUnits } from './segment-breaks.js';
import { SegmentScanner, blankLineEnd, byteUnits } from './segment-breaks.js';

/** Byte range of one HL7 message in the file: `[start, end)`, terminators included. */
export interface Hl7MessageRange {
  start: number;
  end: number;
}

/** What the file's batch envelope said. */
export interface Hl7Envelope {
  /** An FHS segment opened the file. */
  fileHeader: boolean;
  /** At least one BHS segment was present. */
  batchHeader: boolean;
  /** BTS-1, the declared message count; summed when the file holds several batches. */
  batchCount?: number;
  /** FTS-1, the declared batch count. */
  fileBatchCount?: number;
  /**
   * Trailers an opened envelope lacks at the end of what was split: `BTS` when the last batch
   * a BHS opened has no BTS, `FTS` when an FHS has no FTS. The standard makes both optional, so
   * this is recorded, not refused; it is also how a file cut in transit often looks.
   */
  trailersMissing?: Array<'BTS' | 'FTS'>;
}

/** A BTS-1 or FTS-1 count that disagreed with the file, accepted because the feed allows it. */
export interface Hl7CountMismatch {
  field: 'BTS-1' | 'FTS-1';
  declared: number;
  found: number;
}

export interface Hl7SplitSuccess {
  ok: true;
  messages: Hl7MessageRange[];
  envelope: Hl7Envelope;
  /** The first count mismatch, when `acceptCountMismatch` let the file through. */
  countMismatch?: Hl7CountMismatch;
}

export type Hl7SplitResult = Hl7SplitSuccess | Hl7Failure;

export interface SplitHl7Options {
  /**
   * Accept a file whose BTS-1 or FTS-1 disagrees with what it holds, recording the mismatch.
   * @default false
   */
  acceptCountMismatch?: boolean;
  /**
   * For a file read in windows (each after the first starting at an MSH segment): the envelope
   * as the windows before left it, updated in place. The whole-file checks (`FILE_EMPTY`,
   * `HL7_MISSING_MSH`) are then the caller's, since one window does not see the whole file.
   */
  envelope?: Hl7EnvelopeState;
}

/** Where the batch envelope stands between windows; plain data, so it can cross threads. */
export interface Hl7EnvelopeState {
  /** Messages found in each batch so far (an implicit batch when there is no BHS). */
  batchMessageCounts: number[];
  openBatch: boolean;
  fileHeader: boolean;
  batchHeader: boolean;
  fileClosed: boolean;
  afterTrailer: boolean;
  segmentsSeen: number;
  declaredMessages?: number;
  declaredBatches?: number;
  mismatch?: Hl7CountMismatch;
}

/** The envelope state before the first byte of a file. */
export function initialHl7EnvelopeState(): Hl7EnvelopeState {
  return {
    batchMessageCounts: [],
    openBatch: false,
    fileHeader: false,
    batchHeader: false,
    fileClosed: false,
    afterTrailer: false,
    segmentsSeen: 0,
  };
}

const PIPE = 0x7c;
const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const NOT_AN_ID = -1;
const MSH = idCode('MSH');
const FHS = idCode('FHS');
const BHS = idCode('BHS');
const BTS = idCode('BTS');
const FTS = idCode('FTS');
const MLLP_START = 0x0b;
const MLLP_END = 0x1c;

/**
 * Finds the HL7 messages in a file, working on bytes because the character set is only known
 * per message (MSH-18). Handles a UTF-8 byte order mark, MLLP frames (0x0B ... 0x1C 0x0D, one or
 * several), CR, LF and CRLF terminators (see `segment-breaks.ts` for the rule), and the batch
 * envelope `[FHS] {[BHS] {MSH ...} [BTS]} [FTS]` of HL7 v2.5.1 section 2.10.3, or none at all.
 * Envelope segments and framing bytes are not part of any message range.
 *
 * Returns a failure for whole-file problems: `FILE_EMPTY`, `HL7_MISSING_MSH`,
 * `HL7_BAD_SEGMENT` (text before the first MSH), `HL7_BAD_BATCH_ENVELOPE` and
 * `HL7_BATCH_COUNT_MISMATCH`. Positions carry byte offsets, never content.
 *
 * @param bytes - the whole file
 * @param options - see {@link SplitHl7Options}
 */
export function splitHl7File(bytes: Uint8Array, options: SplitHl7Options = {}): Hl7SplitResult {
  const start = hasUtf8Bom(bytes) ? 3 : 0;
  const resuming = options.envelope !== undefined;
  if (!resuming && isBlankFile(bytes, start)) {
    return fail('FILE_EMPTY', {});
  }

  const units = byteUnits(bytes, [MLLP_START, MLLP_END]);
  const scanner = new SegmentScanner(bytes, [MLLP_START, MLLP_END]);
  const envelope = new EnvelopeTracker(options.acceptCountMismatch === true, options.envelope);
  const messages: Hl7MessageRange[] = [];
  let current: Hl7MessageRange | undefined;
  let fieldSeparator = PIPE;
  let index = start;

  while (index < bytes.length) {
    const byte = bytes[index];
    if (byte === MLLP_START || byte === MLLP_END) {
      // A frame boundary ends any open message; the CR after 0x1C is framing, not a terminator.
      current = undefined;
      index += byte === MLLP_END && bytes[index + 1] === CR ? 2 : 1;
      continue;
    }
    if (byte === SPACE || byte === TAB || byte === CR || byte === LF) {
      const blankEnd = blankLineEnd(units, index);
      if (blankEnd !== undefined) {
        index = blankEnd;
        continue;
      }
    }

    const id = segmentIdCode(bytes, index);
    const separator = bytes[index + 3];
    const isHeader = (id === MSH || id === FHS || id === BHS) && isSeparatorByte(separator);
    if (isHeader) {
      // A header sets the field separator for its own line and the lines after it.
      fieldSeparator = separator;
    }
    scanner.scan(index, fieldSeparator);
    const spanEnd = scanner.end;
    const spanNext = scanner.next;

    if (id === MSH && isHeader) {
      // The common case first: a message header.
      current = { start: index, end: spanNext };
      messages.push(current);
      envelope.onMessage(index);
    } else if (current && !isHeader && !isTrailer(id)) {
      current.end = spanNext;
    } else {
      const position: Position = { byteOffset: index };
      if (id !== NOT_AN_ID && (spanEnd === index + 3 || isSeparatorByte(separator))) {
        position.segmentName = idName(id);
      }
      if (isHeader) {
        current = undefined;
        if (id === FHS) {
          envelope.onFileHeader(position);
        } else {
          envelope.onBatchHeader(position);
        }
      } else if (isTrailer(id) && (spanEnd === index + 3 || separator === fieldSeparator)) {
        current = undefined;
        const count = readCount(units, index + 4, spanEnd, fieldSeparator);
        if (id === BTS) {
          envelope.onBatchTrailer(count, { ...position, field: 'BTS-1' });
        } else {
          envelope.onFileTrailer(count, { ...position, field: 'FTS-1' });
        }
      } else if (current) {
        current.end = spanNext;
      } else {
        envelope.onStray(position);
      }
    }
    index = spanNext;
  }

  if (options.envelope) {
    envelope.saveTo(options.envelope);
  } else if (messages.length === 0) {
    return fail('HL7_MISSING_MSH', {});
  }
  if (envelope.failure) {
    return envelope.failure;
  }
  return {
    ok: true,
    messages,
    envelope: envelope.summary(),
    ...(envelope.mismatch ? { countMismatch: envelope.mismatch } : {}),
  };
}

/** Follows the envelope grammar and keeps the first problem it sees. */
class EnvelopeTracker {
  failure: Hl7Failure | undefined;
  mismatch: Hl7CountMismatch | undefined;
  private batchMessageCounts: number[] = [];
  private openBatch = false;
  private fileHeader = false;
  private batchHeader = false;
  private fileClosed = false;
  private afterTrailer = false;
  private segmentsSeen = 0;
  private declaredMessages: number | undefined;
  private declaredBatches: number | undefined;

  constructor(
    private readonly acceptCountMismatch: boolean,
    resume?: Hl7EnvelopeState,
  ) {
    if (resume) {
      this.batchMessageCounts = resume.batchMessageCounts;
      this.openBatch = resume.openBatch;
      this.fileHeader = resume.fileHeader;
      this.batchHeader = resume.batchHeader;
      this.fileClosed = resume.fileClosed;
      this.afterTrailer = resume.afterTrailer;
      this.segmentsSeen = resume.segmentsSeen;
      this.declaredMessages = resume.declaredMessages;
      this.declaredBatches = resume.declaredBatches;
      this.mismatch = resume.mismatch;
    }
  }

  /** Writes where the envelope stands into `state`, for the next window. */
  saveTo(state: Hl7EnvelopeState): void {
    state.batchMessageCounts = this.batchMessageCounts;
    state.openBatch = this.openBatch;
    state.fileHeader = this.fileHeader;
    state.batchHeader = this.batchHeader;
    state.fileClosed = this.fileClosed;
    state.afterTrailer = this.afterTrailer;
    state.segmentsSeen = this.segmentsSeen;
    state.declaredMessages = this.declaredMessages;
    state.declaredBatches = this.declaredBatches;
    state.mismatch = this.mismatch;
  }

  onFileHeader(position: Position): void {
    if (this.segmentsSeen++ > 0) {
      this.reject('HL7_BAD_BATCH_ENVELOPE', position);
    }
    this.fileHeader = true;
  }

  onBatchHeader(position: Position): void {
    this.segmentsSeen++;
    if (this.fileClosed) {
      this.reject('HL7_BAD_BATCH_ENVELOPE', position);
      return;
    }
    // The grammar makes BTS optional, so a new BHS closes the batch before it.
    this.afterTrailer = false;
    this.batchMessageCounts.push(0);
    this.openBatch = true;
    this.batchHeader = true;
  }

  onMessage(byteOffset: number): void {
    this.segmentsSeen++;
    if (this.fileClosed) {
      this.reject('HL7_BAD_BATCH_ENVELOPE', { byteOffset, segmentName: 'MSH' });
      return;
    }
    this.afterTrailer = false;
    if (!this.openBatch) {
      this.batchMessageCounts.push(0);
      this.openBatch = true;
    }
    this.batchMessageCounts[this.batchMessageCounts.length - 1]++;
  }

  onBatchTrailer(count: number | null | undefined, position: Position): void {
    this.segmentsSeen++;
    if (this.fileClosed || !this.openBatch || count === null) {
      this.reject('HL7_BAD_BATCH_ENVELOPE', position);
      return;
    }
    this.openBatch = false;
    this.afterTrailer = true;
    if (count === undefined) {
      return;
    }
    this.declaredMessages = (this.declaredMessages ?? 0) + count;
    const found = this.batchMessageCounts[this.batchMessageCounts.length - 1];
    this.checkCount('BTS-1', count, found, position);
  }

  onFileTrailer(count: number | null | undefined, position: Position): void {
    this.segmentsSeen++;
    if (this.fileClosed || !this.fileHeader || count === null) {
      this.reject('HL7_BAD_BATCH_ENVELOPE', position);
      return;
    }
    this.openBatch = false;
    this.fileClosed = true;
    this.afterTrailer = true;
    if (count === undefined) {
      return;
    }
    this.declaredBatches = count;
    this.checkCount('FTS-1', count, this.batchMessageCounts.length, position);
  }

  onStray(position: Position): void {
    // Text where a message should start is a bad segment; text after a trailer sits outside
    // the envelope.
    this.segmentsSeen++;
    this.reject(this.afterTrailer ? 'HL7_BAD_BATCH_ENVELOPE' : 'HL7_BAD_SEGMENT', position);
  }

  summary(): Hl7Envelope {
    const missing: Array<'BTS' | 'FTS'> = [];
    if (this.batchHeader && this.openBatch) {
      missing.push('BTS');
    }
    if (this.fileHeader && !this.fileClosed) {
      missing.push('FTS');
    }
    return {
      fileHeader: this.fileHeader,
      batchHeader: this.batchHeader,
      ...(this.declaredMessages === undefined ? {} : { batchCount: this.declaredMessages }),
      ...(this.declaredBatches === undefined ? {} : { fileBatchCount: this.declaredBatches }),
      ...(missing.length > 0 ? { trailersMissing: missing } : {}),
    };
  }

  private checkCount(
    field: 'BTS-1' | 'FTS-1',
    declared: number,
    found: number,
    position: Position,
  ): void {
    if (declared === found) {
      return;
    }
    if (!this.acceptCountMismatch) {
      this.reject('HL7_BATCH_COUNT_MISMATCH', position);
      return;
    }
    this.mismatch ??= { field, declared, found };
  }

  private reject(code: RejectCode, position: Position): void {
    this.failure ??= fail(code, position);
  }
}

function fail(code: RejectCode, position: Position): Hl7Failure {
  return { ok: false, code, position };
}

/** Reads field 1 of BTS or FTS: `undefined` when empty, `null` when not a whole number. */
function readCount(
  units: CodeUnits,
  start: number,
  end: number,
  separator: number,
): number | null | undefined {
  let text = '';
  for (let index = start; index < end && units.at(index) !== separator; index++) {
    text += String.fromCharCode(units.at(index));
  }
  text = text.trim();
  if (text === '') {
    return undefined;
  }
  return /^\d{1,9}$/.test(text) ? Number.parseInt(text, 10) : null;
}

/** A segment id as one number, three bytes big-endian; {@link NOT_AN_ID} when not an id. */
function segmentIdCode(bytes: Uint8Array, index: number): number {
  if (index + 3 > bytes.length) {
    return NOT_AN_ID;
  }
  const a = bytes[index];
  const b = bytes[index + 1];
  const c = bytes[index + 2];
  if (a < 0x41 || a > 0x5a || !isUpperOrDigit(b) || !isUpperOrDigit(c)) {
    return NOT_AN_ID;
  }
  return (a << 16) | (b << 8) | c;
}

function idCode(name: string): number {
  return (name.charCodeAt(0) << 16) | (name.charCodeAt(1) << 8) | name.charCodeAt(2);
}

function idName(id: number): string {
  return String.fromCharCode(id >> 16, (id >> 8) & 0xff, id & 0xff);
}

function isUpperOrDigit(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39);
}

function isTrailer(id: number): boolean {
  return id === BTS || id === FTS;
}

// Which ASCII bytes may be a delimiter, per `isDelimiterChar`.
const SEPARATOR_BYTES = Array.from({ length: 0x80 }, (_, code) =>
  isDelimiterChar(String.fromCharCode(code)),
);

function isSeparatorByte(byte: number | undefined): byte is number {
  return byte !== undefined && byte < 0x80 && SEPARATOR_BYTES[byte];
}

function hasUtf8Bom(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

function isBlankFile(bytes: Uint8Array, start: number): boolean {
  for (let index = start; index < bytes.length; index++) {
    const byte = bytes[index];
    // White space and MLLP framing bytes carry nothing.
    if (![0x20, 0x09, 0x0d, 0x0a, 0x0b, 0x1c].includes(byte)) {
      return false;
    }
  }
  return true;
}
