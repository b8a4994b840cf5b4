/*
 * Whole-day arithmetic on proleptic Gregorian dates with integers, for the date forms that
 * de-identification meets in almost every record: no pattern, no `Date`, no padding calls.
 * The algorithms are Howard Hinnant's (http://howardhinnant.github.io/date_algorithms.html).
 * A day past the end of its month rolls over, as `Date.UTC` rolls it.
 */

const ZERO = 0x30;
// Days from 0000-03-01 to 1970-01-01.
const EPOCH_SHIFT = 719_468;
const DAYS_PER_ERA = 146_097;

/**
 * The decimal value of `count` ASCII digits at `start`, or -1 when one is not a digit (or the
 * text ends first).
 *
 * @param value - the text
 * @param start - index of the first digit
 * @param count - how many digits
 */
export function digitsAt(value: string, start: number, count: number): number {
  let result = 0;
  for (let index = start; index < start + count; index++) {
    // Past the end, charCodeAt gives NaN, which fails this test too.
    const digit = value.charCodeAt(index) - ZERO;
    if (!(digit >= 0 && digit <= 9)) {
      return -1;
    }
    result = result * 10 + digit;
  }
  return result;
}

/**
 * A date moved by whole days, as `YYYYMMDD` in one number: `year * 10000 + month * 100 + day`.
 *
 * @param year - any year the proleptic calendar has; callers keep to 100-9999 (below 100,
 *   `Date.UTC` reads years as 1900 onwards, and its callers compare against that)
 * @param month - 1-12
 * @param day - 1-31; past the month's end rolls into the next
 * @param offsetDays - days to add, negative to go back
 */
export function shiftCivilDate(
  year: number,
  month: number,
  day: number,
  offsetDays: number,
): number {
  return civilFromDays(daysFromCivil(year, month, 1) + day - 1 + offsetDays);
}

/**
 * Two digits, zero-padded.
 *
 * @param value - 0-99
 */
export function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/**
 * Four digits, zero-padded.
 *
 * @param value - 0-9999
 */
export function pad4(value: number): string {
  if (value >= 1000) {
    return String(value);
  }
  return value >= 100 ? `0${value}` : value >= 10 ? `00${value}` : `000${value}`;
}

// Days since 1970-01-01.
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * DAYS_PER_ERA + dayOfEra - EPOCH_SHIFT;
}

// The date of a day count, as YYYYMMDD in one number.
function civilFromDays(days: number): number {
  const z = days + EPOCH_SHIFT;
  const era = Math.floor(z / DAYS_PER_ERA);
  const dayOfEra = z - era * DAYS_PER_ERA;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return year * 10_000 + month * 100 + day;
}
