import type { Position } from '../types.js';
import type { Hl7Failure } from './delimiters.js';

/*
 * Character sets, from MSH-18 (HL7 table 0211). MSH-18 is read from the raw bytes, which works
 * because every set we accept is ASCII-compatible.
 * - Absent or empty: UTF-8 when the bytes are valid UTF-8, else windows-1252, reported as the
 *   charset. Senders that leave MSH-18 empty are mostly Windows systems writing cp1252 (a
 *   superset of ISO-8859-1 for printable text), and decoding never loses a byte this way.
 * - `ASCII`, `UNICODE UTF-8`, `UTF-8` and bare `UNICODE` (MSH-18 was readable as ASCII, so the
 *   bytes cannot be UTF-16): strict UTF-8; invalid bytes are `HL7_BAD_ENCODING`.
 * - `8859/1` to `8859/9` and `8859/15`: ISO-8859-n; bytes 0x80-0x9F are the C1 controls as ISO
 *   defines them, not windows-125x punctuation.
 * - `CP1252` / `WINDOWS-1252` (not in table 0211, but written by real senders): windows-1252.
 * - Anything else (UTF-16, JIS, GB 18030, ...): `HL7_UNSUPPORTED_CHARSET` at MSH-18.
 */

export interface Hl7DecodeSuccess {
  ok: true;
  text: string;
  /** The character set used, as a WHATWG encoding name: `utf-8`, `iso-8859-1`, `windows-1252`. */
  charset: string;
}

export type Hl7DecodeResult = Hl7DecodeSuccess | Hl7Failure;

const CR = 0x0d;
const LF = 0x0a;
const BOM = [0xef, 0xbb, 0xbf];
const MSH_18 = 18;

const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const fatalDecoders = new Map<string, InstanceType<typeof TextDecoder>>();

// Workaround for https://github.com/nodejs/node/issues/60888 (Node >= 20.18.3 decodes
// windows-1252 as Latin-1); drop when fixed. The WHATWG index for bytes 0x80-0x9F.
const WINDOWS_1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152,
  0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122,
  0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

/**
 * Decodes the bytes of one HL7 message using the character set MSH-18 declares (see the policy
 * above). A leading UTF-8 byte order mark is dropped.
 *
 * @param bytes - one HL7 message, as found by `splitHl7File`
 * @param messageIndex - the HL7 message's index in the batch, for the reject position
 */
export function decodeHl7Bytes(bytes: Uint8Array, messageIndex?: number): Hl7DecodeResult {
  const hasBom =
    bytes.length >= 3 && bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2];
  const body = hasBom ? bytes.subarray(BOM.length) : bytes;
  const offset = bytes.length - body.length;
  const declared = readDeclaredCharset(body);

  if (declared === undefined) {
    const text = decodeUtf8(body);
    if (text !== undefined) {
      return { ok: true, text, charset: 'utf-8' };
    }
    return { ok: true, text: decodeWindows1252(body), charset: 'windows-1252' };
  }

  const at: Position = messageIndex === undefined ? {} : { messageIndex };
  const charset = charsetFor(declared);
  if (charset === undefined) {
    const position = { ...at, segmentIndex: 1, segmentName: 'MSH', field: 'MSH-18' };
    return { ok: false, code: 'HL7_UNSUPPORTED_CHARSET', position };
  }

  const text = decodeAs(charset, body);
  if (text === undefined) {
    const badOffset = charset === 'utf-8' ? findInvalidUtf8(body) : undefined;
    const position = badOffset === undefined ? at : { ...at, byteOffset: offset + badOffset };
    return { ok: false, code: 'HL7_BAD_ENCODING', position };
  }
  return { ok: true, text, charset };
}

/** Reads MSH-18 (first repetition, first component) as ASCII; `undefined` when absent or empty. */
function readDeclaredCharset(bytes: Uint8Array): string | undefined {
  if (bytes.length < 4 || bytes[0] !== 0x4d || bytes[1] !== 0x53 || bytes[2] !== 0x48) {
    return undefined;
  }
  const separator = bytes[3];
  let lineEnd = 4;
  while (lineEnd < bytes.length && bytes[lineEnd] !== CR && bytes[lineEnd] !== LF) {
    lineEnd++;
  }

  // MSH-1 is the separator itself, so the n-th separator starts MSH-(n+1).
  let field = 1;
  let start = 3;
  for (let index = 3; index < lineEnd && field < MSH_18; index++) {
    if (bytes[index] === separator) {
      field++;
      start = index + 1;
    }
  }
  if (field !== MSH_18) {
    return undefined;
  }

  const encoding = bytes.subarray(4, bytes.indexOf(separator, 4));
  const component = encoding[0];
  const repetition = encoding[1];
  let value = '';
  for (let index = start; index < lineEnd; index++) {
    const byte = bytes[index];
    if (byte === separator || byte === component || byte === repetition) {
      break;
    }
    // A non-ASCII byte here cannot name a set we know; keep it so the name stays unknown.
    value += String.fromCharCode(byte);
  }
  value = value.trim();
  return value === '' ? undefined : value;
}

/**
 * The WHATWG encoding name for an MSH-18 value (see the policy above), or `undefined` when we
 * cannot decode that character set.
 *
 * @param declared - MSH-18 component 1, such as `UNICODE UTF-8` or `8859/1`
 */
export function charsetFor(declared: string): string | undefined {
  const name = declared.toUpperCase().replace(/\s+/g, ' ');
  if (['ASCII', 'US-ASCII', 'UNICODE', 'UNICODE UTF-8', 'UTF-8', 'UTF8'].includes(name)) {
    return 'utf-8';
  }
  if (['CP1252', 'WINDOWS-1252', 'WINDOWS1252'].includes(name)) {
    return 'windows-1252';
  }

  const iso = /^(?:ISO[ _-]?)?8859[/_-]?(\d{1,2})$/.exec(name);
  const part = iso ? Number.parseInt(iso[1], 10) : 0;
  if ((part >= 1 && part <= 9) || part === 15) {
    return `iso-8859-${part}`;
  }
  return undefined;
}

/**
 * Decodes bytes in a character set `charsetFor` returned; `undefined` when they are not valid
 * in it. Also used for the bytes of `\Xhh..\` escapes, so they decode as the message does.
 *
 * @param charset - `utf-8`, `windows-1252` or `iso-8859-n`
 * @param bytes - the bytes
 */
export function decodeAs(charset: string, bytes: Uint8Array): string | undefined {
  if (charset === 'utf-8') {
    return decodeUtf8(bytes);
  }
  if (charset === 'windows-1252') {
    return decodeWindows1252(bytes);
  }
  if (charset === 'iso-8859-1') {
    return decodeLatin1(bytes);
  }

  let decoder = fatalDecoders.get(charset);
  if (!decoder) {
    decoder = new TextDecoder(charset, { fatal: true });
    fatalDecoders.set(charset, decoder);
  }
  let decoded: string;
  try {
    decoded = decoder.decode(bytes);
  } catch {
    return undefined;
  }
  // WHATWG reads iso-8859-9 as windows-1254; put the ISO C1 controls back. Single-byte sets
  // give one UTF-16 unit per byte, so positions line up.
  if (!bytes.some(isC1)) {
    return decoded;
  }
  const chars = [...decoded];
  bytes.forEach((byte, index) => {
    if (isC1(byte)) {
      chars[index] = String.fromCharCode(byte);
    }
  });
  return chars.join('');
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return undefined;
  }
}

function decodeLatin1(bytes: Uint8Array): string {
  let text = '';
  const chunkBytes = 8192;
  for (let start = 0; start < bytes.length; start += chunkBytes) {
    text += String.fromCharCode(...bytes.subarray(start, start + chunkBytes));
  }
  return text;
}

/**
 * Decodes windows-1252, which maps every byte.
 *
 * @param bytes - the bytes
 */
export function decodeWindows1252(bytes: Uint8Array): string {
  const latin1 = decodeLatin1(bytes);
  if (!bytes.some(isC1)) {
    return latin1;
  }
  let text = '';
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index];
    text += isC1(byte) ? String.fromCharCode(WINDOWS_1252_HIGH[byte - 0x80]) : latin1[index];
  }
  return text;
}

function isC1(byte: number): boolean {
  return byte >= 0x80 && byte <= 0x9f;
}

/** Offset of the first byte that breaks UTF-8 well-formedness (RFC 3629), if any. */
function findInvalidUtf8(bytes: Uint8Array): number | undefined {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index];
    if (lead < 0x80) {
      index++;
      continue;
    }

    let length: number;
    let min: number;
    if (lead >= 0xc2 && lead <= 0xdf) {
      [length, min] = [2, 0x80];
    } else if (lead >= 0xe0 && lead <= 0xef) {
      [length, min] = [3, 0x800];
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      [length, min] = [4, 0x10000];
    } else {
      return index;
    }

    let codePoint = lead & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const next = bytes[index + k];
      if (next === undefined || (next & 0xc0) !== 0x80) {
        return index;
      }
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    const surrogate = codePoint >= 0xd800 && codePoint <= 0xdfff;
    if (codePoint < min || codePoint > 0x10ffff || surrogate) {
      return index;
    }
    index += length;
  }
  return undefined;
}
