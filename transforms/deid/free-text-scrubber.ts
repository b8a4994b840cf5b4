import {
  collect,
  DIGIT_RUN_OF_THREE,
  includesAny,
  PATTERN_HINT,
  PATTERNS,
  PATTERNS_WITHOUT_DATES,
} from './free-text-patterns.js';
import type { Pattern } from './free-text-patterns.js';
import type { IdentifierKind, ScrubOptions, ScrubSpan, TextScrubber } from './free-text.js';

/*
 * A record's scrubber: its own identifiers, looked up as strings wherever they appear in the
 * text, then the patterns of `free-text-patterns.ts`; overlapping finds are resolved by position.
 */

// Runs of digits and the separators phones are written with; compared with known phones.
const DIGIT_RUN = /\(?\d[\d\s().-]{5,16}\d/g;
const WORD_CHAR = /[\p{L}\p{N}]/u;

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

export const PATTERN_SCRUBBER = new RecordScrubber(new KnownValues(), { dates: true });
export const PATTERN_SCRUBBER_WITHOUT_DATES = new RecordScrubber(new KnownValues(), {
  dates: false,
});

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
