import { hmacOf, keyedMemo } from '../pseudonym.js';
import { digitsAt, pad2, pad4, shiftCivilDate } from './civil-days.js';

/*
 * Date shifting keeps the intervals between one patient's events: every date of a patient moves
 * by the same number of days, derived from the patient's pseudonym (the keyed HMAC of the MRN,
 * which HL7 v2 and FHIR share) and the pseudonym key. Without the key, the offset cannot be
 * computed; with the same key, a rerun gives the same offset.
 */

/** Stands in for the patient of records that name none, such as a Practitioner. */
export const NO_PATIENT = 'no-patient';

const MS_PER_DAY = 86_400_000;
const HL7_DATE = /^(\d{4})(\d{2})?(\d{2})?(.*)$/s;
const FHIR_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(T.*)?$/s;

/**
 * Returns a patient's date offset in days: never zero, at most `rangeDays` either way.
 *
 * @param pseudonymKey - the HMAC key from the key store
 * @param patientPseudonym - the patient's `patient-id` pseudonym, or {@link NO_PATIENT}
 * @param rangeDays - the largest offset allowed
 */
export function dateOffsetDays(
  pseudonymKey: Uint8Array,
  patientPseudonym: string,
  rangeDays: number,
): number {
  // A patient's records come together and the offset never changes: one HMAC per patient.
  const memo = keyedMemo<number>(pseudonymKey, offsetPurposeOf(rangeDays));
  const known = memo.get(patientPseudonym);
  if (known !== undefined) {
    return known;
  }

  // The digest's first four bytes, big-endian.
  const digest = hmacOf(pseudonymKey).hex(`date-shift\u0000${patientPseudonym}`);
  const draw = Number.parseInt(digest.slice(0, 8), 16) % (2 * rangeDays);
  // A zero offset would publish the real dates of one patient in every 2 * range + 1.
  const offsetDays = draw < rangeDays ? -(draw + 1) : draw - rangeDays + 1;
  memo.set(patientPseudonym, offsetDays);
  return offsetDays;
}

/**
 * Shifts an HL7 v2 DT, DTM or TS value (`YYYY[MM[DD[HHMM[SS[.S]]]]][+/-ZZZZ]`) by whole days,
 * keeping its precision and time of day. A year alone is kept; a month moves with its first day.
 * Text that is not a valid date gives `''`, so nothing unshifted survives.
 *
 * @param value - the value as read (unescaped)
 * @param offsetDays - from {@link dateOffsetDays}
 */
export function shiftHl7Date(value: string, offsetDays: number): string {
  // One message gives the same time stamp in many fields (MSH-7, EVN-2, OBR-7, OBX-14).
  if (value === lastHl7.value && offsetDays === lastHl7.offsetDays) {
    return lastHl7.shifted;
  }
  const shifted = shiftHl7DateOnce(value, offsetDays);
  lastHl7 = { value, offsetDays, shifted };
  return shifted;
}

/**
 * Shifts a FHIR date, dateTime or instant by whole days, keeping precision, time and zone.
 * Returns `undefined` for text that is not one.
 *
 * @param value - the FHIR value
 * @param offsetDays - from {@link dateOffsetDays}
 */
export function shiftFhirDate(value: string, offsetDays: number): string | undefined {
  // A resource and its neighbours of the same patient often repeat a time (period, effective).
  if (value === lastFhir.value && offsetDays === lastFhir.offsetDays) {
    return lastFhir.shifted;
  }
  const shifted = shiftFhirDateOnce(value, offsetDays);
  lastFhir = { value, offsetDays, shifted };
  return shifted;
}

// One memo per range; the purpose names are made once, not per record.
const OFFSET_PURPOSES = new Map<number, string>();

function offsetPurposeOf(rangeDays: number): string {
  let purpose = OFFSET_PURPOSES.get(rangeDays);
  if (purpose === undefined) {
    purpose = `date-offset:${rangeDays}`;
    OFFSET_PURPOSES.set(rangeDays, purpose);
  }
  return purpose;
}

// The last date each function shifted, and what it gave.
let lastHl7: { value: string; offsetDays: number; shifted: string } = {
  value: '',
  offsetDays: Number.NaN,
  shifted: '',
};
let lastFhir: { value: string; offsetDays: number; shifted: string | undefined } = {
  value: '',
  offsetDays: Number.NaN,
  shifted: undefined,
};

function shiftHl7DateOnce(value: string, offsetDays: number): string {
  const full = shiftFullHl7Date(value, offsetDays);
  if (full !== undefined) {
    return full;
  }
  const match = HL7_DATE.exec(value.trim());
  if (match === null) {
    return '';
  }
  const [, year, month, day, rest] = match;
  if (month === undefined) {
    return rest === '' || /^[+-]\d{4}$/.test(rest) ? value.trim() : '';
  }
  const shifted = shiftDays(Number(year), Number(month), Number(day ?? '1'), offsetDays);
  if (shifted === undefined) {
    return '';
  }
  const [y, m, d] = shifted;
  return day === undefined ? `${y}${m}${rest}` : `${y}${m}${d}${rest}`;
}

// The commonest form, a full date with nothing around it to trim (`YYYYMMDD[HHMM...]`), with
// integer arithmetic; `undefined` leaves every other value, and years below 100 (which `Date.UTC`
// reads as 1900 onwards), to the pattern above. Gives what that path gives.
function shiftFullHl7Date(value: string, offsetDays: number): string | undefined {
  const last = value.charCodeAt(value.length - 1);
  // Printable ASCII at the end and a digit at the start: `trim` would change nothing.
  if (value.length < 8 || !(last > 0x20 && last < 0x7f)) {
    return undefined;
  }
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 4, 2);
  const day = digitsAt(value, 6, 2);
  if (year < 100 || month < 0 || day < 0) {
    return undefined;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31) {
    return '';
  }

  const shifted = shiftCivilDate(year, month, day, offsetDays);
  const newYear = Math.floor(shifted / 10_000);
  if (newYear < 1 || newYear > 9999) {
    return '';
  }
  const newMonth = Math.floor(shifted / 100) % 100;
  const rest = value.length === 8 ? '' : value.slice(8);
  return `${pad4(newYear)}${pad2(newMonth)}${pad2(shifted % 100)}${rest}`;
}

function shiftFhirDateOnce(value: string, offsetDays: number): string | undefined {
  const match = FHIR_DATE.exec(value);
  if (match === null) {
    return undefined;
  }
  const [, year, month, day, time] = match;
  if (month === undefined) {
    return value;
  }
  const shifted = shiftDays(Number(year), Number(month), Number(day ?? '1'), offsetDays);
  if (shifted === undefined) {
    return undefined;
  }
  const [y, m, d] = shifted;
  return day === undefined ? `${y}-${m}` : `${y}-${m}-${d}${time ?? ''}`;
}

function shiftDays(
  year: number,
  month: number,
  day: number,
  offsetDays: number,
): [string, string, string] | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31) {
    return undefined;
  }
  const date = new Date(Date.UTC(year, month - 1, day) + offsetDays * MS_PER_DAY);
  const y = date.getUTCFullYear();
  if (y < 1 || y > 9999) {
    return undefined;
  }
  return [
    String(y).padStart(4, '0'),
    String(date.getUTCMonth() + 1).padStart(2, '0'),
    String(date.getUTCDate()).padStart(2, '0'),
  ];
}
