import { collectFhirIdentifiers } from '../transforms/deid/fhir-identifiers.js';
import {
  collectIdentityMap,
  collectPatientKeys,
  deidentifyResource,
  FhirPathRuleError,
  parseFhirDocument,
  parseNdjsonLine,
  resourceTypeOf,
  validateResource,
} from '../transforms/fhir/index.js';
import {
  decodeHl7Bytes,
  deidentifyHl7ToJson,
  hl7RecordType,
  parseHl7,
  splitHl7File,
} from '../transforms/hl7/index.js';
import type { DeidCounts, DeidOptions } from '../transforms/fhir/index.js';
import type { Hl7JsonRecord } from '../transforms/hl7/index.js';
import type { DeidContext, Position, RejectCode } from '../transforms/types.js';
import type {
  FailedOutcome,
  PrepareOutcome,
  RecordGroup,
  RejectLine,
  TransformOutcome,
} from './task-types.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Why a resource could not be de-identified, as its reject code and position. */
class DeidFailure {
  readonly code: RejectCode;
  readonly position: Position;

  constructor(code: RejectCode, position: Position) {
    this.code = code;
    this.position = position;
  }
}

const DEID_FAILED = Object.freeze(new DeidFailure('DEID_FAILED', Object.freeze({})));

// A resource's de-identified copy, or why there is none: `DEID_FAILED` for what is not a
// resource or nests too deeply, `DEID_RULE_FAILED` naming the feed's rule that failed on it.
function deidentifyOrFailure(resource: unknown, ctx: DeidContext, options?: DeidOptions): unknown {
  let deidentified: unknown;
  try {
    deidentified = deidentifyResource(resource, ctx, options);
  } catch (error) {
    if (error instanceof FhirPathRuleError) {
      return new DeidFailure('DEID_RULE_FAILED', { rule: error.place });
    }
    throw error;
  }
  return deidentified === undefined ? DEID_FAILED : deidentified;
}

/**
 * Finds the HL7 messages of a file. Whole-file problems (no MSH, a batch trailer count that
 * disagrees) come back as a failed outcome, which quarantines the file.
 *
 * @param bytes - the whole file
 * @param acceptBatchCountMismatch - the feed's setting for BTS-1/FTS-1 mismatches
 */
export function prepareHl7(
  bytes: Uint8Array,
  acceptBatchCountMismatch: boolean,
): PrepareOutcome | FailedOutcome {
  const split = splitHl7File(bytes, { acceptCountMismatch: acceptBatchCountMismatch });
  if (!split.ok) {
    return {
      status: 'failed',
      code: split.code,
      retryable: false,
      position: split.position,
      format: 'hl7v2',
    };
  }
  const ranges: number[] = [];
  for (const message of split.messages) {
    ranges.push(message.start, message.end);
  }
  return {
    status: 'ok',
    format: 'hl7v2',
    ranges,
    countMismatch: split.countMismatch,
    trailersMissing: split.envelope.trailersMissing,
  };
}

/**
 * Finds the non-empty lines of an NDJSON file (LF or CRLF).
 *
 * @param bytes - the whole file, or a window of it that starts at a line
 * @param atFileStart - the bytes start the file, so a UTF-8 byte order mark there is skipped
 */
export function prepareNdjson(bytes: Uint8Array, atFileStart = true): PrepareOutcome {
  const ranges: number[] = [];
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  let start = atFileStart && bom ? 3 : 0;
  // Buffer's indexOf is a native byte search, many times faster than a loop over the bytes; the
  // pool runs this step alone before any transform task can start.
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (start <= bytes.length) {
    const newline = view.indexOf(0x0a, start);
    const index = newline === -1 ? bytes.length : newline;
    let end = index;
    while (
      end > start &&
      (bytes[end - 1] === 0x0d || bytes[end - 1] === 0x20 || bytes[end - 1] === 0x09)
    ) {
      end--;
    }
    if (hasContent(bytes, start, end)) {
      ranges.push(start, end);
    }
    start = index + 1;
  }
  return { status: 'ok', format: 'ndjson', ranges };
}

/**
 * Parses, de-identifies and serialises a run of HL7 messages or NDJSON lines.
 *
 * @param format - `hl7v2` or `ndjson`
 * @param bytes - the whole file
 * @param ranges - byte ranges of the records in this task
 * @param firstMessageIndex - batch-wide index of the first record
 * @param ctx - de-identification keys
 */
export function transformRecords(
  format: 'hl7v2' | 'ndjson',
  bytes: Uint8Array,
  ranges: number[],
  firstMessageIndex: number,
  ctx: DeidContext,
): TransformOutcome {
  const groups = new GroupBuilder();
  const rejects: RejectLine[] = [];
  // One options object for every line: NDJSON lines share no document, only the counts.
  const counts: DeidCounts = { unknownElementsRemoved: 0 };
  const options: DeidOptions = { counts };

  for (let offset = 0; offset < ranges.length; offset += 2) {
    const messageIndex = firstMessageIndex + offset / 2;
    const recordBytes = bytes.subarray(ranges[offset], ranges[offset + 1]);

    if (format === 'hl7v2') {
      const reject = (code: RejectCode, position: Position): void => {
        rejects.push({
          code,
          position: { ...position, messageIndex, byteOffset: ranges[offset] },
          raw: utf8.decode(recordBytes),
        });
      };
      transformHl7Message(recordBytes, messageIndex, ctx, groups, reject);
    } else {
      // No closure per line: under tsx each named closure costs a `defineProperty` for its name.
      const removedBefore = counts.unknownElementsRemoved;
      const failure = transformNdjsonLine(recordBytes, messageIndex, ctx, options, groups);
      if (failure !== undefined) {
        // Only written records count: a rejected line is stored whole, as sent.
        counts.unknownElementsRemoved = removedBefore;
        rejects.push({
          code: failure.code,
          position: { ...failure.position, messageIndex, byteOffset: ranges[offset] },
          raw: utf8.decode(recordBytes),
        });
      }
    }
  }
  return {
    status: 'ok',
    groups: groups.toGroups(),
    rejects,
    messageCount: ranges.length / 2,
    unknownElementsRemoved: counts.unknownElementsRemoved,
  };
}

/**
 * Parses a FHIR JSON document (one resource or a Bundle) and de-identifies each resource. The
 * document's `urn:uuid:` references are resolved across its entries before the Bundle is gone.
 *
 * @param bytes - the whole file
 * @param ctx - de-identification keys
 */
export function transformFhirDocument(
  bytes: Uint8Array,
  ctx: DeidContext,
): TransformOutcome | FailedOutcome {
  const parsed = parseFhirDocument(utf8.decode(bytes));
  if (!parsed.ok) {
    return {
      status: 'failed',
      code: parsed.code,
      retryable: false,
      position: parsed.position,
      format: 'fhir-json',
    };
  }

  const groups = new GroupBuilder();
  // Entries the parser refused carry the entry as sent; the whole file is in the archive too.
  const rejects: RejectLine[] = parsed.rejects.map((reject) => ({
    ...reject,
    raw: reject.raw ?? '',
  }));
  const identityMap = collectIdentityMap(parsed.resources, parsed.fullUrls);
  const patientKeys = collectPatientKeys(parsed.resources, parsed.fullUrls, ctx.pseudonymKey);
  const known = collectFhirIdentifiers(parsed.resources);
  const counts: DeidCounts = { unknownElementsRemoved: 0 };
  parsed.resources.forEach((resource: unknown, messageIndex: number) => {
    const valid = validateResource(resource);
    if (!valid.ok) {
      rejects.push({
        code: valid.code,
        position: { ...valid.position, messageIndex },
        raw: JSON.stringify(resource),
      });
      return;
    }
    const fullUrl = parsed.fullUrls[messageIndex];
    const removedBefore = counts.unknownElementsRemoved;
    const deidentified = deidentifyOrFailure(resource, ctx, {
      identityMap,
      fullUrl,
      patientKeys,
      known,
      counts,
    });
    if (deidentified instanceof DeidFailure) {
      counts.unknownElementsRemoved = removedBefore;
      rejects.push({
        code: deidentified.code,
        position: { ...deidentified.position, messageIndex },
        raw: JSON.stringify(resource),
      });
      return;
    }
    groups.add(resourceTypeOf(resource) ?? 'unknown', JSON.stringify(deidentified));
  });
  return {
    status: 'ok',
    groups: groups.toGroups(),
    rejects,
    messageCount: parsed.resources.length + parsed.rejects.length,
    unknownElementsRemoved: counts.unknownElementsRemoved,
  };
}

function transformHl7Message(
  recordBytes: Uint8Array,
  messageIndex: number,
  ctx: DeidContext,
  groups: GroupBuilder,
  reject: (code: RejectCode, position: Position) => void,
): void {
  const decoded = decodeHl7Bytes(recordBytes);
  if (!decoded.ok) {
    reject(decoded.code, decoded.position);
    return;
  }
  const parsed = parseHl7(decoded.text, messageIndex);
  if (!parsed.ok) {
    reject(parsed.code, parsed.position);
    return;
  }
  let record: Hl7JsonRecord;
  try {
    record = deidentifyHl7ToJson(parsed.message, ctx);
  } catch {
    reject('DEID_FAILED', {});
    return;
  }
  groups.add(hl7RecordType(record.messageType), JSON.stringify({ messageIndex, ...record }));
}

// Returns why the line is rejected, or `undefined` once its output line is added.
function transformNdjsonLine(
  recordBytes: Uint8Array,
  messageIndex: number,
  ctx: DeidContext,
  options: DeidOptions,
  groups: GroupBuilder,
): { code: RejectCode; position: Position } | undefined {
  const parsed = parseNdjsonLine(utf8.decode(recordBytes), messageIndex + 1);
  if (!parsed.ok) {
    return parsed;
  }
  const valid = validateResource(parsed.resource);
  if (!valid.ok) {
    return valid;
  }
  const deidentified = deidentifyOrFailure(parsed.resource, ctx, options);
  if (deidentified instanceof DeidFailure) {
    return deidentified;
  }
  groups.add(resourceTypeOf(parsed.resource) ?? 'unknown', JSON.stringify(deidentified));
  return undefined;
}

/** Collects output lines per record type, keeping input order within each type. */
class GroupBuilder {
  private readonly lines = new Map<string, string[]>();

  add(recordType: string, line: string): void {
    const key = recordType.length > 0 ? recordType : 'unknown';
    let list = this.lines.get(key);
    if (!list) {
      list = [];
      this.lines.set(key, list);
    }
    list.push(line);
  }

  toGroups(): RecordGroup[] {
    return [...this.lines].map(([recordType, lines]) => ({
      recordType,
      ndjson: lines.join('\n') + '\n',
      recordCount: lines.length,
    }));
  }
}

function hasContent(bytes: Uint8Array, start: number, end: number): boolean {
  for (let index = start; index < end; index++) {
    if (bytes[index] !== 0x20 && bytes[index] !== 0x09 && bytes[index] !== 0x0d) {
      return true;
    }
  }
  return false;
}
