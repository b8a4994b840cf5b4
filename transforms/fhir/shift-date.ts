/*
 * The common FHIR date forms, `YYYY-MM-DD` and `YYYY-MM-DDThh:mm...`, shifted by whole days with
 * integer arithmetic instead of a pattern, a `Date` and padding: the walk meets one or more in
 * almost every resource. It gives what `shiftFhirDate` (deid/date-shift.ts) gives for them, and
 * leaves every other form, and the years `Date.UTC` reads differently (0-99), to that function.
 */

import { digitsAt as digits, pad2, pad4, shiftCivilDate } from '../deid/civil-days.js';

const ZERO = 0x30;
const HYPHEN = 0x2d;
const T = 0x54;
const Z = 0x5a;
const COLON = 0x3a;
const DOT = 0x2e;
const PLUS = 0x2b;

/**
 * Shifts a full date or dateTime by whole days, keeping the time and zone as written; returns
 * `undefined` when the value is not in one of those forms or its year is below 100, so the caller
 * takes the general path. A day past the end of its month rolls over as `Date.UTC` does; a
 * result outside years 1-9999, or a month or day out of range, gives the value unchanged, as
 * `shiftIfDate` does.
 *
 * @param value - a string element
 * @param offsetDays - the patient's offset
 */
export function shiftFullFhirDate(value: string, offsetDays: number): string | undefined {
  if (value.length < 10 || (value.length > 10 && value.charCodeAt(10) !== T)) {
    return undefined;
  }
  if (value.charCodeAt(4) !== HYPHEN || value.charCodeAt(7) !== HYPHEN) {
    return undefined;
  }
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  if (year < 100 || month < 0 || day < 0) {
    return undefined;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31) {
    return value;
  }

  const shifted = shiftCivilDate(year, month, day, offsetDays);
  const newYear = Math.floor(shifted / 10_000);
  if (newYear < 1 || newYear > 9999) {
    return value;
  }
  const newMonth = Math.floor(shifted / 100) % 100;
  const newDay = shifted % 100;
  return `${pad4(newYear)}-${pad2(newMonth)}-${pad2(newDay)}${value.slice(10)}`;
}

/**
 * Tells whether a string is a FHIR date, dateTime or instant in form (`YYYY-MM`, `YYYY-MM-DD`,
 * `YYYY-MM-DDThh:mm[:ss[.s+]][Z|±hh:mm]`), as the pattern
 * `^\d{4}-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?$` does, by reading
 * characters: the walk asks this of every string with a hyphen after four characters.
 * https://hl7.org/fhir/R4/datatypes.html#primitive
 *
 * @param value - a string element
 */
export function isFhirDateForm(value: string): boolean {
  const length = value.length;
  if (length < 7 || digits(value, 0, 4) < 0 || value.charCodeAt(4) !== HYPHEN) {
    return false;
  }
  if (digits(value, 5, 2) < 0) {
    return false;
  }
  if (length === 7) {
    return true;
  }
  if (length < 10 || value.charCodeAt(7) !== HYPHEN || digits(value, 8, 2) < 0) {
    return false;
  }
  if (length === 10) {
    return true;
  }
  // Thh:mm
  if (
    length < 16 ||
    value.charCodeAt(10) !== T ||
    digits(value, 11, 2) < 0 ||
    value.charCodeAt(13) !== COLON ||
    digits(value, 14, 2) < 0
  ) {
    return false;
  }
  let at = 16;
  // :ss[.s+]
  if (at < length && value.charCodeAt(at) === COLON) {
    if (at + 3 > length || digits(value, at + 1, 2) < 0) {
      return false;
    }
    at += 3;
    if (at < length && value.charCodeAt(at) === DOT) {
      const start = at + 1;
      at = start;
      while (at < length && isDigit(value.charCodeAt(at))) {
        at++;
      }
      if (at === start) {
        return false;
      }
    }
  }
  if (at === length) {
    return true;
  }
  // Z or ±hh:mm, then the end
  const zone = value.charCodeAt(at);
  if (zone === Z) {
    return at + 1 === length;
  }
  if (zone !== PLUS && zone !== HYPHEN) {
    return false;
  }
  return (
    at + 6 === length &&
    digits(value, at + 1, 2) >= 0 &&
    value.charCodeAt(at + 3) === COLON &&
    digits(value, at + 4, 2) >= 0
  );
}

function isDigit(code: number): boolean {
  return code >= ZERO && code <= ZERO + 9;
}
