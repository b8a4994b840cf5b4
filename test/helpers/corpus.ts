import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The shared corpus beside the project, present on developer machines and in CI. */
export const CORPUS_DIR = fileURLToPath(new URL('../../../shared/corpus/', import.meta.url));

export const corpusAvailable = existsSync(CORPUS_DIR);

if (!corpusAvailable) {
  console.warn(`Corpus tests skipped: ${CORPUS_DIR} does not exist`);
}

/** Path of a file or folder inside the corpus. */
export function corpusPath(...parts: string[]): string {
  return join(CORPUS_DIR, ...parts);
}

/**
 * Counts HL7 messages the simple way, independently of the parser: segments named MSH at the
 * start of the file or of a line.
 */
export function countMshSegments(bytes: Uint8Array): number {
  // latin1 keeps one character per byte; a UTF-8 byte order mark reads as three of them.
  const text = Buffer.from(bytes)
    .toString('latin1')
    .replace(/^\u00ef\u00bb\u00bf/, '');
  return (text.match(/(?:^|[\r\n\u000b])MSH[^A-Za-z0-9\r\n]/g) ?? []).length;
}

/** Counts FHIR resources in a JSON document: Bundle entries with a resource, else one. */
export function countFhirResources(bytes: Uint8Array): number {
  const entries = bundleEntries(bytes);
  if (entries === undefined) {
    return 1;
  }
  return entries.filter((entry) => entry.resource !== undefined || !isOperation(entry)).length;
}

/**
 * Counts Bundle entries that hold no `resource` yet are not a batch or transaction operation (a
 * resource written into the entry itself, a lone fullUrl): each must come out as a reject.
 *
 * @param bytes - a FHIR JSON document
 */
export function countMisplacedFhirEntries(bytes: Uint8Array): number {
  const entries = bundleEntries(bytes) ?? [];
  return entries.filter((entry) => entry.resource === undefined && !isOperation(entry)).length;
}

type Entry = { resource?: unknown; request?: unknown; response?: unknown };

function bundleEntries(bytes: Uint8Array): Entry[] | undefined {
  const document = JSON.parse(
    Buffer.from(bytes)
      .toString('utf8')
      .replace(/^\uFEFF/, ''),
  ) as { resourceType?: string; entry?: Entry[] };
  return document.resourceType === 'Bundle' ? (document.entry ?? []) : undefined;
}

function isOperation(entry: Entry): boolean {
  return entry.request !== undefined || entry.response !== undefined;
}

/** Counts non-empty lines of an NDJSON file. */
export function countNdjsonLines(bytes: Uint8Array): number {
  return Buffer.from(bytes)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '').length;
}

export function readCorpusFile(path: string): Buffer {
  return readFileSync(path);
}
