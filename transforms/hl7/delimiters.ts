import type { Position, RejectCode } from '../types.js';

/** The delimiters one HL7 message declares in MSH-1 and MSH-2. */
export interface Hl7Delimiters {
  /** MSH-1, usually `|`. */
  field: string;
  /** MSH-2 character 1, usually `^`. */
  component: string;
  /** MSH-2 character 2, usually `~`. */
  repetition: string;
  /** MSH-2 character 3, usually `\`. */
  escape: string;
  /** MSH-2 character 4, usually `&`. */
  subcomponent: string;
  /** MSH-2 character 5, the truncation character of v2.7 and later (usually `#`), if declared. */
  truncation?: string;
}

/** A reject: a stable code and where it happened, never a value. */
export interface Hl7Failure {
  ok: false;
  code: RejectCode;
  position: Position;
}

/** The delimiters almost every sender uses: `|^~\&`. */
export const STANDARD_HL7_DELIMITERS: Readonly<Hl7Delimiters> = Object.freeze({
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
});

/**
 * Tells whether a character may serve as a delimiter: printable, not a letter, digit or space.
 * HL7 only recommends the usual five, but letters, digits, white space and control characters
 * would make segment ids and values ambiguous, which is how corrupted headers show up.
 *
 * @param char - one character (one UTF-16 code unit)
 */
export function isDelimiterChar(char: string): boolean {
  if (char.length !== 1) {
    return false;
  }
  const code = char.charCodeAt(0);
  if (code < 0x21 || code === 0x7f || (code >= 0x80 && code <= 0xa0)) {
    return false;
  }
  return !/[\p{L}\p{N}\p{Z}]/u.test(char);
}

/**
 * Reads the delimiters from MSH-1 and the raw text of MSH-2. Returns `undefined` when they are
 * unusable: a bad character, a repeated one, or a count other than four or five. The object
 * returned is frozen and shared by every message that declares the same delimiters.
 *
 * @param fieldSeparator - MSH-1, the character right after `MSH`
 * @param encodingCharacters - MSH-2 as written
 */
export function readDelimiters(
  fieldSeparator: string,
  encodingCharacters: string,
): Hl7Delimiters | undefined {
  // Every message of a feed declares the same few; each is read once and shared, frozen.
  const key = fieldSeparator + encodingCharacters;
  const cached = delimiterCache.get(key);
  if (cached !== undefined || delimiterCache.has(key)) {
    return cached;
  }
  const delimiters = readDelimitersUncached(fieldSeparator, encodingCharacters);
  if (delimiterCache.size >= DELIMITER_CACHE_LIMIT) {
    delimiterCache.clear();
  }
  delimiterCache.set(key, delimiters);
  return delimiters;
}

const DELIMITER_CACHE_LIMIT = 256;
const delimiterCache = new Map<string, Readonly<Hl7Delimiters> | undefined>();

function readDelimitersUncached(
  fieldSeparator: string,
  encodingCharacters: string,
): Readonly<Hl7Delimiters> | undefined {
  let chars = [...encodingCharacters];

  // `^~\\&` comes from writers that escaped the backslash as in a string literal; read it as
  // `^~\&`. Five characters with the escape doubled can only mean that.
  if (chars.length === 5 && chars[2] === '\\' && chars[3] === '\\') {
    chars = [chars[0], chars[1], chars[2], chars[4]];
  }

  if (chars.length < 4 || chars.length > 5) {
    return undefined;
  }
  const all = [fieldSeparator, ...chars];
  if (!all.every(isDelimiterChar) || new Set(all).size !== all.length) {
    return undefined;
  }

  const delimiters: Hl7Delimiters = {
    field: fieldSeparator,
    component: chars[0],
    repetition: chars[1],
    escape: chars[2],
    subcomponent: chars[3],
  };
  if (chars.length === 5) {
    delimiters.truncation = chars[4];
  }
  return Object.freeze(delimiters);
}
