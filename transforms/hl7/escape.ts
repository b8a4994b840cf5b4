import type { Hl7Delimiters } from './delimiters.js';

/*
 * Escape sequences, HL7 v2.5.1 section 2.7:
 * https://www.hl7.eu/HL7v2x/v251/std251/ch02.html#Heading40
 *
 * Policy when a value is read:
 * - `\F\ \S\ \T\ \R\ \E\` give the delimiter; `\P\` gives the truncation character (v2.7+) and
 *   is kept as written when the message declares none.
 * - `\Xhh..\` is hex data read as UTF-8 bytes; adjacent `\X..\` sequences join first, so a
 *   character split over two sequences still decodes. A bad hex run is a bad escape.
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

const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');

/**
 * Replaces escape sequences in a value with the characters they stand for. Never fails: a bad
 * hex run is kept as written and bytes that are not UTF-8 become U+FFFD. `parseHl7` rejects
 * messages with bad escapes up front, so values read from a parsed message never hit either case.
 *
 * @param text - one value as written in the message
 * @param delimiters - the delimiters of the message the value came from
 */
export function unescapeHl7(text: string, delimiters: Hl7Delimiters): string {
  return decodeEscapes(text, delimiters, false) ?? text;
}

/**
 * Writes a value so that it reads back unchanged: delimiters become `\F\ \S\ \T\ \R\ \E\`
 * (and `\P\`), CR and LF become `\X0D\` and `\X0A\` so they cannot end the segment.
 *
 * @param value - the value to write
 * @param delimiters - the delimiters of the message the value goes into
 */
export function escapeHl7(value: string, delimiters: Hl7Delimiters): string {
  const escapeChar = delimiters.escape;
  const codes = new Map<string, string>([
    [escapeChar, 'E'],
    [delimiters.field, 'F'],
    [delimiters.component, 'S'],
    [delimiters.subcomponent, 'T'],
    [delimiters.repetition, 'R'],
    ['\r', 'X0D'],
    ['\n', 'X0A'],
  ]);
  if (delimiters.truncation !== undefined) {
    codes.set(delimiters.truncation, 'P');
  }

  let out = '';
  for (const char of value) {
    const code = codes.get(char);
    out += code === undefined ? char : escapeChar + code + escapeChar;
  }
  return out;
}

/**
 * Tells whether every escape sequence in some message text is well formed, in the strict sense
 * `parseHl7` enforces: hex runs of even length that decode as UTF-8.
 *
 * @param text - raw text: a value, a field or a whole segment
 * @param delimiters - the delimiters of the message
 */
export function hasValidEscapes(text: string, delimiters: Hl7Delimiters): boolean {
  return decodeEscapes(text, delimiters, true) !== undefined;
}

/**
 * Decodes escapes; `undefined` means a bad escape in strict mode. Text that holds delimiters
 * can be passed whole, because a sequence never spans a delimiter.
 */
function decodeEscapes(text: string, d: Hl7Delimiters, strict: boolean): string | undefined {
  const escapeChar = d.escape;
  if (!text.includes(escapeChar)) {
    return text;
  }

  const delimiterChars = [d.field, d.component, d.repetition, d.subcomponent];
  if (d.truncation !== undefined) {
    delimiterChars.push(d.truncation);
  }
  let out = '';
  let pendingBytes: number[] = [];
  let failed = false;
  const flush = (): void => {
    if (pendingBytes.length === 0) {
      return;
    }
    const bytes = Uint8Array.from(pendingBytes);
    pendingBytes = [];
    try {
      out += utf8Strict.decode(bytes);
    } catch {
      failed ||= strict;
      out += utf8Lenient.decode(bytes);
    }
  };

  let index = 0;
  while (index < text.length && !failed) {
    const start = text.indexOf(escapeChar, index);
    if (start === -1) {
      flush();
      out += text.slice(index);
      break;
    }
    if (start > index) {
      flush();
      out += text.slice(index, start);
    }

    const end = text.indexOf(escapeChar, start + 1);
    const content = end === -1 ? '' : text.slice(start + 1, end);
    if (end === -1 || content === '' || delimiterChars.some((c) => content.includes(c))) {
      flush();
      out += escapeChar;
      index = start + 1;
      continue;
    }

    if (/^X[0-9A-Fa-f]*$/.test(content)) {
      const hex = content.slice(1);
      if (hex.length === 0 || hex.length % 2 !== 0) {
        failed ||= strict;
        flush();
        out += text.slice(start, end + 1);
      } else {
        for (let offset = 0; offset < hex.length; offset += 2) {
          pendingBytes.push(Number.parseInt(hex.slice(offset, offset + 2), 16));
        }
      }
      index = end + 1;
      continue;
    }

    flush();
    const decoded = decodeNamedEscape(content, d);
    if (decoded === undefined) {
      out += escapeChar;
      index = start + 1;
      continue;
    }
    out += decoded;
    index = end + 1;
  }
  flush();
  return failed ? undefined : out;
}

/** Decodes one escape other than `\X..\`; `undefined` means it is not an escape sequence. */
function decodeNamedEscape(content: string, d: Hl7Delimiters): string | undefined {
  switch (content) {
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
      return d.truncation ?? d.escape + content + d.escape;
    case 'H':
    case 'N':
      return '';
  }

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
