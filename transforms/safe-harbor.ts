/**
 * Safe Harbor rules shared by the HL7 v2 and FHIR de-identification, so both formats give the
 * same output for the same value (45 CFR 164.514(b)(2)(i)(B)).
 */

// Three-digit ZIP areas of 20,000 people or fewer (HHS de-identification guidance, Census 2000).
// Limitation: the rule binds to current census data; this list has to be refreshed by hand.
const RESTRICTED_ZIP3: ReadonlySet<string> = new Set([
  '036',
  '059',
  '063',
  '102',
  '203',
  '556',
  '692',
  '790',
  '821',
  '823',
  '830',
  '831',
  '878',
  '879',
  '884',
  '890',
  '893',
]);

/**
 * Returns the Safe Harbor form of a postal code: its first three digits, or `000` for a
 * sparsely populated area; `undefined` when it does not start with three digits.
 *
 * @param postalCode - `Address.postalCode`
 */
export function zip3(postalCode: unknown): string | undefined {
  if (typeof postalCode !== 'string') {
    return undefined;
  }
  const digits = /^\s*(\d{3})/.exec(postalCode);
  if (digits === null) {
    return undefined;
  }
  return RESTRICTED_ZIP3.has(digits[1]) ? '000' : digits[1];
}

/** Ages from 90 up are one category (45 CFR 164.514(b)(2)(i)(C)). */
export const OLDEST_AGE_CATEGORY = 90;

/**
 * Returns the Safe Harbor form of a birth year: the year itself, or for anyone 90 or older at
 * the reference year, the one year that stands for the whole 90-or-older group. Counting from
 * years alone folds some 89-year-olds too, which errs on the safe side.
 *
 * @param birthYear - four-digit year
 * @param referenceYear - the year ages are counted at (the batch's ingest date)
 */
/** Years before this are not dates (`0000`, `0001`: placeholders for an unknown date). */
const EARLIEST_YEAR = 1800;

/**
 * Returns the year a date field keeps under `year` or `birth-year`: its first four digits, with
 * a birth year folded by {@link foldBirthYear}; undefined when the value does not start with a
 * year or the year is before 1800, which is a placeholder (`0000`) and not a date: folding it
 * would invent a 90-year-old.
 *
 * @param value - the date as written (`19700101`, `1970-01-01`)
 * @param to - `year`, or `birth-year` to fold ages over 89
 * @param referenceYear - the year ages are counted at
 */
export function keptYearOf(
  value: string,
  to: 'year' | 'birth-year',
  referenceYear: number,
): string | undefined {
  const year = /^\s*(\d{4})/.exec(value)?.[1];
  if (year === undefined || Number(year) < EARLIEST_YEAR) {
    return undefined;
  }
  return to === 'year' ? year : String(foldBirthYear(Number(year), referenceYear));
}

export function foldBirthYear(birthYear: number, referenceYear: number): number {
  const oldest = referenceYear - OLDEST_AGE_CATEGORY;
  return birthYear <= oldest ? oldest : birthYear;
}

/**
 * Returns an age in years with every age over 89 folded into 90.
 *
 * @param ageYears - an age in years
 */
export function foldAge(ageYears: number): number {
  return ageYears >= OLDEST_AGE_CATEGORY ? OLDEST_AGE_CATEGORY : ageYears;
}
