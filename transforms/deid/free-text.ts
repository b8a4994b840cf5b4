/*
 * Free-text scrubbing. Two sources of what to remove: what the record itself says about the
 * patient and relatives in its structured fields (names, ids, phones, addresses, dates), found
 * wherever they appear in the text; and patterns for identifiers no field announces (SSN, phone
 * and fax, e-mail, URL, IP address, dates, ZIP codes, account and record numbers). Each find is
 * replaced by its kind in brackets, such as `[NAME]`.
 */

/** What a scrubbed span was. */
export type IdentifierKind =
  | 'name'
  | 'id'
  | 'phone'
  | 'address'
  | 'zip'
  | 'date'
  | 'email'
  | 'url'
  | 'ip'
  | 'ssn';

/** Identifiers a record's structured fields carry, as read (unescaped). */
export interface KnownIdentifiers {
  names: string[];
  ids: string[];
  phones: string[];
  /** Street lines and towns. */
  addresses: string[];
  zips: string[];
  /** Full dates in ISO form, `YYYY-MM-DD`. */
  dates: string[];
  emails: string[];
}

/** One find in the original text. */
export interface ScrubSpan {
  start: number;
  end: number;
  kind: IdentifierKind;
}

/** A scrubber for the free text of one record (or document). */
export interface TextScrubber {
  /** Every find, in order, not overlapping. */
  find(text: string): ScrubSpan[];
  /** The text with every find replaced by `[KIND]`; the same string when nothing was found. */
  scrub(text: string): string;
}

/** What a preset removes from free text. */
export interface ScrubOptions {
  /** False keeps dates (limited data set). */
  dates: boolean;
}

/** An empty set of known identifiers. */
export function emptyKnownIdentifiers(): KnownIdentifiers {
  return { names: [], ids: [], phones: [], addresses: [], zips: [], dates: [], emails: [] };
}

const MONTH =
  '(?:January|February|March|April|May|June|July|August|September|October|November|December|' +
  'Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)';
const LABEL = String.raw`(?:\s+(?:number|num|no\.?|#))?`;
const ID_KEYWORDS =
  '(?:MRN|MR#|medical\\s+record' + LABEL + '|record' + LABEL + '|acct' + LABEL + '|account' + LABEL +
  '|policy' + LABEL + '|member\\s+id|subscriber\\s+id|claim' + LABEL + '|chart' + LABEL +
  '|patient\\s+id|visit' + LABEL + '|encounter' + LABEL + '|licen[cs]e' + LABEL +
  '|certificate' + LABEL + '|serial' + LABEL + '|device\\s+id|plate' + LABEL + '|VIN|ID)';

interface Pattern {
  kind: IdentifierKind;
  regex: RegExp;
  /** The capture group that is the identifier; 0 for the whole match. */
  group: number;
  /**
   * Upper-case strings of which a text must hold one for the pattern to match; the pattern is
   * not run on other texts. A substring search is far cheaper than a pattern tried at every
   * position (`\bSSN…` with `i` alone cost half of the pattern pass). Upper case, because
   * that is how a pattern with `i` and no `u` compares letters (`ſ` matches `S`).
   */
  hints?: readonly string[];
  /** Every match holds three digits in a row; texts without such a run skip the pattern. */
  needsDigitRun?: boolean;
}

const withDigitRun = (item: Pattern): Pattern => ({ ...item, needsDigitRun: true });
const DIGIT_RUN_OF_THREE = /\d{3}/;

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
const PATTERNS: readonly Pattern[] = [
  pattern('email', String.raw`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+`, 0, 'g', ['@']),
  pattern(
    'url',
    String.raw`\b(?:(?:https?|ftp):\/\/|www\.)[^\s<>"'|^~\\]*[^\s<>"'|^~\\.,;:!?)\]]`,
    0,
    'gi',
    ['://', 'WWW.'],
  ),
  pattern(
    'ip',
    String.raw`\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b|\b(?:[0-9A-Fa-f]{1,4}:){4,7}[0-9A-Fa-f]{1,4}\b`,
  ),
  withDigitRun(pattern('ssn', String.raw`\b\d{3}-\d{2}-\d{4}\b|\b\d{3} \d{2} \d{4}\b`)),
  withDigitRun(pattern('ssn', String.raw`\bSSN\s*:?\s*(\d{9})\b`, 1, 'gi', ['SSN'])),
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
      ['ZIP', 'POSTAL'],
    ),
  ),
  pattern('id', String.raw`\b${ID_KEYWORDS}\s*[:#]?\s*([A-Z0-9][A-Z0-9-]*\d[A-Z0-9-]*)`, 1, 'gi'),
  withDigitRun(pattern('id', String.raw`\b[A-Z]{2,5}[-#]?\d{5,}\b|\b\d{7,}\b`, 0, 'gi')),
];

const PATTERNS_WITHOUT_DATES: readonly Pattern[] = PATTERNS.filter((p) => p.kind !== 'date');

// Patterns all need a digit, an `@` or a `www`; text without them skips the pattern pass.
const PATTERN_HINT = /[0-9@]|www\./i;
// Runs of digits and the separators phones are written with; compared with known phones.
const DIGIT_RUN = /\(?\d[\d\s().-]{5,16}\d/g;
const WORD_CHAR = /[\p{L}\p{N}]/u;

/**
 * Builds a scrubber for one record's free text. Nothing is compiled per record: the record's
 * own identifiers are looked up as strings, so a scrubber costs a few sets to build.
 *
 * @param known - identifiers from the record's structured fields
 * @param options - what the preset removes
 */
export function createTextScrubber(known: KnownIdentifiers, options: ScrubOptions): TextScrubber {
  // Most records (an Observation on its own NDJSON line) know nothing of the patient; they share
  // a scrubber of patterns alone.
  if (isEmpty(known)) {
    return options.dates ? PATTERN_SCRUBBER : PATTERN_SCRUBBER_WITHOUT_DATES;
  }
  // Every resource of a FHIR document shares the document's identifiers (one object): its
  // scrubber is built once, not once per resource, which made a Bundle of many patients cost
  // its size squared.
  const built = options.dates ? BUILT : BUILT_WITHOUT_DATES;
  let scrubber = built.get(known);
  if (scrubber === undefined) {
    scrubber = new RecordScrubber(known, options);
    built.set(known, scrubber);
  }
  return scrubber;
}

const BUILT = new WeakMap<KnownIdentifiers, TextScrubber>();
const BUILT_WITHOUT_DATES = new WeakMap<KnownIdentifiers, TextScrubber>();

// A class rather than an object of closures: one is made per record that has free text.
class RecordScrubber implements TextScrubber {
  private readonly values: KnownValue[];
  private readonly phones: Set<string>;
  private readonly patterns: readonly Pattern[];

  constructor(known: KnownIdentifiers, options: ScrubOptions) {
    this.values = knownValues(known);
    this.phones = new Set();
    for (const phone of known.phones) {
      addPhoneDigitForms(phone, this.phones);
    }
    this.patterns = options.dates ? PATTERNS : PATTERNS_WITHOUT_DATES;
  }

  find(text: string): ScrubSpan[] {
    const spans: ScrubSpan[] = [];
    if (this.values.length > 0) {
      findKnownValues(text, this.values, spans);
    }
    if (PATTERN_HINT.test(text)) {
      const upper = text.toUpperCase();
      let digitRun: boolean | undefined;
      for (const item of this.patterns) {
        if (item.needsDigitRun) {
          digitRun ??= DIGIT_RUN_OF_THREE.test(text);
          if (!digitRun) {
            continue;
          }
        }
        if (item.hints === undefined || item.hints.some((hint) => upper.includes(hint))) {
          collect(item, text, spans);
        }
      }
      if (this.phones.size > 0) {
        findKnownPhones(text, this.phones, spans);
      }
    }
    return resolveOverlaps(spans);
  }

  scrub(text: string): string {
    const spans = this.find(text);
    if (spans.length === 0) {
      return text;
    }
    let out = '';
    let at = 0;
    for (const span of spans) {
      out += text.slice(at, span.start) + `[${span.kind.toUpperCase()}]`;
      at = span.end;
    }
    return out + text.slice(at);
  }
}

const PATTERN_SCRUBBER = new RecordScrubber(emptyKnownIdentifiers(), { dates: true });
const PATTERN_SCRUBBER_WITHOUT_DATES = new RecordScrubber(emptyKnownIdentifiers(), {
  dates: false,
});

function isEmpty(known: KnownIdentifiers): boolean {
  return (
    known.names.length === 0 &&
    known.ids.length === 0 &&
    known.phones.length === 0 &&
    known.addresses.length === 0 &&
    known.zips.length === 0 &&
    known.dates.length === 0 &&
    known.emails.length === 0
  );
}

function collect(item: Pattern, text: string, spans: ScrubSpan[]): void {
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

interface KnownValue {
  /** Lower case. */
  value: string;
  kind: IdentifierKind;
}

// One per record: plain arrays and one set, sorted once.
function knownValues(known: KnownIdentifiers): KnownValue[] {
  const values: KnownValue[] = [];
  const seen = new Set<string>();
  addKnown(values, seen, 'name', nameTokens(known.names), 2);
  addKnown(values, seen, 'email', known.emails, 3);
  addKnown(values, seen, 'id', known.ids, 3);
  addKnown(values, seen, 'address', known.addresses, 3);
  for (const zip of known.zips) {
    const five = zip.slice(0, 5);
    if (/^\d{5}$/.test(five)) {
      addKnown(values, seen, 'zip', [five], 5);
    }
  }
  // Longest first, so a street line wins over a name inside it (the sort is stable: equal
  // lengths keep the order they were found in).
  return values.sort((a, b) => b.value.length - a.value.length);
}

function addKnown(
  values: KnownValue[],
  seen: Set<string>,
  kind: IdentifierKind,
  list: string[],
  minLength: number,
): void {
  for (const item of list) {
    const value = item.trim().toLowerCase();
    if (hasCodePoints(value, minLength) && !seen.has(value)) {
      seen.add(value);
      values.push({ value, kind });
    }
  }
}

// Whether a string holds at least `count` code points. A code point takes one or two UTF-16
// units, so most strings are decided by their length alone.
function hasCodePoints(text: string, count: number): boolean {
  if (text.length >= 2 * count) {
    return true;
  }
  if (text.length < count) {
    return false;
  }
  return [...text].length >= count;
}

// Every occurrence that is not part of a longer word, compared without case.
function findKnownValues(text: string, values: KnownValue[], spans: ScrubSpan[]): void {
  const lower = text.toLowerCase();
  // Lower-casing changes the length of a few characters (İ); then only exact case is compared.
  const haystack = lower.length === text.length ? lower : text;
  for (const { value, kind } of values) {
    for (let at = haystack.indexOf(value); at !== -1; at = haystack.indexOf(value, at + 1)) {
      const end = at + value.length;
      if (!WORD_CHAR.test(text[at - 1] ?? '') || !WORD_CHAR.test(value[0])) {
        if (!WORD_CHAR.test(text[end] ?? '') || !WORD_CHAR.test(value[value.length - 1])) {
          spans.push({ start: at, end, kind });
        }
      }
    }
  }
}

function findKnownPhones(text: string, phones: Set<string>, spans: ScrubSpan[]): void {
  DIGIT_RUN.lastIndex = 0;
  for (let match = DIGIT_RUN.exec(text); match !== null; match = DIGIT_RUN.exec(text)) {
    const digits = match[0].replace(/\D/g, '');
    if (phones.has(digits) || phones.has(digits.replace(/^1(?=\d{10}$)/, ''))) {
      spans.push({ start: match.index, end: match.index + match[0].length, kind: 'phone' });
    }
  }
}

// Resolve overlaps: earliest first, then longest; a span inside or across an accepted one goes.
function resolveOverlaps(spans: ScrubSpan[]): ScrubSpan[] {
  if (spans.length < 2) {
    return spans;
  }
  const ordered = spans
    .map((span, order) => ({ span, order }))
    .sort((a, b) => a.span.start - b.span.start || b.span.end - a.span.end || a.order - b.order);
  const kept: ScrubSpan[] = [];
  let end = -1;
  for (const { span } of ordered) {
    if (span.start >= end) {
      kept.push(span);
      end = span.end;
    }
  }
  return kept;
}

/** Name parts of two or more letters; initials would match every lone letter in the text. */
function nameTokens(names: string[]): string[] {
  const tokens: string[] = [];
  for (const name of names) {
    for (const token of name.split(/[\s,^&]+/u)) {
      // A token that starts and ends with an ASCII letter has nothing to trim.
      const trimmed =
        isAsciiLetter(token.charCodeAt(0)) && isAsciiLetter(token.charCodeAt(token.length - 1))
          ? token
          : token.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
      if (hasCodePoints(trimmed, 2)) {
        tokens.push(trimmed);
      }
    }
  }
  return tokens;
}

function isAsciiLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

// A known phone matches written whole or as its local seven digits.
function addPhoneDigitForms(phone: string, forms: Set<string>): void {
  const digits = phone.replace(/\D/g, '').replace(/^1(?=\d{10}$)/, '');
  if (digits.length === 10) {
    forms.add(digits);
    forms.add(digits.slice(3));
  } else if (digits.length >= 7) {
    forms.add(digits);
  }
}
