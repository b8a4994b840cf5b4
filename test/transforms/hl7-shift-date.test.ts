import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { shiftHl7Date } from '../../transforms/deid/date-shift.js';

// How HL7 v2 dates were shifted before the integer path: a pattern, then `Date.UTC`. Every value
// must still give what this gives.
function withDate(value: string, offsetDays: number): string {
  const match = /^(\d{4})(\d{2})?(\d{2})?(.*)$/s.exec(value.trim());
  if (match === null) {
    return '';
  }
  const [, year, month, day, rest] = match;
  if (month === undefined) {
    return rest === '' || /^[+-]\d{4}$/.test(rest) ? value.trim() : '';
  }
  const [m, d] = [Number(month), Number(day ?? '1')];
  if (m < 1 || m > 12 || d < 1 || d > 31) {
    return '';
  }
  const date = new Date(Date.UTC(Number(year), m - 1, d) + offsetDays * 86_400_000);
  const y = date.getUTCFullYear();
  if (y < 1 || y > 9999) {
    return '';
  }
  const pad = (n: number, width: number): string => String(n).padStart(width, '0');
  const shifted = `${pad(y, 4)}${pad(date.getUTCMonth() + 1, 2)}`;
  return day === undefined ? `${shifted}${rest}` : `${shifted}${pad(date.getUTCDate(), 2)}${rest}`;
}

const digits = (width: number, max: number): fc.Arbitrary<string> =>
  fc.integer({ min: 0, max }).map((n) => String(n).padStart(width, '0'));

describe('shiftHl7Date', () => {
  it('shifts across month, year and leap-day boundaries, keeping time and zone', () => {
    expect(shiftHl7Date('20240228', 1)).toBe('20240229');
    expect(shiftHl7Date('20230228', 1)).toBe('20230301');
    expect(shiftHl7Date('20241231230000+0100', 1)).toBe('20250101230000+0100');
    expect(shiftHl7Date('19000301', -1)).toBe('19000228');
  });

  it('rolls a day past its month over, and drops months and days out of range', () => {
    expect(shiftHl7Date('20230231', 0)).toBe('20230303');
    expect(shiftHl7Date('20231301', 5)).toBe('');
    expect(shiftHl7Date('20230100', 5)).toBe('');
    expect(shiftHl7Date('99991231', 1)).toBe('');
  });

  it('gives what the Date path gives, for any date, padding, suffix and offset', () => {
    const suffix = fc.constantFrom('', '1230', '123045.1234-0500', ' ', '\n', 'X', '^S');
    const lead = fc.constantFrom('', ' ', '\t');
    fc.assert(
      fc.property(
        lead,
        digits(4, 9999),
        digits(2, 99),
        digits(2, 99),
        suffix,
        fc.integer({ min: -40_000, max: 40_000 }),
        (before, year, month, day, after, offsetDays) => {
          const value = `${before}${year}${month}${day}${after}`;
          expect(shiftHl7Date(value, offsetDays)).toBe(withDate(value, offsetDays));
        },
      ),
      { numRuns: 5000 },
    );
  });
});
