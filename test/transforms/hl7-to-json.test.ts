import { describe, expect, it } from 'vitest';

import { hl7ToJson, parseHl7 } from '../../transforms/hl7/index.js';
import type { Hl7JsonRecord } from '../../transforms/hl7/index.js';

function toJson(text: string): Hl7JsonRecord {
  const result = parseHl7(text, 0);
  if (!result.ok) {
    throw new Error(`Expected ok, got ${result.code}`);
  }
  return hl7ToJson(result.message);
}

describe('hl7ToJson', () => {
  it('keys fields SEG-n and gives each segment its index', () => {
    const record = toJson('MSH|^~\\&|APP||||||ADT^A01|1|P|2.5.1\rEVN|A01\r');
    expect(record).toEqual({
      messageType: 'ADT^A01',
      version: '2.5.1',
      segments: [
        {
          segment: 'MSH',
          index: 1,
          fields: {
            'MSH-1': '|',
            'MSH-2': '^~\\&',
            'MSH-3': 'APP',
            'MSH-9': [['ADT', 'A01']],
            'MSH-10': '1',
            'MSH-11': 'P',
            'MSH-12': '2.5.1',
          },
        },
        { segment: 'EVN', index: 2, fields: { 'EVN-1': 'A01' } },
      ],
    });
    expect(record).not.toHaveProperty('messageIndex');
  });

  it('shapes strings, repetitions, components and subcomponents', () => {
    const pid = 'PID|1|""|A~B|DOE^JOHN|X^A&B|^^^MA^021|1\\T\\2|A^|^~^|D^""';
    const { fields } = toJson(`MSH|^~\\&|A||||||ADT^A01|1|P|2.5\r${pid}\r`).segments[1];
    expect(fields).toEqual({
      'PID-1': '1',
      'PID-2': null,
      'PID-3': ['A', 'B'],
      'PID-4': [['DOE', 'JOHN']],
      'PID-5': [['X', ['A', 'B']]],
      'PID-6': [['', '', '', 'MA', '021']],
      'PID-7': '1&2',
      'PID-8': 'A',
      'PID-10': [['D', null]],
    });
  });

  it('keeps the delimiters of a message with a custom field separator', () => {
    const record = toJson('MSH#^~\\&#A######ORU^R01#1#P#2.5\rOBX#1#ST#C##a|b\r');
    expect(record.segments[0].fields['MSH-1']).toBe('#');
    expect(record.segments[1].fields['OBX-5']).toBe('a|b');
  });
});
