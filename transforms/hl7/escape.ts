import { decodeAs, decodeWindows1252 } from './charset.js';
import type { Hl7Delimiters } from './delimiters.js';

/*
 * Escape sequences, HL7 v2.5.1 section 2.7:
 * https://www.hl7.eu/HL7v2x/v251/std251/ch02.html#Heading40
 *
 * Policy when a value is read (docs/hl7-parser.md has the same list):
 * - `\F\ \S\ \T\ \R\ \E\` give the delimiter; `\P\` gives the truncation character (v2.7+) and
 *   is kept as written when the message declares none.
 * - `\Xhh..\` is hex data: bytes in the message's character set (MSH-18), so `\XC3A9\` is `é` in
 *   a UTF-8 message and `\XE9\` is `é` in an ISO-8859-1 one. Adjacent `\X..\` sequences join
 *   first, so a character split over two sequences still decodes. Without MSH-18 the bytes are
 *   UTF-8 when they are valid UTF-8, else windows-1252 (the rule `decodeHl7Bytes` applies to the
 *   message itself). A hex run of odd or zero length, or bytes the declared set cannot decode,
 *   is a bad escape.
 * - Formatting commands: `\.br\` and `\.sp\` give a line feed (`\.sp n\` gives n, at most 100);
 *   `\.in\ \.ti\ \.sk\ \.ce\ \.fi\ \.nf\` and highlighting `\H\ \N\` are dropped, since the
 *   output is data, not a display.
 * - `\Cxxyy\ \Mxxyyzz\ \Zxx\` (character set switches, local escapes) are kept as written: we
 *   cannot interpret them, and dropping them would lose data.
 * - An escape character with no closing one, or whose sequence is not one of the above, is an
 *   ordinary character. Senders write Windows paths and stray backslashes unescaped, and
 *   rejecting those would reject good data.
 */

const MAX_SPACE_LINES = 100;
const X = 0x58;

const utf8Lenient = new TextDecoder('utf-8');
const lenientDecoders = new Map<string, InstanceType<typeof TextDecoder>>();

/**
 * Replaces escape sequences in a value with the characters they stand for. Never fails: a bad
 * hex run is kept as written and undecodable bytes become U+FFFD. `parseHl7` rejects messages
 * with bad escapes up front, so values read from a parsed message never hit either case.
 *
 * @param text - one value as written in the message
 * @param delimiters - the delimiters of the message the value came from
 * @param charset - the message's declared character set (WHATWG name, as `charsetFor` gives);
 *   omit when MSH-18 is empty
 */
export function unescapeHl7(text: string, delimiters: Hl7Delimiters, charset?: string): string {
  if (text.indexOf(delimiters.escape) === -1) {
    return text;
  }
  return decodeEscapes(text, delimiters, charset);
}

/**
 * Writes a value so that it reads back unchanged: delimiters become `\F\ \S\ \T\ \R\ \E\`
 * (and `\P\`), CR and LF become `\X0D\` and `\X0A\` so they cannot end the segment, and a value
 * that is exactly `""` becomes `\X2222\` so it does not read as HL7's explicit null.
 *
 * @param value - the value to write
 * @param delimiters - the delimiters of the message the value goes into
 */
export function escapeHl7(value: string, delimiters: Hl7Delimiters): string {
  if (value === '""') {
    return `${delimiters.escape}X2222${delimiters.escape}`;
  }
  if (!needsEscaping(value, delimiters)) {
    return value;
  }
  const e = delimiters.escape;
  const special = [
    e,
    delimiters.field,
    delimiters.component,
    delimiters.subcomponent,
    delimiters.repetition,
  ];
  const codes = ['E', 'F', 'S', 'T', 'R'];
  if (delimiters.truncation !== undefined) {
    special.push(delimiters.truncation);
    codes.push('P');
  }
  special.push('\r', '\n');
  codes.push('X0D', 'X0A');

  let out = '';
  let copied = 0;
  for (let index = 0; index < value.length; index++) {
    const which = special.indexOf(value[index]);
    if (which !== -1) {
      out += value.slice(copied, index) + e + codes[which] + e;
      copied = index + 1;
    }
  }
  return copied === 0 ? value : out + value.slice(copied);
}

/**
 * Tells whether every escape sequence in some message text is well formed, in the strict sense
 * `parseHl7` enforces: hex runs of even, non-zero length that decode in the character set.
 *
 * @param text - raw text: a value, a field or a whole segment
 * @param delimiters - the delimiters of the message
 * @param charset - the message's declared character set; omit when MSH-18 is empty
 */
export function hasValidEscapes(
  text: string,
  delimiters: Hl7Delimiters,
  charset?: string,
): boolean {
  return findBadEscape(text, 0, delimiters, charset) === -1;
}

/**
 * Index of the escape character that starts the first bad escape sequence in `text` from
 * `from` on (a hex run of odd or zero length, or hex bytes that do not decode; for adjacent hex
 * runs, the first of the run), or -1 when there is none. Text holding delimiters can be passed
 * whole (a segment), because a sequence never spans a delimiter.
 *
 * @param text - raw text
 * @param from - where to start looking
 * @param d - the delimiters of the message
 * @param charset - the message's declared character set; omit when MSH-18 is empty
 * @param to - where to stop looking; default the end of `text`
 */
export function findBadEscape(
  text: string,
  from: number,
  d: Hl7Delimiters,
  charset?: string,
  to = text.length,
): number {
  const escape = d.escape;
  let start = indexBefore(text, escape, from, to);
  let copied = from;
  let pending: number[] | undefined;
  let pendingStart = -1;

  while (start !== -1) {
    const close = closingEscape(text, start, d, to);
    if (close === -1) {
      start = indexBefore(text, escape, start + 1, to);
      continue;
    }
    if (text.charCodeAt(start + 1) === X && isHexRun(text, start + 2, close)) {
      const digits = close - start - 2;
      if (digits === 0 || digits % 2 !== 0) {
        return pending && start > copied && !decodesIn(pending, charset) ? pendingStart : start;
      }
      if (pending && start > copied) {
        if (!decodesIn(pending, charset)) {
          return pendingStart;
        }
        pending = undefined;
      }
      if (!pending) {
        pending = [];
        pendingStart = start;
      }
      pushHexBytes(text, start + 2, close, pending);
      copied = close + 1;
      start = indexBefore(text, escape, close + 1, to);
      continue;
    }
    if (namedEscape(text, start + 1, close, d) === undefined) {
      start = indexBefore(text, escape, start + 1, to);
      continue;
    }
    if (pending) {
      if (!decodesIn(pending, charset)) {
        return pendingStart;
      }
      pending = undefined;
    }
    copied = close + 1;
    start = indexBefore(text, escape, close + 1, to);
  }
  return pending && !decodesIn(pending, charset) ? pendingStart : -1;
}

/** Decodes every escape in text that holds at least one escape character. */
function decodeEscapes(text: string, d: Hl7Delimiters, charset: string | undefined): string {
  const escape = d.escape;
  let out = '';
  let copied = 0;
  let pending: number[] | undefined;
  let start = text.indexOf(escape);

  while (start !== -1) {
    const close = closingEscape(text, start, d);
    if (close === -1) {
      start = text.indexOf(escape, start + 1);
      continue;
    }
    if (text.charCodeAt(start + 1) === X && isHexRun(text, start + 2, close)) {
      const digits = close - start - 2;
      if (digits !== 0 && digits % 2 === 0) {
        if (start > copied) {
          if (pending) {
            out += bytesToText(pending, charset);
            pending = undefined;
          }
          out += text.slice(copied, start);
        }
        pending ??= [];
        pushHexBytes(text, start + 2, close, pending);
        copied = close + 1;
        start = text.indexOf(escape, close + 1);
      } else {
        // A bad hex run stays as written, as text.
        start = text.indexOf(escape, close + 1);
      }
      continue;
    }
    const decoded = namedEscape(text, start + 1, close, d);
    if (decoded === undefined) {
      start = text.indexOf(escape, start + 1);
      continue;
    }
    if (pending) {
      if (start > copied) {
        out += bytesToText(pending, charset) + text.slice(copied, start);
      } else {
        out += bytesToText(pending, charset);
      }
      pending = undefined;
    } else {
      out += text.slice(copied, start);
    }
    out += decoded;
    copied = close + 1;
    start = text.indexOf(escape, close + 1);
  }
  if (pending) {
    out += bytesToText(pending, charset);
  }
  return out + text.slice(copied);
}

/**
 * Index of the escape character that closes the sequence opened at `start`, or -1 when the
 * opening one is a plain character: no closing one before a delimiter or the end, or nothing
 * between the two.
 */
function closingEscape(text: string, start: number, d: Hl7Delimiters, to = text.length): number {
  const escape = d.escape.charCodeAt(0);
  const field = d.field.charCodeAt(0);
  const component = d.component.charCodeAt(0);
  const repetition = d.repetition.charCodeAt(0);
  const subcomponent = d.subcomponent.charCodeAt(0);
  const truncation = d.truncation === undefined ? -1 : d.truncation.charCodeAt(0);
  for (let index = start + 1; index < to; index++) {
    const code = text.charCodeAt(index);
    if (code === escape) {
      return index === start + 1 ? -1 : index;
    }
    if (
      code === field ||
      code === component ||
      code === repetition ||
      code === subcomponent ||
      code === truncation
    ) {
      return -1;
    }
  }
  return -1;
}

/** `text.indexOf(search, from)`, but -1 for a match at or after `to`. */
function indexBefore(text: string, search: string, from: number, to: number): number {
  const at = text.indexOf(search, from);
  return at < to ? at : -1;
}

function isHexRun(text: string, start: number, end: number): boolean {
  for (let index = start; index < end; index++) {
    if (hexValue(text.charCodeAt(index)) < 0) {
      return false;
    }
  }
  return true;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) {
    return code - 0x30;
  }
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

function pushHexBytes(text: string, start: number, end: number, bytes: number[]): void {
  for (let index = start; index < end; index += 2) {
    bytes.push((hexValue(text.charCodeAt(index)) << 4) | hexValue(text.charCodeAt(index + 1)));
  }
}

/** Decodes hex bytes in the message's character set; see the policy above. */
function decodesIn(bytes: number[], charset: string | undefined): boolean {
  return charset === undefined || decodeAs(charset, Uint8Array.from(bytes)) !== undefined;
}

function bytesToText(bytes: number[], charset: string | undefined): string {
  const array = Uint8Array.from(bytes);
  if (charset === undefined) {
    return decodeAs('utf-8', array) ?? decodeWindows1252(array);
  }
  const strict = decodeAs(charset, array);
  if (strict !== undefined) {
    return strict;
  }
  if (charset === 'utf-8') {
    return utf8Lenient.decode(array);
  }
  let decoder = lenientDecoders.get(charset);
  if (!decoder) {
    decoder = new TextDecoder(charset);
    lenientDecoders.set(charset, decoder);
  }
  return decoder.decode(array);
}

/**
 * Decodes the sequence `text[start, end)` (between the escape characters), other than `\X..\`;
 * `undefined` means it is not an escape sequence.
 */
function namedEscape(
  text: string,
  start: number,
  end: number,
  d: Hl7Delimiters,
): string | undefined {
  if (end === start + 1) {
    switch (text[start]) {
      case 'F':
        return d.field;
      case 'S':
        return d.component;
      case 'T':
        return d.subcomponent;
      case 'R':
        return d.repetition;
      case 'E':
        return d.escape;
      case 'P':
        return d.truncation ?? d.escape + 'P' + d.escape;
      case 'H':
      case 'N':
        return '';
    }
  }
  const content = text.slice(start, end);
  if (/^(?:C[0-9A-Fa-f]{4}|M[0-9A-Fa-f]{4}(?:[0-9A-Fa-f]{2})?|Z.*)$/.test(content)) {
    return d.escape + content + d.escape;
  }
  if (content === '.br') {
    return '\n';
  }
  const space = /^\.sp\s*\+?(\d*)$/.exec(content);
  if (space) {
    const lines = space[1] === '' ? 1 : Number.parseInt(space[1], 10);
    return '\n'.repeat(Math.min(Math.max(lines, 1), MAX_SPACE_LINES));
  }
  if (/^\.(?:(?:in|ti|sk)\s*[+-]?\d*|ce|fi|nf)$/.test(content)) {
    return '';
  }
  return undefined;
}

// Most values written back (pseudonyms, shifted dates) hold no delimiter; one pass over their
// character codes says so without building the tables `escapeHl7` replaces with. Delimiters
// are single characters; one that is not could never equal a single character there either.
function needsEscaping(value: string, delimiters: Hl7Delimiters): boolean {
  const escape = singleCode(delimiters.escape);
  const field = singleCode(delimiters.field);
  const component = singleCode(delimiters.component);
  const subcomponent = singleCode(delimiters.subcomponent);
  const repetition = singleCode(delimiters.repetition);
  const truncation = delimiters.truncation === undefined ? -1 : singleCode(delimiters.truncation);
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (
      code === escape ||
      code === field ||
      code === component ||
      code === subcomponent ||
      code === repetition ||
      code === truncation ||
      code === 0x0d ||
      code === 0x0a
    ) {
      return true;
    }
  }
  return false;
}

function singleCode(delimiter: string): number {
  return delimiter.length === 1 ? delimiter.charCodeAt(0) : -1;
}
