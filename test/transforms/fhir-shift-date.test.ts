import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { shiftFhirDate } from '../../transforms/deid/date-shift.js';
import { isFhirDateForm, shiftFullFhirDate } from '../../transforms/fhir/shift-date.js';

// The pattern the walk used before `isFhirDateForm`: https://hl7.org/fhir/R4/datatypes.html
const FHIR_DATE = /^\d{4}-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?$/;

// What `shiftIfDate` gave before the fast path: the general function, or the value unchanged.
function general(value: string, offsetDays: number): string {
  return shiftFhirDate(value, offsetDays) ?? value;
}

function fast(value: string, offsetDays: number): string {
  return shiftFullFhirDate(value, offsetDays) ?? general(value, offsetDays);
}

const twoDigits = fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, '0'));
const suffix = fc.constantFrom(
  '',
  'T08:00:00Z',
  'T23:59:59.123+05:30',
  'T00:00',
  'T',
  'X',
  ' 08:00',
  'T12:00:00-08:00\nmore',
);

describe('shiftFullFhirDate', () => {
  it('shifts across month, year and leap-day boundaries', () => {
    expect(shiftFullFhirDate('2024-02-28', 1)).toBe('2024-02-29');
    expect(shiftFullFhirDate('2023-02-28', 1)).toBe('2023-03-01');
    expect(shiftFullFhirDate('2024-12-31T23:00:00Z', 1)).toBe('2025-01-01T23:00:00Z');
    expect(shiftFullFhirDate('2000-03-01', -1)).toBe('2000-02-29');
    expect(shiftFullFhirDate('1900-03-01', -1)).toBe('1900-02-28');
    expect(shiftFullFhirDate('2024-03-01T08:00:00+01:00', -365)).toBe('2023-03-02T08:00:00+01:00');
  });

  it('rolls a day past the end of its month over, as Date.UTC does', () => {
    expect(shiftFullFhirDate('2023-02-31', 0)).toBe('2023-03-03');
  });

  it('returns out-of-range months, days and results unchanged', () => {
    expect(shiftFullFhirDate('2024-13-01', 5)).toBe('2024-13-01');
    expect(shiftFullFhirDate('2024-01-00', 5)).toBe('2024-01-00');
    expect(shiftFullFhirDate('9999-12-31', 1)).toBe('9999-12-31');
    expect(shiftFullFhirDate('0100-01-01', -40_000)).toBe('0100-01-01');
  });

  it('leaves other forms and two-digit years to the general path', () => {
    expect(shiftFullFhirDate('2024-03', 5)).toBeUndefined();
    expect(shiftFullFhirDate('2024', 5)).toBeUndefined();
    expect(shiftFullFhirDate('2024-03-01X', 5)).toBeUndefined();
    expect(shiftFullFhirDate('0050-03-01', 5)).toBeUndefined();
    expect(shiftFullFhirDate('2O24-03-01', 5)).toBeUndefined();
  });

  it('gives what the general path gives, for any year, month, day, time and offset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9999 }),
        twoDigits,
        twoDigits,
        suffix,
        fc.integer({ min: -4000, max: 4000 }),
        (year, month, day, tail, offsetDays) => {
          const value = `${String(year).padStart(4, '0')}-${month}-${day}${tail}`;
          expect(fast(value, offsetDays)).toBe(general(value, offsetDays));
        },
      ),
      { numRuns: 20_000 },
    );
  });
});

describe('isFhirDateForm', () => {
  it('accepts the date, dateTime and instant forms', () => {
    for (const value of [
      '2024-03',
      '2024-03-01',
      '2024-03-01T08:00',
      '2024-03-01T08:00Z',
      '2024-03-01T08:00:00',
      '2024-03-01T08:00:00.123456+05:30',
      '2024-03-01T08:00-08:00',
    ]) {
      expect(isFhirDateForm(value)).toBe(true);
    }
  });

  it('refuses what the pattern refuses', () => {
    for (const value of [
      '2024',
      '2024-3',
      '2024-03-1',
      '2024-03-01T',
      '2024-03-01T08',
      '2024-03-01T08:00:00.',
      '2024-03-01T08:00:00Z ',
      '2024-03-01T08:00+0530',
      '2024-03-01 08:00',
      '8310-5',
    ]) {
      expect(isFhirDateForm(value)).toBe(false);
    }
  });

  it('agrees with the FHIR date pattern on date forms with one character changed', () => {
    const two = fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, '0'));
    const form = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }),
        two,
        fc.option(two),
        fc.option(fc.tuple(two, two)),
        fc.option(fc.tuple(two, fc.option(fc.stringMatching(/^[0-9]{1,4}$/)))),
        fc.constantFrom('', 'Z', '+05:30', '-08:00'),
      )
      .map(([year, month, day, time, seconds, zone]) => {
        let value = `${String(year).padStart(4, '0')}-${month}`;
        if (day === null) {
          return value;
        }
        value += `-${day}`;
        if (time === null) {
          return value;
        }
        value += `T${time[0]}:${time[1]}`;
        if (seconds !== null) {
          value += `:${seconds[0]}${seconds[1] === null ? '' : `.${seconds[1]}`}`;
        }
        return value + zone;
      });
    const edit = fc.record({
      kind: fc.constantFrom('none', 'replace', 'insert', 'delete'),
      at: fc.nat(),
      char: fc.constantFrom(...'0123456789-:T.Z+ x'.split('')),
    });
    fc.assert(
      fc.property(form, edit, (base, { kind, at, char }) => {
        const index = at % (base.length + 1);
        const value =
          kind === 'replace'
            ? base.slice(0, index) + char + base.slice(index + 1)
            : kind === 'insert'
              ? base.slice(0, index) + char + base.slice(index)
              : kind === 'delete'
                ? base.slice(0, index) + base.slice(index + 1)
                : base;
        expect(isFhirDateForm(value)).toBe(FHIR_DATE.test(value));
      }),
      { numRuns: 30_000 },
    );
  });
});
