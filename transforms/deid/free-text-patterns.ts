import type { IdentifierKind, ScrubSpan } from './free-text.js';

/*
 * The patterns of the free-text scrubber: identifiers no structured field announces, found by
 * their form, and the cheap checks that spare a text the patterns it cannot match.
 */

/** A pattern for one kind of identifier, with the checks that skip texts it cannot match. */
export interface Pattern {
  kind: IdentifierKind;
  regex: RegExp;
  /** The capture group that is the identifier; 0 for the whole match. */
  group: number;
  /**
   * Lower-case strings of which a text must hold one for the pattern to match; the pattern is
   * not run on other texts. A substring search is far cheaper than a pattern tried at every
   * position (`\bSSN…` with `i` alone cost half of the pattern pass). They are looked for in
   * the lower-cased text: a pattern with `i` and no `u` matches an ASCII letter only by
   * itself or its other case, and both lower-case to it.
   */
  hints?: readonly string[];
  /** Every match holds three digits in a row; texts without such a run skip the pattern. */
  needsDigitRun?: boolean;
  /**
   * False when the text cannot hold a match: a scan for what every match must contain, far
   * cheaper than the pattern tried at every position.
   */
  possible?: (text: string) => boolean;
}

const MONTH =
  '(?:January|February|March|April|May|June|July|August|September|October|November|December|' +
  'Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)';
const LABEL = String.raw`(?:\s+(?:number|num|no\.?|#))?`;
const ID_KEYWORDS =
  '(?:MRN|MR#|medical\\s+record' +
  LABEL +
  '|record' +
  LABEL +
  '|acct' +
  LABEL +
  '|account' +
  LABEL +
  '|policy' +
  LABEL +
  '|member\\s+id|subscriber\\s+id|claim' +
  LABEL +
  '|chart' +
  LABEL +
  '|patient\\s+id|visit' +
  LABEL +
  '|encounter' +
  LABEL +
  '|licen[cs]e' +
  LABEL +
  '|certificate' +
  LABEL +
  '|serial' +
  LABEL +
  '|device\\s+id|plate' +
  LABEL +
  '|VIN|ID)';

const withDigitRun = (item: Pattern): Pattern => ({ ...item, needsDigitRun: true });
const withCheck = (item: Pattern, possible: Pattern['possible']): Pattern => ({
  ...item,
  possible,
});
export const DIGIT_RUN_OF_THREE = /\d{3}/;

const pattern = (
  kind: IdentifierKind,
  source: string,
  group = 0,
  flags = 'g',
  hints?: readonly string[],
): Pattern => ({
  kind,
  regex: new RegExp(source, `${flags}d`),
  group,
  hints,
});

// Compiled once per worker. Labelled forms (`SSN: …`, `MRN …`, `TS 00000`) capture the value
// after the label, so the label stays; no lookbehind, which is slow in a pattern tried at every
// position. The first listed kind wins for equal spans.
export const PATTERNS: readonly Pattern[] = [
  pattern('email', String.raw`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+`, 0, 'g', ['@']),
  pattern(
    'url',
    String.raw`\b(?:(?:https?|ftp):\/\/|www\.)[^\s<>"'|^~\\]*[^\s<>"'|^~\\.,;:!?)\]]`,
    0,
    'gi',
    ['://', 'www.'],
  ),
  withCheck(
    pattern(
      'ip',
      String.raw`\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b|\b(?:[0-9A-Fa-f]{1,4}:){4,7}[0-9A-Fa-f]{1,4}\b`,
    ),
    mayHoldIpAddress,
  ),
  withDigitRun(pattern('ssn', String.raw`\b\d{3}-\d{2}-\d{4}\b|\b\d{3} \d{2} \d{4}\b`)),
  withDigitRun(pattern('ssn', String.raw`\bSSN\s*:?\s*(\d{9})\b`, 1, 'gi', ['ssn'])),
  withDigitRun(
    pattern(
      'phone',
      String.raw`(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b|\b\d{3}[.-]\d{4}\b(?!-)`,
    ),
  ),
  pattern(
    'date',
    [
      String.raw`\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?`,
      String.raw`\b\d{1,2}[/-]\d{1,2}[/-](?:\d{4}|\d{2})\b`,
      String.raw`\b\d{1,2}\.\d{1,2}\.\d{4}\b`,
      String.raw`\b(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:\d{4}(?:\d{2})?)?\b`,
      String.raw`\b${MONTH}\.?\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?\b`,
      String.raw`\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?${MONTH}\.?,?(?:\s+\d{4})?\b`,
      String.raw`\b${MONTH}\.?,?\s+\d{4}\b`,
    ].join('|'),
    0,
    'gi',
  ),
  withDigitRun(pattern('zip', String.raw`\b[A-Z]{2},?\s{1,3}(\d{5}(?:-\d{4})?)\b`, 1)),
  withDigitRun(pattern('zip', String.raw`\b\d{5}-\d{4}\b`)),
  withDigitRun(
    pattern(
      'zip',
      String.raw`\b(?:zip|zip\s+code|postal\s+code)\s*:?\s*(\d{5}(?:-\d{4})?)\b`,
      1,
      'gi',
      ['zip', 'postal'],
    ),
  ),
  pattern('id', String.raw`\b${ID_KEYWORDS}\s*[:#]?\s*([A-Z0-9][A-Z0-9-]*\d[A-Z0-9-]*)`, 1, 'gi'),
  withDigitRun(pattern('id', String.raw`\b[A-Z]{2,5}[-#]?\d{5,}\b|\b\d{7,}\b`, 0, 'gi')),
];

export const PATTERNS_WITHOUT_DATES: readonly Pattern[] = PATTERNS.filter((p) => p.kind !== 'date');

// Patterns all need a digit, an `@` or a `www`; text without them skips the pattern pass.
export const PATTERN_HINT = /[0-9@]|www\./i;

export function includesAny(text: string, parts: readonly string[]): boolean {
  for (const part of parts) {
    if (text.includes(part)) {
      return true;
    }
  }
  return false;
}

export function collect(item: Pattern, text: string, spans: ScrubSpan[]): void {
  item.regex.lastIndex = 0;
  for (let match = item.regex.exec(text); match !== null; match = item.regex.exec(text)) {
    const range = match.indices?.[item.group];
    if (range !== undefined && range[1] > range[0]) {
      spans.push({ start: range[0], end: range[1], kind: item.kind });
    }
    if (match[0].length === 0) {
      item.regex.lastIndex++;
    }
  }
}

// What every IPv4 match holds (a digit, a dot, a digit) or every IPv6 one (a hex digit, a
// colon, a hex digit). Sentences end in dots and times hold colons, so both neighbours are read.
function mayHoldIpAddress(text: string): boolean {
  return hasBetween(text, '.', isDigitCode) || hasBetween(text, ':', isHexCode);
}

// Whether `mark` occurs with a character on each side that passes the test.
function hasBetween(text: string, mark: string, test: (code: number) => boolean): boolean {
  for (let at = text.indexOf(mark, 1); at !== -1; at = text.indexOf(mark, at + 1)) {
    if (test(text.charCodeAt(at - 1)) && test(text.charCodeAt(at + 1))) {
      return true;
    }
  }
  return false;
}

function isDigitCode(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isHexCode(code: number): boolean {
  return isDigitCode(code) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}
