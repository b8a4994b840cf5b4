/*
 * JSON files an operator writes (feeds.json, rules files): a leading byte order mark is dropped,
 * as editors on Windows add one, and a syntax error is placed by line and column. V8's
 * `JSON.parse` messages quote the input and name a position for some errors only, so the place
 * is found by scanning the text again, and no parser message is ever passed on.
 */

/** The outcome of reading JSON text: the value, or where the text stops being JSON. */
export type JsonTextResult =
  | { ok: true; value: unknown }
  | {
      ok: false;
      /** `line 3, column 7`, or `line 4, column 1: ends early` when the text stops too soon. */
      place: string;
    };

/** Where a text stops being JSON: a 1-based line and column (UTF-16 units). */
export interface JsonSyntaxPlace {
  line: number;
  column: number;
  /** The text ended where more was expected. */
  endsEarly: boolean;
}

const BYTE_ORDER_MARK = '\uFEFF';

/**
 * Parses JSON text after dropping a leading byte order mark.
 *
 * @param text - the file's text
 */
export function parseJsonText(text: string): JsonTextResult {
  const body = stripByteOrderMark(text);
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    const place = findJsonSyntaxError(body);
    if (!place) {
      // JSON.parse and the scan disagree; say so rather than name a wrong place.
      return { ok: false, place: 'place unknown' };
    }
    const where = `line ${place.line}, column ${place.column}`;
    return { ok: false, place: place.endsEarly ? `${where}: ends early` : where };
  }
}

/**
 * Returns the text without a leading byte order mark.
 *
 * @param text - a file's text
 */
export function stripByteOrderMark(text: string): string {
  return text.startsWith(BYTE_ORDER_MARK) ? text.slice(1) : text;
}

/**
 * Finds the first place where a text stops being JSON (RFC 8259), or undefined when it is JSON.
 * Iterative, so nesting as deep as `JSON.parse` takes cannot overflow the stack.
 *
 * @param text - the text, without a byte order mark
 */
export function findJsonSyntaxError(text: string): JsonSyntaxPlace | undefined {
  const offset = jsonSyntaxErrorOffset(text);
  if (offset === undefined) {
    return undefined;
  }
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return {
    line: before.split('\n').length,
    column: offset - lineStart + 1,
    endsEarly: offset >= text.length,
  };
}

type Expect = 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'comma-or-close';

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX_DIGIT = /[0-9a-fA-F]/;
const ESCAPED = '"\\/bfnrt';

function jsonSyntaxErrorOffset(text: string): number | undefined {
  const open: Array<'{' | '['> = [];
  let expect: Expect = 'value';
  let index = skipSpace(text, 0);
  while (index < text.length) {
    const char = text[index];
    if (expect === 'colon') {
      if (char !== ':') {
        return index;
      }
      expect = 'value';
      index = skipSpace(text, index + 1);
      continue;
    }
    if (expect === 'comma-or-close') {
      const top = open[open.length - 1];
      if (char === ',') {
        expect = top === '{' ? 'key' : 'value';
      } else if ((char === '}' && top === '{') || (char === ']' && top === '[')) {
        open.pop();
        expect = 'comma-or-close';
        if (open.length === 0) {
          return trailingOffset(text, index + 1);
        }
      } else {
        return index;
      }
      index = skipSpace(text, index + 1);
      continue;
    }
    if (expect === 'key' || expect === 'key-or-close') {
      if (char === '}' && expect === 'key-or-close') {
        open.pop();
        if (open.length === 0) {
          return trailingOffset(text, index + 1);
        }
        expect = 'comma-or-close';
        index = skipSpace(text, index + 1);
        continue;
      }
      if (char !== '"') {
        return index;
      }
      const end = scanString(text, index);
      if (end.error !== undefined) {
        return end.error;
      }
      expect = 'colon';
      index = skipSpace(text, end.next);
      continue;
    }

    // A value is expected.
    if (char === ']' && expect === 'value-or-close') {
      open.pop();
      if (open.length === 0) {
        return trailingOffset(text, index + 1);
      }
      expect = 'comma-or-close';
      index = skipSpace(text, index + 1);
      continue;
    }
    if (char === '{' || char === '[') {
      open.push(char);
      expect = char === '{' ? 'key-or-close' : 'value-or-close';
      index = skipSpace(text, index + 1);
      continue;
    }
    const end = scanScalar(text, index);
    if (end.error !== undefined) {
      return end.error;
    }
    if (open.length === 0) {
      return trailingOffset(text, end.next);
    }
    expect = 'comma-or-close';
    index = skipSpace(text, end.next);
  }
  return text.length;
}

/** After the top-level value: only white space may follow. */
function trailingOffset(text: string, index: number): number | undefined {
  const next = skipSpace(text, index);
  return next < text.length ? next : undefined;
}

type Scan = { next: number; error?: undefined } | { next?: undefined; error: number };

function scanScalar(text: string, index: number): Scan {
  const char = text[index];
  if (char === '"') {
    return scanString(text, index);
  }
  for (const literal of ['true', 'false', 'null']) {
    if (char === literal[0]) {
      for (let offset = 1; offset < literal.length; offset++) {
        if (text[index + offset] !== literal[offset]) {
          return { error: index + offset };
        }
      }
      return { next: index + literal.length };
    }
  }
  NUMBER.lastIndex = index;
  const number = NUMBER.exec(text);
  if (!number) {
    // A lone minus sign: the place is what follows it.
    return { error: char === '-' ? index + 1 : index };
  }
  // `1.` matches as `1`: the `.` is then the place, as what follows a value.
  return { next: index + number[0].length };
}

function scanString(text: string, index: number): Scan {
  let at = index + 1;
  while (at < text.length) {
    const code = text.charCodeAt(at);
    if (code === 0x22) {
      return { next: at + 1 };
    }
    if (code < 0x20) {
      return { error: at };
    }
    if (code !== 0x5c) {
      at++;
      continue;
    }
    const escaped = text[at + 1];
    if (escaped === 'u') {
      for (let digit = 2; digit < 6; digit++) {
        if (!HEX_DIGIT.test(text[at + digit] ?? '')) {
          return { error: at + digit };
        }
      }
      at += 6;
    } else if (escaped !== undefined && ESCAPED.includes(escaped)) {
      at += 2;
    } else {
      return { error: at + 1 };
    }
  }
  return { error: text.length };
}

function skipSpace(text: string, index: number): number {
  let at = index;
  while (at < text.length) {
    const char = text[at];
    if (char !== ' ' && char !== '\t' && char !== '\n' && char !== '\r') {
      break;
    }
    at++;
  }
  return at;
}
