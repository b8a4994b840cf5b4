import type { Hl7Failure } from './delimiters.js';
import type { Hl7Segment } from './message.js';

/*
 * OBX-5 is the one place where a message declares the type of a value (in OBX-2), so it is the
 * one place we check a type. Only types with a closed syntax are checked:
 * - NM (HL7 v2.5.1 2.A.47): optional sign, digits, optional decimal point. A leading comparator
 *   (`<`, `>`, `<=`, `>=`, `=`, `<>`) is accepted, since labs write `<0.5` under NM.
 * - DT (2.A.21): YYYY[MM[DD]].
 * - DTM (2.A.22) and TS (2.A.77, component 1): YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ].
 * Every repetition is checked; empty values and the explicit null `""` pass.
 *
 * `parseHl7DateTime` reads a DTM into its parts without inventing any; see below.
 */

// Year, then month, day, hour, minute, second (each optional in turn), fraction, time zone.
const DATE_TIME = new RegExp(
  String.raw`^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?` +
    String.raw`(?:([+-])(\d{2})(\d{2}))?$`,
);
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const CHECKS = new Map<string, (text: string) => boolean>([
  ['NM', isHl7Number],
  ['DT', isHl7Date],
  ['DTM', isHl7DateTime],
  ['TS', isHl7DateTime],
]);

/** How much of a date/time was written. */
export type Hl7DateTimePrecision =
  'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'fraction';

/**
 * An HL7 DTM (or TS component 1) as written: only the parts the sender gave, and an offset only
 * if one was written. Nothing is filled in: `20240301` has no hour, and a value without an
 * offset has no time zone (HL7 says it is the sender's local time, which we do not know).
 */
export interface Hl7DateTime {
  year: number;
  month?: number;
  day?: number;
  hour?: number;
  minute?: number;
  second?: number;
  /** The digits after the decimal point, as written (`'1234'`), so `.1` and `.1000` stay apart. */
  fraction?: string;
  /** The written UTC offset in minutes (`-0500` is -300, `+0000` is 0); absent when none was written. */
  offsetMinutes?: number;
  /** The last part written. */
  precision: Hl7DateTimePrecision;
}

/** {@link parseHl7DateTime}'s answer: the value, or `HL7_BAD_DATATYPE`. */
export type Hl7DateTimeParse = { ok: true; value: Hl7DateTime } | Hl7Failure;

/**
 * A date/time read from a message: `value` is `undefined` for an empty part and `null` for
 * HL7's explicit null `""`; a failure carries `HL7_BAD_DATATYPE` and the position.
 */
export type Hl7DateTimeResult = { ok: true; value: Hl7DateTime | null | undefined } | Hl7Failure;

/**
 * Parses an HL7 DTM (HL7 v2.5.1 2.A.22), also TS component 1 (2.A.77):
 * `YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]`. Each part's range is checked (month 1-12,
 * the day against the month and leap years, hour 0-23, minute and second 0-59, offset up to
 * ±14:59). Text that does not fit gives `HL7_BAD_DATATYPE` (with an empty position: the caller
 * knows where the text came from).
 *
 * @param text - the value, without surrounding white space
 */
export function parseHl7DateTime(text: string): Hl7DateTimeParse {
  const match = DATE_TIME.exec(text);
  if (!match) {
    return badDateTime();
  }
  const number = (index: number): number | undefined =>
    match[index] === undefined ? undefined : Number(match[index]);
  const year = number(1) as number;
  const month = number(2);
  const day = number(3);
  const hour = number(4);
  const minute = number(5);
  const second = number(6);
  const fraction = match[7];
  const zoneHour = number(9);
  const zoneMinute = number(10);

  if (month !== undefined && (month < 1 || month > 12)) {
    return badDateTime();
  }
  if (month !== undefined && day !== undefined && !isDayInMonth(year, month, day)) {
    return badDateTime();
  }
  if ((hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 59) {
    return badDateTime();
  }
  if ((zoneHour ?? 0) > 14 || (zoneMinute ?? 0) > 59) {
    return badDateTime();
  }

  const value: Hl7DateTime = { year, precision: 'year' };
  const parts: Array<[keyof Hl7DateTime, number | undefined, Hl7DateTimePrecision]> = [
    ['month', month, 'month'],
    ['day', day, 'day'],
    ['hour', hour, 'hour'],
    ['minute', minute, 'minute'],
    ['second', second, 'second'],
  ];
  for (const [key, part, precision] of parts) {
    if (part !== undefined) {
      (value as unknown as Record<string, number>)[key] = part;
      value.precision = precision;
    }
  }
  if (fraction !== undefined) {
    value.fraction = fraction;
    value.precision = 'fraction';
  }
  if (zoneHour !== undefined && zoneMinute !== undefined) {
    const minutes = zoneHour * 60 + zoneMinute;
    value.offsetMinutes = match[8] === '-' && minutes !== 0 ? -minutes : minutes;
  }
  return { ok: true, value };
}

function badDateTime(): Hl7Failure {
  return { ok: false, code: 'HL7_BAD_DATATYPE', position: {} };
}

/**
 * Writes a date/time as ISO 8601 at the precision it was written with: `2024`, `2024-03`,
 * `2024-03-01`, `2024-03-01T12`, `2024-03-01T12:30`, `2024-03-01T12:30:45`,
 * `2024-03-01T12:30:45.1234`. A written offset follows a time as `-05:00` (`+00:00` for zero);
 * without one there is no offset and no `Z`, since the zone is unknown. A date without a time
 * keeps its offset only in `offsetMinutes`.
 *
 * @param value - a parsed date/time
 */
export function formatHl7DateTimeIso(value: Hl7DateTime): string {
  const two = (n: number | undefined): string => String(n).padStart(2, '0');
  let text = String(value.year).padStart(4, '0');
  if (value.month !== undefined) {
    text += `-${two(value.month)}`;
  }
  if (value.day !== undefined) {
    text += `-${two(value.day)}`;
  }
  if (value.hour === undefined) {
    return text;
  }
  text += `T${two(value.hour)}`;
  if (value.minute !== undefined) {
    text += `:${two(value.minute)}`;
  }
  if (value.second !== undefined) {
    text += `:${two(value.second)}`;
  }
  if (value.fraction !== undefined) {
    text += `.${value.fraction}`;
  }
  if (value.offsetMinutes !== undefined) {
    const sign = value.offsetMinutes < 0 ? '-' : '+';
    const minutes = Math.abs(value.offsetMinutes);
    text += `${sign}${two(Math.floor(minutes / 60))}:${two(minutes % 60)}`;
  }
  return text;
}

/**
 * Tells whether OBX-5 fits the type OBX-2 declares, for the types checked above.
 *
 * @param obx - an OBX segment
 */
export function checkObservationValue(obx: Hl7Segment): boolean {
  const check = checkFor(obx.getValue(2, 1, 1));
  if (!check) {
    return true;
  }

  const count = obx.repetitionCount(5);
  const isNumber = check === isHl7Number;
  for (let repetition = 1; repetition <= count; repetition++) {
    const whole = obx.getValue(5, repetition);
    if (whole === null || whole === '') {
      continue;
    }
    const value = isNumber ? whole : (obx.getValue(5, repetition, 1) ?? '');
    const trimmed = value.trim();
    if (trimmed !== '' && !check(trimmed)) {
      return false;
    }
    if (trimmed === '' && whole.trim() !== '') {
      // A TS whose time is empty but whose other components are not.
      return false;
    }
  }
  return true;
}

/** The check for an OBX-2 value type, if it is one we check. */
function checkFor(valueType: string | null): ((text: string) => boolean) | undefined {
  if (valueType === null || valueType.length < 2) {
    return undefined;
  }
  // Written as is, almost always; trimming and upper-casing only when they could change it.
  const exact = CHECKS.get(valueType);
  if (exact !== undefined || !hasLowerCaseOrSpace(valueType)) {
    return exact;
  }
  return CHECKS.get(valueType.trim().toUpperCase());
}

function hasLowerCaseOrSpace(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if ((code >= 0x61 && code <= 0x7a) || isSpace(code)) {
      return true;
    }
  }
  return false;
}

/**
 * Tells whether text is an HL7 number (NM), optionally after a comparator.
 *
 * @param text - the value, trimmed
 */
export function isHl7Number(text: string): boolean {
  // /^(?:<>|[<>]=?|=)?\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/ by hand: it runs for every NM value.
  let index = 0;
  const length = text.length;
  const first = text.charCodeAt(0);
  if (first === 0x3c || first === 0x3e) {
    // `<`, `>`, `<=`, `>=`, `<>`
    index = 1;
    const second = text.charCodeAt(1);
    if (second === 0x3d || (first === 0x3c && second === 0x3e)) {
      index = 2;
    }
  } else if (first === 0x3d) {
    index = 1;
  }
  while (index < length && isSpace(text.charCodeAt(index))) {
    index++;
  }
  const sign = text.charCodeAt(index);
  if (sign === 0x2b || sign === 0x2d) {
    index++;
  }
  let digits = 0;
  while (index < length && isDigit(text.charCodeAt(index))) {
    index++;
    digits++;
  }
  if (index < length && text.charCodeAt(index) === 0x2e) {
    index++;
    while (index < length && isDigit(text.charCodeAt(index))) {
      index++;
      digits++;
    }
  }
  return digits > 0 && index === length;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** What `\s` matches. */
function isSpace(code: number): boolean {
  if (code < 0x80) {
    return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  }
  return /\s/.test(String.fromCharCode(code));
}

/**
 * Tells whether text is an HL7 date (DT).
 *
 * @param text - the value, trimmed
 */
export function isHl7Date(text: string): boolean {
  return /^\d{4}(?:\d{2}){0,2}$/.test(text) && isHl7DateTime(text);
}

/**
 * Tells whether text is an HL7 date/time (DTM), checking the range of each part.
 *
 * @param text - the value, trimmed
 */
export function isHl7DateTime(text: string): boolean {
  return parseHl7DateTime(text).ok;
}

function isDayInMonth(year: number, month: number, day: number): boolean {
  if (day < 1 || day > DAYS_IN_MONTH[month - 1]) {
    return false;
  }
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month !== 2 || day <= 28 || leap;
}
