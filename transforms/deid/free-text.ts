/*
 * Free-text scrubbing. Two sources of what to remove: what the record itself says about the
 * patient and relatives in its structured fields (names, ids, phones, addresses, dates), found
 * wherever they appear in the text; and patterns for identifiers no field announces (SSN, phone
 * and fax, e-mail, URL, IP address, dates, ZIP codes, account and record numbers). Each find is
 * replaced by its kind in brackets, such as `[NAME]`.
 */

/** What a scrubbed span was. */
export type IdentifierKind =
  'name' | 'id' | 'phone' | 'address' | 'zip' | 'date' | 'email' | 'url' | 'ip' | 'ssn';

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

/**
 * Known identifiers collected from their record only when first read: most records never are
 * (their scrubber is built another way, or they have no free text). Subclasses say how to
 * collect; a class with getters rather than closures, since one is made per record. The lists
 * are getters: spreading the object gives `{}` (read the lists, or `toJSON`), so it is made and
 * used on one thread and never copied.
 */
export abstract class KnownOnRead implements KnownIdentifiers {
  private collected: KnownIdentifiers | undefined;

  /** Reads the record's identifiers; called once, on first use. */
  protected abstract collect(): KnownIdentifiers;

  get names(): string[] {
    return this.all().names;
  }

  get ids(): string[] {
    return this.all().ids;
  }

  get phones(): string[] {
    return this.all().phones;
  }

  get addresses(): string[] {
    return this.all().addresses;
  }

  get zips(): string[] {
    return this.all().zips;
  }

  get dates(): string[] {
    return this.all().dates;
  }

  get emails(): string[] {
    return this.all().emails;
  }

  /** The lists as plain data, so that serialising the object does not give `{}`. */
  toJSON(): KnownIdentifiers {
    return this.all();
  }

  private all(): KnownIdentifiers {
    this.collected ??= this.collect();
    return this.collected;
  }
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

interface Pattern {
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

const withDigitRun = (item: Pattern): Pattern => ({ ...item, needsDigitRun: true });
const withCheck = (item: Pattern, possible: Pattern['possible']): Pattern => ({
  ...item,
  possible,
});
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

const PATTERNS_WITHOUT_DATES: readonly Pattern[] = PATTERNS.filter((p) => p.kind !== 'date');

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

// Patterns all need a digit, an `@` or a `www`; text without them skips the pattern pass.
const PATTERN_HINT = /[0-9@]|www\./i;
// Runs of digits and the separators phones are written with; compared with known phones.
const DIGIT_RUN = /\(?\d[\d\s().-]{5,16}\d/g;
const WORD_CHAR = /[\p{L}\p{N}]/u;

/**
 * Known identifiers that build their record's scrubber themselves, straight from the record
 * (an HL7 v2 message), without filling the `KnownIdentifiers` lists first.
 */
export interface ScrubberSource {
  /**
   * Builds the scrubber, as `createTextScrubber` would from the lists.
   *
   * @param options - what the preset removes
   */
  createScrubber(options: ScrubOptions): TextScrubber;
}

/**
 * Builds a scrubber for one record's free text. Nothing is compiled per record: the record's
 * own identifiers are looked up as strings, so a scrubber costs a few arrays to build.
 *
 * @param known - identifiers from the record's structured fields
 * @param options - what the preset removes
 */
export function createTextScrubber(
  known: KnownIdentifiers | (KnownIdentifiers & ScrubberSource),
  options: ScrubOptions,
): TextScrubber {
  if ('createScrubber' in known) {
    return known.createScrubber(options);
  }
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
    const values = new KnownValues();
    for (const name of known.names) {
      values.addName(name);
    }
    for (const email of known.emails) {
      values.addEmail(email);
    }
    for (const id of known.ids) {
      values.addId(id);
    }
    for (const address of known.addresses) {
      values.addAddress(address);
    }
    for (const zip of known.zips) {
      values.addZip(zip);
    }
    for (const phone of known.phones) {
      values.addPhone(phone);
    }
    scrubber = values.scrubber(options);
    built.set(known, scrubber);
  }
  return scrubber;
}

const BUILT = new WeakMap<KnownIdentifiers, TextScrubber>();
const BUILT_WITHOUT_DATES = new WeakMap<KnownIdentifiers, TextScrubber>();

/**
 * A record's own identifiers as the scrubber looks them up: lower case, name parts split,
 * values too short to mean anything left out, each kept once per kind. Fed one value at a time
 * (by `createTextScrubber`, or by a `ScrubberSource` reading its record straight into it), then
 * turned into the record's scrubber; add nothing after that.
 */
export class KnownValues {
  // One list per kind, searched in this order: when two kinds hold the same value, the first
  // kind's find comes first and wins the tie (`resolveOverlaps`), as when a value was kept only
  // under its first kind. The lists need no sorting either: overlaps are resolved by position.
  readonly names: string[] = [];
  readonly emails: string[] = [];
  readonly ids: string[] = [];
  readonly addresses: string[] = [];
  readonly zips: string[] = [];
  /** As written; their digit forms are made only when a text holds a run of digits. */
  readonly phones: string[] = [];

  /**
   * Adds a name's parts of two or more letters; initials would match every lone letter.
   *
   * @param name - a name or a name part, as read
   */
  addName(name: string): void {
    // Most names are one part of ASCII letters: nothing to split or trim.
    if (name.length >= 2 && isAsciiLetters(name)) {
      addOnce(this.names, name.toLowerCase());
      return;
    }
    for (const token of name.split(/[\s,^&]+/u)) {
      // A token that starts and ends with an ASCII letter has nothing to trim.
      const trimmed =
        isAsciiLetter(token.charCodeAt(0)) && isAsciiLetter(token.charCodeAt(token.length - 1))
          ? token
          : token.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
      if (hasCodePoints(trimmed, 2)) {
        addValue(this.names, trimmed, 2);
      }
    }
  }

  /**
   * Adds an e-mail address of three or more characters.
   *
   * @param email - an e-mail address, as read
   */
  addEmail(email: string): void {
    addValue(this.emails, email, 3);
  }

  /**
   * Adds an identifier of three or more characters.
   *
   * @param id - an identifier, as read
   */
  addId(id: string): void {
    addValue(this.ids, id, 3);
  }

  /**
   * Adds a street line or town of three or more characters.
   *
   * @param address - a street line or town, as read
   */
  addAddress(address: string): void {
    addValue(this.addresses, address, 3);
  }

  /**
   * Adds a postal code's first five characters when they are five digits.
   *
   * @param zip - a postal code, as read
   */
  addZip(zip: string): void {
    if (zip.length >= 5 && isFiveDigits(zip)) {
      addOnce(this.zips, zip.length === 5 ? zip : zip.slice(0, 5));
    }
  }

  /**
   * Adds a phone number, found in text written whole or as its local seven digits.
   *
   * @param phone - a phone number, as read
   */
  addPhone(phone: string): void {
    this.phones.push(phone);
  }

  /**
   * The scrubber for these values; the shared one of patterns alone when there are none.
   *
   * @param options - what the preset removes
   */
  scrubber(options: ScrubOptions): TextScrubber {
    if (
      this.names.length === 0 &&
      this.emails.length === 0 &&
      this.ids.length === 0 &&
      this.addresses.length === 0 &&
      this.zips.length === 0 &&
      this.phones.length === 0
    ) {
      return options.dates ? PATTERN_SCRUBBER : PATTERN_SCRUBBER_WITHOUT_DATES;
    }
    return new RecordScrubber(this, options);
  }
}

function addValue(list: string[], item: string, minLength: number): void {
  const value = item.trim().toLowerCase();
  if (hasCodePoints(value, minLength)) {
    addOnce(list, value);
  }
}

// A value a message repeats (its patient as guarantor and insured, one address for patient and
// kin) is searched for once. The lists are short, so a scan beats a set.
function addOnce(list: string[], value: string): void {
  if (!list.includes(value)) {
    list.push(value);
  }
}

// A class rather than an object of closures: one is made per record that has free text.
class RecordScrubber implements TextScrubber {
  private readonly known: KnownValues;
  /** Digit forms of the known phones, made on first use. */
  private phoneForms: Set<string> | undefined;
  private readonly patterns: readonly Pattern[];
  /** Whether any value (other than phones) is known. */
  private readonly hasValues: boolean;

  constructor(known: KnownValues, options: ScrubOptions) {
    this.known = known;
    this.hasValues =
      known.names.length > 0 ||
      known.emails.length > 0 ||
      known.ids.length > 0 ||
      known.addresses.length > 0 ||
      known.zips.length > 0;
    this.patterns = options.dates ? PATTERNS : PATTERNS_WITHOUT_DATES;
  }

  find(text: string): ScrubSpan[] {
    const spans: ScrubSpan[] = [];
    const known = this.known;
    let lower: string | undefined;
    if (this.hasValues) {
      lower = text.toLowerCase();
      // Lower-casing changes the length of a few characters (İ); then only exact case is
      // compared.
      const haystack = lower.length === text.length ? lower : text;
      findKnownValues(text, haystack, known.names, 'name', spans);
      findKnownValues(text, haystack, known.emails, 'email', spans);
      findKnownValues(text, haystack, known.ids, 'id', spans);
      findKnownValues(text, haystack, known.addresses, 'address', spans);
      findKnownValues(text, haystack, known.zips, 'zip', spans);
    }
    if (PATTERN_HINT.test(text)) {
      let digitRun: boolean | undefined;
      for (const item of this.patterns) {
        if (item.needsDigitRun) {
          digitRun ??= DIGIT_RUN_OF_THREE.test(text);
          if (!digitRun) {
            continue;
          }
        }
        if (item.possible !== undefined && !item.possible(text)) {
          continue;
        }
        if (item.hints !== undefined) {
          lower ??= text.toLowerCase();
          if (!includesAny(lower, item.hints)) {
            continue;
          }
        }
        collect(item, text, spans);
      }
      if (known.phones.length > 0) {
        this.findKnownPhones(text, spans);
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

  private findKnownPhones(text: string, spans: ScrubSpan[]): void {
    DIGIT_RUN.lastIndex = 0;
    for (let match = DIGIT_RUN.exec(text); match !== null; match = DIGIT_RUN.exec(text)) {
      if (this.phoneForms === undefined) {
        this.phoneForms = new Set();
        for (const phone of this.known.phones) {
          addPhoneDigitForms(phone, this.phoneForms);
        }
      }
      const digits = match[0].replace(/\D/g, '');
      if (this.phoneForms.has(digits) || this.phoneForms.has(digits.replace(/^1(?=\d{10}$)/, ''))) {
        spans.push({ start: match.index, end: match.index + match[0].length, kind: 'phone' });
      }
    }
  }
}

const PATTERN_SCRUBBER = new RecordScrubber(new KnownValues(), { dates: true });
const PATTERN_SCRUBBER_WITHOUT_DATES = new RecordScrubber(new KnownValues(), { dates: false });

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

function includesAny(text: string, parts: readonly string[]): boolean {
  for (const part of parts) {
    if (text.includes(part)) {
      return true;
    }
  }
  return false;
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
function findKnownValues(
  text: string,
  haystack: string,
  values: string[],
  kind: IdentifierKind,
  spans: ScrubSpan[],
): void {
  for (const value of values) {
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

function isAsciiLetters(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    if (!isAsciiLetter(text.charCodeAt(index))) {
      return false;
    }
  }
  return true;
}

function isFiveDigits(text: string): boolean {
  for (let index = 0; index < 5; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x30 || code > 0x39) {
      return false;
    }
  }
  return true;
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
