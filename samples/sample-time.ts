/** All sample times count from here, so output never depends on the clock. */
const BASE_TIME_MS = Date.UTC(2024, 2, 1, 8, 0, 0);

/**
 * Returns the fixed base time plus some minutes.
 *
 * @param minutesAfterBase - offset from 2024-03-01 08:00 UTC
 */
export function sampleTime(minutesAfterBase: number): Date {
  return new Date(BASE_TIME_MS + minutesAfterBase * 60_000);
}

/**
 * Formats a time as an HL7 v2 DTM, `YYYYMMDDHHMMSS` in UTC.
 *
 * @param time - the time to format
 */
export function formatHl7Time(time: Date): string {
  return time.toISOString().slice(0, 19).replace(/[-T:]/g, '');
}

/**
 * Formats a time as a FHIR dateTime in UTC without milliseconds.
 *
 * @param time - the time to format
 */
export function formatFhirTime(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

/**
 * Turns a FHIR date (`YYYY-MM-DD`) into an HL7 v2 date (`YYYYMMDD`).
 *
 * @param date - the FHIR date
 */
export function toHl7Date(date: string): string {
  return date.replace(/-/g, '');
}

/**
 * Pads a number to two digits.
 *
 * @param value - 0 to 99
 */
export function pad2(value: number): string {
  return String(value).padStart(2, '0');
}
