import type { DeidRules } from './deid/rules.js';

/**
 * Shared shapes of the pure transforms. Nothing here does I/O; everything crosses the worker
 * thread boundary as plain data (structured clone), so no classes and no functions.
 */

/** Where in a batch something went wrong. Positions only, never values. */
export interface Position {
  /** Zero-based index of the HL7 message, resource or NDJSON line within the batch. */
  messageIndex?: number;
  /** One-based segment number within the HL7 message (MSH is 1). */
  segmentIndex?: number;
  /** Segment name, such as `PID`. */
  segmentName?: string;
  /** Field position, such as `PID-3`, or a FHIR element path, such as `Patient.birthDate`. */
  field?: string;
  /** One-based line number in an NDJSON file. */
  line?: number;
  /** Byte offset in the source file. */
  byteOffset?: number;
  /** The feed's de-identification rule that failed, by its place in the rules file (`fhir.2`). */
  rule?: string;
}

/**
 * Stable reject and quarantine codes. A reject is one HL7 message, resource or line that could
 * not be processed; the rest of the batch goes on. A quarantine code applies to a whole file.
 */
export type RejectCode =
  | 'HL7_MISSING_MSH'
  | 'HL7_BAD_DELIMITERS'
  | 'HL7_MISSING_MESSAGE_TYPE'
  | 'HL7_BAD_SEGMENT'
  | 'HL7_BAD_ESCAPE'
  | 'HL7_BAD_ENCODING'
  | 'HL7_UNSUPPORTED_CHARSET'
  | 'HL7_BATCH_COUNT_MISMATCH'
  | 'HL7_BAD_BATCH_ENVELOPE'
  | 'HL7_MISSING_FIELD'
  | 'HL7_BAD_DATATYPE'
  | 'FHIR_INVALID_JSON'
  | 'FHIR_NOT_AN_OBJECT'
  | 'FHIR_MISSING_RESOURCE_TYPE'
  | 'FHIR_ENTRY_WITHOUT_RESOURCE'
  | 'FHIR_NOT_A_RESOURCE'
  | 'FHIR_INVALID_RESOURCE'
  | 'NDJSON_NOT_A_RESOURCE'
  | 'NDJSON_INVALID_JSON'
  | 'DEID_FAILED'
  | 'DEID_RULE_FAILED'
  | 'FORMAT_UNKNOWN'
  | 'FILE_EMPTY'
  | 'FILE_TOO_LARGE'
  | 'FILE_NOT_UTF8';

/** A reject as it is counted in the manifest and written, encrypted, to the reject part. */
export interface RejectRecord {
  code: RejectCode;
  position: Position;
  /** The refused part as sent (a Bundle entry's JSON), when the reject is not a whole record. */
  raw?: string;
}

/** Detected format of an inbound file. */
export type FileFormat = 'hl7v2' | 'fhir-json' | 'ndjson' | 'unknown';

/**
 * Keys and settings de-identification needs. The pseudonym key is the raw HMAC key from the key
 * store; the same key always gives the same pseudonyms.
 */
export interface DeidContext {
  pseudonymKey: Uint8Array;
  /** The feed's de-identification rules (plain data); the safe-harbor preset when absent. */
  rules?: DeidRules;
  /** Hash of `rules` from `hashDeidRules`, so a worker compiles each rules set once. */
  rulesHash?: string;
  /** Year ages are counted at (the batch's ingest date); the current year when absent. */
  referenceYear?: number;
}
