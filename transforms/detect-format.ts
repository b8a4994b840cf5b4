import type { FileFormat } from './types.js';

/** How much of a file detection reads before it decides; the rest is never scanned in full. */
const DETECTION_PREFIX_BYTES = 64 * 1024;

const BYTE_MLLP_START = 0x0b;
const BYTE_LF = 0x0a;
const BYTE_OPEN_BRACE = 0x7b;
const BYTE_CLOSE_BRACE = 0x7d;
const BYTE_QUOTE = 0x22;
const BYTE_BACKSLASH = 0x5c;

// A batch file opens with FHS or BHS, a single HL7 message with MSH (HL7 v2.5.1 chapter 2.10).
const HL7_HEADER_SEGMENTS = ['MSH', 'FHS', 'BHS'];

/**
 * Tells what kind of file the bytes hold, looking only at their start: HL7 v2 (`MSH`, `FHS` or
 * `BHS` and a field separator), NDJSON (a complete JSON object on the first line and another
 * object on the next non-empty line) or a FHIR JSON document (any other file opening with `{`).
 * A UTF-8 byte order mark, white space and the MLLP start byte are skipped first. Empty input
 * and anything else give `'unknown'`; the caller tells an empty file apart by its length.
 *
 * @param bytes - the whole file; only its first 64 KiB are scanned, plus a search for the first
 *   line break, so an NDJSON file whose first line is longer than a passed-in prefix would look
 *   like one JSON document
 */
export function detectFormat(bytes: Uint8Array): FileFormat {
  const start = skipPreamble(bytes);
  if (start >= bytes.length) {
    return 'unknown';
  }

  if (startsWithHl7Header(bytes, start)) {
    return 'hl7v2';
  }

  if (bytes[start] !== BYTE_OPEN_BRACE) {
    return 'unknown';
  }
  return isNdjson(bytes, start) ? 'ndjson' : 'fhir-json';
}

/**
 * Removes a leading byte order mark (U+FEFF) from decoded text; `JSON.parse` rejects it.
 *
 * @param text - decoded file contents
 */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function skipPreamble(bytes: Uint8Array): number {
  let index = 0;
  if (bytes[index] === 0xef && bytes[index + 1] === 0xbb && bytes[index + 2] === 0xbf) {
    index += 3;
  }
  while (isJsonWhitespace(bytes[index]) || bytes[index] === BYTE_MLLP_START) {
    index += 1;
  }
  return index;
}

function startsWithHl7Header(bytes: Uint8Array, start: number): boolean {
  const separator = bytes[start + 3];
  if (separator === undefined || !isFieldSeparator(separator)) {
    return false;
  }
  return HL7_HEADER_SEGMENTS.some(
    (name) =>
      bytes[start] === name.charCodeAt(0) &&
      bytes[start + 1] === name.charCodeAt(1) &&
      bytes[start + 2] === name.charCodeAt(2),
  );
}

// Any printable ASCII punctuation can be the field separator; `|` is the usual one.
function isFieldSeparator(byte: number): boolean {
  const printable = byte > 0x20 && byte < 0x7f;
  const digit = byte >= 0x30 && byte <= 0x39;
  const letter = (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
  return printable && !digit && !letter;
}

function isNdjson(bytes: Uint8Array, start: number): boolean {
  const lineEnd = bytes.indexOf(BYTE_LF, start);
  if (lineEnd === -1) {
    return false;
  }

  // Pretty-printed JSON never has a line starting with `{` right after a complete object.
  const nextLineStart = skipWhitespace(bytes, lineEnd + 1);
  if (bytes[nextLineStart] !== BYTE_OPEN_BRACE) {
    return false;
  }

  return isCompleteObject(bytes, start, lineEnd);
}

// Scans braces outside strings; past the prefix it settles for a closing brace at the line end.
function isCompleteObject(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start > DETECTION_PREFIX_BYTES) {
    return bytes[lastNonWhitespace(bytes, start, end)] === BYTE_CLOSE_BRACE;
  }

  let depth = 0;
  let inString = false;
  for (let index = start; index < end; index += 1) {
    const byte = bytes[index];
    if (inString) {
      if (byte === BYTE_BACKSLASH) {
        index += 1;
      } else if (byte === BYTE_QUOTE) {
        inString = false;
      }
      continue;
    }
    if (byte === BYTE_QUOTE) {
      inString = true;
    } else if (byte === BYTE_OPEN_BRACE) {
      depth += 1;
    } else if (byte === BYTE_CLOSE_BRACE) {
      depth -= 1;
      if (depth === 0) {
        return lastNonWhitespace(bytes, start, end) === index;
      }
    }
  }
  return false;
}

function skipWhitespace(bytes: Uint8Array, from: number): number {
  let index = from;
  while (isJsonWhitespace(bytes[index])) {
    index += 1;
  }
  return index;
}

function lastNonWhitespace(bytes: Uint8Array, start: number, end: number): number {
  let index = end - 1;
  while (index > start && isJsonWhitespace(bytes[index])) {
    index -= 1;
  }
  return index;
}

function isJsonWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}
