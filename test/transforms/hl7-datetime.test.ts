import { describe, expect, it } from 'vitest';

import { formatHl7DateTimeIso, parseHl7, parseHl7DateTime } from '../../transforms/hl7/index.js';
import type { Hl7DateTime, Hl7Message } from '../../transforms/hl7/index.js';

function value(text: string): Hl7DateTime {
  const result = parseHl7DateTime(text);
  if (!result.ok) {
    throw new Error(`Expected a date/time, got ${result.code}`);
  }
  return result.value;
}

function parsed(text: string): Hl7Message {
  const result = parseHl7(text, 4);
  if (!result.ok) {
    throw new Error(`Expected ok, got ${result.code}`);
  }
  return result.message;
}

describe('parseHl7DateTime', () => {
  it('keeps a date as a date, with no time and no zone', () => {
    expect(value('20240301')).toEqual({ year: 2024, month: 3, day: 1, precision: 'day' });
  });

  it('keeps minute precision', () => {
    expect(value('202403011230')).toEqual({
      year: 2024,
      month: 3,
      day: 1,
      hour: 12,
      minute: 30,
      precision: 'minute',
    });
  });

  it('keeps the fraction as written and the offset in minutes', () => {
    expect(value('20240301123045.1234-0500')).toEqual({
      year: 2024,
      month: 3,
      day: 1,
      hour: 12,
      minute: 30,
      second: 45,
      fraction: '1234',
      offsetMinutes: -300,
      precision: 'fraction',
    });
    expect(value('20240301123045.1').fraction).toBe('1');
    expect(value('20240301123045.1000').fraction).toBe('1000');
  });

  it('reads a year alone, and every precision in between', () => {
    expect(value('2024')).toEqual({ year: 2024, precision: 'year' });
    expect(value('202403').precision).toBe('month');
    expect(value('2024030112').precision).toBe('hour');
    expect(value('20240301123045').precision).toBe('second');
  });

  it('never invents a zone, and keeps an explicit zero offset', () => {
    expect(value('20240301123045')).not.toHaveProperty('offsetMinutes');
    expect(value('20240301123045+0000').offsetMinutes).toBe(0);
    expect(value('20240301123045-0000').offsetMinutes).toBe(0);
    expect(value('202403011230+0530').offsetMinutes).toBe(330);
    expect(value('2024+0100')).toEqual({ year: 2024, offsetMinutes: 60, precision: 'year' });
  });

  it('checks each part against its range, leap years included', () => {
    expect(value('20240229').day).toBe(29);
    expect(value('20000229').day).toBe(29);
    for (const bad of [
      '20230229',
      '19000229',
      '20241301',
      '20240001',
      '20240431',
      '2024030124',
      '202403011260',
      '20240301123060',
      '20240301123045-1500',
      '20240301123045+0560',
    ]) {
      expect(parseHl7DateTime(bad), bad).toEqual({
        ok: false,
        code: 'HL7_BAD_DATATYPE',
        position: {},
      });
    }
  });

  it('rejects text that is not a DTM', () => {
    for (const bad of [
      '',
      '24',
      '2024-03-01',
      '2024031',
      '20240301T1230',
      '20240301123045.',
      '20240301123045.12345',
      '202403011230.5',
      '20240301 ',
      '20240301-05',
      'March 1, 2024',
    ]) {
      expect(parseHl7DateTime(bad).ok, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('formatHl7DateTimeIso', () => {
  it('writes ISO 8601 at the precision written, with the offset only when written', () => {
    expect(formatHl7DateTimeIso(value('2024'))).toBe('2024');
    expect(formatHl7DateTimeIso(value('202403'))).toBe('2024-03');
    expect(formatHl7DateTimeIso(value('20240301'))).toBe('2024-03-01');
    expect(formatHl7DateTimeIso(value('2024030112'))).toBe('2024-03-01T12');
    expect(formatHl7DateTimeIso(value('202403011230'))).toBe('2024-03-01T12:30');
    expect(formatHl7DateTimeIso(value('20240301123045.1234-0500'))).toBe(
      '2024-03-01T12:30:45.1234-05:00',
    );
    expect(formatHl7DateTimeIso(value('20240301123045+0000'))).toBe('2024-03-01T12:30:45+00:00');
    expect(formatHl7DateTimeIso(value('202403011230+0530'))).toBe('2024-03-01T12:30+05:30');
  });
});

describe('Hl7Message.getDateTime', () => {
  const MSH = 'MSH|^~\\&|A||||20240301083000-0500||ORU^R01|1|P|2.5.1';

  it('reads a DTM field, and component 1 of a TS field', () => {
    const message = parsed(
      `${MSH}\rPID|1||X||DOE||19800102\rOBX|1|TS|C||20240301123045^S||||||F|||202403011230\r`,
    );
    expect(message.getDateTime('PID-7')).toEqual({
      ok: true,
      value: { year: 1980, month: 1, day: 2, precision: 'day' },
    });
    expect(message.getDateTime('MSH-7')).toMatchObject({
      ok: true,
      value: { offsetMinutes: -300, second: 0 },
    });
    expect(message.getDateTime('OBX-5')).toMatchObject({
      ok: true,
      value: { second: 45, precision: 'second' },
    });
    expect(message.getDateTime('OBX-14')).toMatchObject({ ok: true, value: { minute: 30 } });
  });

  it('gives undefined for an empty field and null for the explicit null', () => {
    const message = parsed(`${MSH}\rPID|1||X||DOE||""\r`);
    expect(message.getDateTime('PID-7')).toEqual({ ok: true, value: null });
    expect(message.getDateTime('PID-29')).toEqual({ ok: true, value: undefined });
    expect(message.getDateTime('ZZZ-1')).toEqual({ ok: true, value: undefined });
  });

  it('gives a code and a position, never the value, for text that is not a date', () => {
    const message = parsed(`${MSH}\rPID|1||X||DOE||Aug 15 1942\r`);
    const result = message.getDateTime('PID-7');
    expect(result).toEqual({
      ok: false,
      code: 'HL7_BAD_DATATYPE',
      position: { messageIndex: 4, segmentIndex: 2, segmentName: 'PID', field: 'PID-7' },
    });
    expect(JSON.stringify(result)).not.toContain('1942');
  });

  it('reads one repetition from a segment', () => {
    const message = parsed(`${MSH}\rZDT|1|20240101~20250202\r`);
    const zdt = message.segment('ZDT');
    expect(zdt?.getDateTime(2, 2)).toMatchObject({
      ok: true,
      value: { year: 2025, month: 2, day: 2 },
    });
  });
});
