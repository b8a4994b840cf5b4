import type { Compression, CompressionCodec } from '../transforms/compression.js';
import type { DeidRules } from '../transforms/deid/rules.js';
import type { Hl7EnvelopeState } from '../transforms/hl7/split.js';
import type { FileFormat, Position, RejectCode } from '../transforms/types.js';

export type { Compression, CompressionCodec, FileFormat, Hl7EnvelopeState, Position, RejectCode };

/** Key material a task needs; copied into the worker, never logged. */
export interface TaskKeys {
  encryptionKeyId: string;
  keyVersion: number;
  keyEncryptionKey: Uint8Array;
}

/** The HL7 messages or NDJSON lines found in a whole file (or a whole window). */
export interface PrepareOutcome {
  status: 'ok';
  format: Exclude<FileFormat, 'unknown'>;
  /** Byte ranges `[start0, end0, start1, end1, ...]` of HL7 messages or non-empty NDJSON lines. */
  ranges: number[];
  /** Set when an HL7 batch trailer count disagreed and the feed accepts that. */
  countMismatch?: { declared: number; found: number };
  /** HL7 v2: trailers (BTS, FTS) that an opened batch or file envelope lacks at its end. */
  trailersMissing?: Array<'BTS' | 'FTS'>;
}

/**
 * Find the records of one window of a file read in windows (see pipeline/windowed-batch.ts): the
 * format on the first window, HL7 messages or NDJSON lines, and where the window is cut.
 */
export interface WindowTask {
  kind: 'window';
  /**
   * Holds the window's bytes from its start: the unfinished tail of the window before, then
   * newly read bytes. Buffers are reused from window to window, so it may be longer.
   */
  source: SharedArrayBuffer;
  /** Length of the window in `source`. */
  sourceBytes: number;
  /** Offset of the window's first byte in the file; positions in failures are file offsets. */
  windowOffset: number;
  /** The window reaches the end of the file. */
  final: boolean;
  /** Known from the first window on; absent on the first window, which detects it. */
  format?: 'hl7v2' | 'ndjson';
  acceptBatchCountMismatch: boolean;
  /** Records found in the windows before: the batch-wide index of this window's first record. */
  recordsBefore: number;
  /** Records per transform task: the cut falls where a task would start when it can. */
  taskRecords: number;
  /** HL7 v2 only: the batch envelope as the windows before left it. */
  envelope?: Hl7EnvelopeState;
}

export interface WindowOutcome {
  status: 'ok';
  /** `fhir-json` only from a first window: the file is one JSON document, read whole. */
  format: Exclude<FileFormat, 'unknown'>;
  /** Byte ranges in the window, as `PrepareOutcome.ranges`, of the records before `cut`. */
  ranges: number[];
  /** Bytes before it are done; the rest starts the next window. 0: the window needs more bytes. */
  cut: number;
  envelope?: Hl7EnvelopeState;
  countMismatch?: PrepareOutcome['countMismatch'];
  /** Set on the last window only. */
  trailersMissing?: PrepareOutcome['trailersMissing'];
}

/** Parse, de-identify and serialise a run of HL7 messages or NDJSON lines, or a FHIR document. */
export interface TransformTask {
  kind: 'transform';
  format: Exclude<FileFormat, 'unknown'>;
  source: SharedArrayBuffer;
  /** Byte ranges as `PrepareOutcome.ranges`; empty for a FHIR JSON document (the whole file). */
  ranges: number[];
  /** Batch-wide index of the first record in `ranges`. */
  firstMessageIndex: number;
  /** Offset of `source` in the file, added to reject positions; 0 when it is the whole file. */
  sourceOffset?: number;
  pseudonymKey: Uint8Array;
  /** The feed's de-identification rules, as plain data; the worker compiles them once. */
  rules: DeidRules;
  /** Hash of `rules`: the worker's cache key. */
  rulesHash: string;
  /** The year ages are counted at: the year of the batch's ingest date, so retries agree. */
  referenceYear: number;
  /**
   * The feed's compression. When its codec compresses in pieces (gzip), each group comes back
   * compressed as one member, so a part is the concatenation of members and only needs sealing.
   */
  compression: Compression;
  /** A byte range `[start, end)` of the source to compress for the archive, when asked. */
  archiveSlice?: [number, number];
}

/** The de-identification fields of a transform task. */
export type TaskDeidFields = Pick<TransformTask, 'rules' | 'rulesHash' | 'referenceYear'>;

/** Output lines of one record type (message type or resourceType), in input order. */
export interface RecordGroup {
  recordType: string;
  /** NDJSON text, one line per record, each ending in `\n`. */
  ndjson: string;
  recordCount: number;
}

/** One reject as written, encrypted, to the reject part: code, position and the raw record. */
export interface RejectLine {
  code: RejectCode;
  position: Position;
  /** The raw HL7 message, line or resource text; it only ever leaves the worker to be encrypted. */
  raw: string;
}

export interface TransformOutcome {
  status: 'ok';
  groups: RecordGroup[];
  rejects: RejectLine[];
  /** Records seen: HL7 messages, NDJSON lines or Bundle entries with a resource. */
  messageCount: number;
  /**
   * FHIR: elements R4 does not define where they sat, removed by de-identification (0 for HL7
   * v2). A number only; which elements they were is never reported.
   */
  unknownElementsRemoved: number;
}

/** A record group as UTF-8 bytes, moved (not copied) back from the worker. */
export interface EncodedRecordGroup {
  recordType: string;
  recordCount: number;
  /** NDJSON bytes; one gzip member when `compressed`. */
  bytes: Uint8Array;
  compressed: boolean;
}

/** What a transform task returns through the pool: its groups already encoded (and compressed). */
export interface EncodedTransformOutcome {
  status: 'ok';
  groups: EncodedRecordGroup[];
  rejects: RejectLine[];
  messageCount: number;
  /** As `TransformOutcome.unknownElementsRemoved`. */
  unknownElementsRemoved: number;
  /** The task's `archiveSlice`, compressed as one gzip member. */
  archivePiece?: Uint8Array;
}

/** Decrypt (and decompress) one envelope. */
export interface OpenTask {
  kind: 'open';
  sealed: Uint8Array;
  /** From the object's name: `.gz.enc`, `.br.enc`, or neither. */
  codec: CompressionCodec;
  encryptionKeyId: string;
  keyEncryptionKeys: Record<number, Uint8Array>;
}

export interface OpenOutcome {
  status: 'ok';
  plaintext: Uint8Array;
}

/** A task that failed in a way the caller should act on; never carries a value. */
export interface FailedOutcome {
  status: 'failed';
  code: string;
  retryable: boolean;
  position?: Position;
  /** The format detected before the failure, when there was one. */
  format?: FileFormat;
}

export type WorkerTask = WindowTask | TransformTask | OpenTask;
export type WorkerOutcome =
  WindowOutcome | TransformOutcome | EncodedTransformOutcome | OpenOutcome | FailedOutcome;
