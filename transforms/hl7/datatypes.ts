import type { Hl7Segment } from './message.js';

/*
 * OBX-5 is the one place where a message declares the type of a value (in OBX-2), so it is the
 * one place we check a type. Only types with a closed syntax are checked:
 * - NM (HL7 v2.5.1 2.A.47): optional sign, digits, optional decimal point. A leading comparator
 *   (`<`, `>`, `<=`, `>=`, `=`, `<>`) is accepted, since labs write `<0.5` under NM.
 * - DT (2.A.21): YYYY[MM[DD]].
 * - DTM (2.A.22) and TS (2.A.77, component 1): YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ].
 * Every repetition is checked; empty values and the explicit null `""` pass.
 */

const NUMBER = /^(?:<>|[<>]=?|=)?\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
// Year, then month, day, hour, minute, second (each optional in turn), fraction, time zone.
const DATE_TIME = new RegExp(
  String.raw`^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.\d{1,4})?)?)?)?)?)?` +
    String.raw`(?:[+-](\d{2})(\d{2}))?$`,
);
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const CHECKS: Record<string, (text: string) => boolean> = {
  NM: isHl7Number,
  DT: isHl7Date,
  DTM: isHl7DateTime,
  TS: isHl7DateTime,
};

/**
 * Tells whether OBX-5 fits the type OBX-2 declares, for the types checked above.
 *
 * @param obx - an OBX segment
 */
export function checkObservationValue(obx: Hl7Segment): boolean {
  const valueType = (obx.getValue(2, 1, 1) ?? '').trim().toUpperCase();
  const check = CHECKS[valueType];
  if (!check) {
    return true;
  }

  for (const repetition of obx.repetitions(5)) {
    const whole = repetition.get();
    if (whole === null || whole.trim() === '') {
      continue;
    }
    const value = valueType === 'NM' ? whole : (repetition.get(1) ?? '');
    if (!check(value.trim())) {
      return false;
    }
  }
  return true;
}

/**
 * Tells whether text is an HL7 number (NM), optionally after a comparator.
 *
 * @param text - the value, trimmed
 */
export function isHl7Number(text: string): boolean {
  return NUMBER.test(text);
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
  const match = DATE_TIME.exec(text);
  if (!match) {
    return false;
  }
  const [year, month, day, hour, minute, second, zoneHour, zoneMinute] = match
    .slice(1)
    .map((part) => (part === undefined ? undefined : Number(part)));

  if (month !== undefined && (month < 1 || month > 12)) {
    return false;
  }
  if (month !== undefined && day !== undefined && !isDayInMonth(year as number, month, day)) {
    return false;
  }
  if ((hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 59) {
    return false;
  }
  return (zoneHour ?? 0) <= 14 && (zoneMinute ?? 0) <= 59;
}

function isDayInMonth(year: number, month: number, day: number): boolean {
  if (day < 1 || day > DAYS_IN_MONTH[month - 1]) {
    return false;
  }
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month !== 2 || day <= 28 || leap;
}
