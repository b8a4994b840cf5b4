/**
 * Safe Harbor rules shared by the HL7 v2 and FHIR de-identification, so both formats give the
 * same output for the same value (45 CFR 164.514(b)(2)(i)(B)).
 */

// Three-digit ZIP areas of 20,000 people or fewer (HHS de-identification guidance, Census 2000).
// Limitation: the rule binds to current census data; this list has to be refreshed by hand.
const RESTRICTED_ZIP3: ReadonlySet<string> = new Set([
  '036', '059', '063', '102', '203', '556', '692', '790', '821',
  '823', '830', '831', '878', '879', '884', '890', '893',
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
