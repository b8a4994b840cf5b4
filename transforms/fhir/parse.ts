import { stripBom } from '../detect-format.js';
import type { Position, RejectCode, RejectRecord } from '../types.js';
import { isJsonObject } from './json.js';

/** A FHIR JSON document split into resources. Bundle wrappers are not among them. */
export interface ParsedFhirDocument {
  ok: true;
  /** The resource itself, or one item per Bundle entry that carries a resource, in entry order. */
  resources: unknown[];
  /**
   * `entry.fullUrl` of each item of `resources` (same index), or `undefined` where the entry had
   * none or the document was a single resource. `collectIdentityMap` needs them to resolve
   * `urn:uuid:` references after the Bundle is gone.
   */
  fullUrls: (string | undefined)[];
  /** Bundle entries without a resource (a DELETE or GET request, a bare response); not errors. */
  skippedEntries: number;
  /** Entries whose resource is unusable; `position.messageIndex` is the index in `Bundle.entry`. */
  rejects: RejectRecord[];
}

/** Why a whole document or NDJSON line was refused. Positions only; never a value. */
export interface FhirParseFailure {
  ok: false;
  code: RejectCode;
  position: Position;
}

/** One NDJSON line that holds a resource. */
export interface ParsedNdjsonLine {
  ok: true;
  resource: Record<string, unknown>;
}

/**
 * Parses a FHIR JSON document: one resource or a Bundle of any type. A Bundle is flattened into
 * its entries' resources and the wrapper is dropped; a Bundle nested in an entry stays one item.
 * Never throws for bad input, and never passes on a `JSON.parse` message, which quotes the input.
 *
 * @param text - decoded file contents; a leading byte order mark is ignored
 */
export function parseFhirDocument(text: string): ParsedFhirDocument | FhirParseFailure {
  const parsed = parseJson(stripBom(text));
  if (!parsed.ok) {
    return failure('FHIR_INVALID_JSON', {});
  }

  const root = parsed.value;
  if (!isJsonObject(root)) {
    return failure('FHIR_NOT_AN_OBJECT', {});
  }
  if (!hasResourceType(root)) {
    return failure('FHIR_MISSING_RESOURCE_TYPE', { field: 'resourceType' });
  }

  if (root.resourceType !== 'Bundle') {
    return { ok: true, resources: [root], fullUrls: [undefined], skippedEntries: 0, rejects: [] };
  }
  return flattenBundle(root);
}

/**
 * Parses one line of an NDJSON file (FHIR bulk data format) into a resource. Valid JSON that has
 * no `resourceType` at all, such as a bulk export log line, is `NDJSON_NOT_A_RESOURCE`; one whose
 * `resourceType` is empty or not a string is `FHIR_MISSING_RESOURCE_TYPE`. Callers skip blank
 * lines before calling; a trailing `\r` and a byte order mark are ignored.
 *
 * @param line - the text of one line, without its `\n`
 * @param lineNumber - one-based line number in the file, reported in the position
 */
export function parseNdjsonLine(
  line: string,
  lineNumber: number,
): ParsedNdjsonLine | FhirParseFailure {
  const position: Position = { line: lineNumber };
  const parsed = parseJson(stripBom(line));
  if (!parsed.ok) {
    return failure('NDJSON_INVALID_JSON', position);
  }

  const value = parsed.value;
  if (!isJsonObject(value) || !('resourceType' in value)) {
    return failure('NDJSON_NOT_A_RESOURCE', position);
  }
  if (!hasResourceType(value)) {
    return failure('FHIR_MISSING_RESOURCE_TYPE', { ...position, field: 'resourceType' });
  }
  return { ok: true, resource: value };
}

function flattenBundle(bundle: Record<string, unknown>): ParsedFhirDocument | FhirParseFailure {
  const result: ParsedFhirDocument = {
    ok: true,
    resources: [],
    fullUrls: [],
    skippedEntries: 0,
    rejects: [],
  };
  const { entry } = bundle;
  if (entry === undefined) {
    return result;
  }
  if (!Array.isArray(entry)) {
    return failure('FHIR_INVALID_RESOURCE', { field: 'Bundle.entry' });
  }

  // A refused entry is kept as sent in its reject (encrypted there), so it can be looked at.
  entry.forEach((item: unknown, messageIndex) => {
    if (!isJsonObject(item)) {
      const raw = JSON.stringify(item) ?? '';
      result.rejects.push({ code: 'FHIR_NOT_AN_OBJECT', position: { messageIndex }, raw });
      return;
    }
    const { resource, fullUrl } = item;
    if (resource === undefined) {
      // A batch or transaction entry that only asks (DELETE, GET) or answers carries no data
      // and is skipped, counted in `skippedEntries`. Any other entry without `resource` (a
      // resource placed in the entry itself, a lone fullUrl) is a reject, not a silent gap.
      if (isOperationOnly(item)) {
        result.skippedEntries += 1;
      } else {
        const position = { messageIndex, field: 'Bundle.entry.resource' };
        const raw = JSON.stringify(item);
        result.rejects.push({ code: 'FHIR_ENTRY_WITHOUT_RESOURCE', position, raw });
      }
      return;
    }
    if (!isJsonObject(resource)) {
      const position = { messageIndex, field: 'Bundle.entry.resource' };
      result.rejects.push({ code: 'FHIR_NOT_AN_OBJECT', position, raw: JSON.stringify(item) });
      return;
    }
    if (!hasResourceType(resource)) {
      const position = { messageIndex, field: 'Bundle.entry.resource.resourceType' };
      const raw = JSON.stringify(item);
      result.rejects.push({ code: 'FHIR_MISSING_RESOURCE_TYPE', position, raw });
      return;
    }
    result.resources.push(resource);
    result.fullUrls.push(typeof fullUrl === 'string' ? fullUrl : undefined);
  });
  return result;
}

// Entry elements besides `resource` (R4 Bundle.entry).
const OPERATION_ENTRY_ELEMENTS = new Set([
  'fullUrl',
  'request',
  'response',
  'search',
  'link',
  'id',
  'extension',
  'modifierExtension',
]);

function isOperationOnly(item: Record<string, unknown>): boolean {
  if (item.request === undefined && item.response === undefined) {
    return false;
  }
  return Object.keys(item).every((name) => OPERATION_ENTRY_ELEMENTS.has(name));
}

function hasResourceType(value: Record<string, unknown>): boolean {
  return typeof value.resourceType === 'string' && value.resourceType.length > 0;
}

// The SyntaxError is dropped on purpose: V8 quotes the offending input in its message.
function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function failure(code: RejectCode, position: Position): FhirParseFailure {
  return { ok: false, code, position };
}
