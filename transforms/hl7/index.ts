export { charsetFor, decodeHl7Bytes } from './charset.js';
export type { Hl7DecodeResult, Hl7DecodeSuccess } from './charset.js';
export {
  formatHl7DateTimeIso,
  isHl7Date,
  isHl7DateTime,
  isHl7Number,
  parseHl7DateTime,
} from './datatypes.js';
export type {
  Hl7DateTime,
  Hl7DateTimeParse,
  Hl7DateTimePrecision,
  Hl7DateTimeResult,
} from './datatypes.js';
export { EMBEDDED_DOCUMENT_MARKER, deidentifyHl7ToJson, patientMrnOf } from './deidentify.js';
export { STANDARD_HL7_DELIMITERS } from './delimiters.js';
export type { Hl7Delimiters, Hl7Failure } from './delimiters.js';
export { escapeHl7, unescapeHl7 } from './escape.js';
export { Hl7Message, Hl7Segment, parseFieldPath, serializeHl7 } from './message.js';
export type { Hl7FieldPath } from './message.js';
export { OTHER_HL7_RECORD_TYPE, hl7RecordType } from './record-type.js';
export { DEFAULT_REQUIRED_MSH_FIELDS, STANDARD_REQUIRED_MSH_FIELDS, parseHl7 } from './parse.js';
export type { Hl7ParseResult, MshFieldName, ParseHl7Options } from './parse.js';
export { initialHl7EnvelopeState, splitHl7File } from './split.js';
export type {
  Hl7CountMismatch,
  Hl7Envelope,
  Hl7EnvelopeState,
  Hl7MessageRange,
  Hl7SplitResult,
  Hl7SplitSuccess,
  SplitHl7Options,
} from './split.js';
export { hl7ToJson } from './to-json.js';
export type {
  Hl7JsonComponent,
  Hl7JsonLeaf,
  Hl7JsonRecord,
  Hl7JsonRepetition,
  Hl7JsonSegment,
  Hl7JsonValue,
} from './to-json.js';
