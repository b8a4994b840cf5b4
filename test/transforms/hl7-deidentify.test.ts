import { describe, expect, it } from 'vitest';

import { dateOffsetDays, shiftHl7Date } from '../../transforms/deid/date-shift.js';
import { DEFAULT_DATE_SHIFT_RANGE_DAYS } from '../../transforms/deid/rules.js';
import { EMBEDDED_DOCUMENT_MARKER, parseHl7, patientMrnOf } from '../../transforms/hl7/index.js';
import type { Hl7JsonRecord } from '../../transforms/hl7/index.js';
import { pseudonymize } from '../../transforms/pseudonym.js';
import { deidentifiedRecord, recordText } from '../helpers/hl7-record.js';

// Synthetic values only: none of these belong to a person.
const PSEUDONYM_KEY = new Uint8Array([7, 7, 7, 7, 7, 7, 7, 7]);
const ctx = { pseudonymKey: PSEUDONYM_KEY };
const PHI = [
  'TESTPATIENT',
  'ALPHA',
  'MRN0001',
  '999-00-1234',
  '(555)555-0100',
  '1 Fake Street',
  'Nowhereville',
  '99999-1234',
  '19800102',
  'CTRL0001',
  'ACCT0001',
  'VISIT0001',
  'KINNAME',
  'DL123456',
  'MOTHERID9',
  'Middlesex',
];

function syntheticMessage(controlId: string): string {
  return [
    `MSH|^~\\&|APP|FAC|RAPP|RFAC|20240101120000||ADT^A01|${controlId}|P|2.5.1`,
    'EVN|A01|20240101120000',
    'PID|1|MRN0001^^^HOSP^MR|MRN0001^^^HOSP^MR~999-00-1234^^^SSA^SS||TESTPATIENT^ALPHA^^^^^L||' +
      '19800102|F|||1 Fake Street^Unit 2^Nowhereville^MA^99999-1234^USA^H^^Middlesex||' +
      '(555)555-0100^PRN^PH|(555)555-0100||||ACCT0001|999-00-1234|DL123456^MA|MOTHERID9^^^HOSP^MR',
    'NK1|1|KINNAME^ALPHA|MTH^Mother|1 Fake Street^^Nowhereville^MA^99999-1234|(555)555-0100',
    'PV1|1|I|WARD^101^A||||1234^DOCTOR^DAVID||||||||||||VISIT0001',
    'MRG|MRN0001^^^HOSP^MR||ACCT0001||||TESTPATIENT^ALPHA',
  ].join('\r');
}

/** The de-identified record, read by ER7 paths. */
function deidentified(text: string): { get(path: string): string | null; record: Hl7JsonRecord } {
  const record = deidentifiedRecord(text, ctx);
  return { get: (path) => recordText(record, path), record };
}

describe('deidentifyHl7ToJson', () => {
  it('leaves none of the identifying values in the JSON record', () => {
    const output = JSON.stringify(deidentified(syntheticMessage('CTRL0001')).record);
    for (const value of PHI) {
      expect(output, value).not.toContain(value);
    }
  });

  it('keeps the year of birth and the first three ZIP digits, state and country', () => {
    const message = deidentified(syntheticMessage('CTRL0001'));
    expect(message.get('PID-7')).toBe('1980');
    expect(message.get('PID-11')).toBe('^^^MA^999^USA^H');
    expect(message.get('PID-11.5')).toBe('999');
    expect(message.get('NK1-4.5')).toBe('999');
    expect(message.get('PID-8')).toBe('F');
  });

  it('replaces ids with stable keyed pseudonyms, keeping authority and type', () => {
    const first = deidentified(syntheticMessage('CTRL0001'));
    const second = deidentified(syntheticMessage('CTRL0002'));
    const mrn = pseudonymize(PSEUDONYM_KEY, 'patient-id', 'MRN0001');

    expect(first.get('PID-3.1')).toBe(mrn);
    expect(second.get('PID-3.1')).toBe(mrn);
    expect(first.get('PID-3.4')).toBe('HOSP');
    expect(first.get('PID-3.5')).toBe('MR');
    expect(first.get('PID-2.1')).toBe(mrn);
    expect(first.get('PID-3[2].1')).toBe(pseudonymize(PSEUDONYM_KEY, 'patient-id', '999-00-1234'));
    expect(first.get('MRG-1.1')).toBe(mrn);
    expect(first.get('PID-21.1')).toBe(pseudonymize(PSEUDONYM_KEY, 'patient-id', 'MOTHERID9'));
    expect(first.get('PID-18')).toBe(pseudonymize(PSEUDONYM_KEY, 'account', 'ACCT0001'));
    expect(first.get('MRG-3')).toBe(pseudonymize(PSEUDONYM_KEY, 'account', 'ACCT0001'));
    expect(first.get('PV1-19')).toBe(pseudonymize(PSEUDONYM_KEY, 'visit', 'VISIT0001'));
    expect(first.get('MSH-10')).toBe(pseudonymize(PSEUDONYM_KEY, 'message', 'CTRL0001'));
  });

  it('empties names, phones, SSN and licence, and leaves providers alone', () => {
    const message = deidentified(syntheticMessage('CTRL0001'));
    for (const path of ['PID-5', 'PID-13', 'PID-14', 'PID-19', 'PID-20', 'NK1-2', 'MRG-7']) {
      expect(message.get(path), path).toBe('');
    }
    expect(message.get('PV1-7')).toBe('1234^DOCTOR^DAVID');
  });

  it("shifts every date of the message by the patient's offset, keeping time and intervals", () => {
    const message = deidentified(syntheticMessage('CTRL0001'));
    const patient = pseudonymize(PSEUDONYM_KEY, 'patient-id', 'MRN0001');
    const offsetDays = dateOffsetDays(PSEUDONYM_KEY, patient, DEFAULT_DATE_SHIFT_RANGE_DAYS);
    expect(offsetDays).toBe(77);
    expect(message.get('MSH-7')).toBe('20240318120000');
    expect(message.get('EVN-2')).toBe('20240318120000');
    expect(shiftHl7Date('20240101120000', offsetDays)).toBe('20240318120000');
  });

  it('removes a date written in another form, which cannot be shifted, and keeps precision codes', () => {
    const visit = [
      'PV1',
      '1',
      'I',
      ...Array<string>(41).fill(''),
      '20240101120000^S',
      '11/30/2026',
    ];
    const text =
      'MSH|^~\\&|A||||11/30/2026||ADT^A01|1|P|2.5\rEVN|A01|Dec 1 2026\r' +
      `PID|1||X^^^H^MR||N^M||19800102|M\r${visit.join('|')}\r`;
    const message = deidentified(text);
    expect(message.get('MSH-7')).toBe('');
    expect(message.get('EVN-2')).toBe('');
    expect(message.get('PV1-45')).toBe('');
    expect(message.get('PV1-44.2')).toBe('S');
    expect(message.get('PV1-44.1')).toMatch(/^\d{14}$/);
    expect(message.get('PV1-44.1')).not.toBe('20240101120000');
    expect(JSON.stringify(message.record)).not.toContain('2026');
  });

  it('shifts a date in any subcomponent of a date field, keeping precision codes', () => {
    const visit = ['PV1', '1', 'I', ...Array<string>(41).fill(''), '20240101120000&S&20240102'];
    const text = `MSH|^~\\&|A||||20240101||ADT^A01|1|P|2.3\rPID|1||X^^^H^MR\r${visit.join('|')}\r`;
    const message = deidentified(text);
    expect(message.get('PV1-44.1.2')).toBe('S');
    expect(message.get('PV1-44.1.1')).toMatch(/^\d{14}$/);
    expect(message.get('PV1-44.1.3')).toMatch(/^\d{8}$/);
    expect(JSON.stringify(message.record)).not.toContain('20240102');
    expect(JSON.stringify(message.record)).not.toContain('20240101');
  });

  it('shifts the referral, visit, pharmacy and note dates of later versions by the same offset', () => {
    // Each segment's fields by position, the others empty.
    const at = (name: string, fields: Record<number, string>): string =>
      [name, ...Array.from({ length: 29 }, (_, index) => fields[index + 1] ?? '')].join('|');
    const text = [
      'MSH|^~\\&|A||||||REF^I12|1|P|2.7',
      'PID|1||MRN0001^^^HOSP^MR',
      at('PV2', { 14: '20240101', 29: '20240101' }),
      at('RF1', { 1: 'A', 6: 'REF0001^HOSP', 7: '20240101', 8: '20240102', 9: '20240101' }),
      at('RXE', { 18: '20240101' }),
      at('NTE', { 1: '1', 3: 'Note', 6: '20240101120000' }),
    ].join('\r');
    const message = deidentified(text);
    const shifted = shiftHl7Date('20240101', 77);
    for (const path of ['PV2-14', 'PV2-29', 'RF1-7', 'RF1-9', 'RXE-18']) {
      expect(message.get(path), path).toBe(shifted);
    }
    expect(message.get('RF1-8')).toBe(shiftHl7Date('20240102', 77));
    expect(message.get('NTE-6')).toBe(shiftHl7Date('20240101120000', 77));
    expect(message.get('RF1-6.1')).toBe(pseudonymize(PSEUDONYM_KEY, 'other', 'REF0001'));
  });

  it('drops a birth date that does not start with a year', () => {
    const text = 'MSH|^~\\&|A||||||ADT^A01|1|P|2.4\rPID|1||X||N^M||Aug 15, 1942|M\r';
    expect(deidentified(text).get('PID-7')).toBe('');
  });

  it('keeps explicit nulls as they are', () => {
    const text = 'MSH|^~\\&|A||||||ADT^A01|1|P|2.5\rPID|1||X||""||""\r';
    const message = deidentified(text);
    expect(message.get('PID-5')).toBeNull();
    expect(message.get('PID-7')).toBeNull();
  });

  it('drops the data of an embedded document and keeps what it was', () => {
    const report = Buffer.from('<html>Report for TESTPATIENT ALPHA</html>').toString('base64');
    const text =
      'MSH|^~\\&|LAB|HOSP|DEST|DEST|20240301||ORU^R01|C1|P|2.5.1\r' +
      `OBX|1|ED|REPORT^Report^L||LAB^text^html^Base64^${report}||||||F\r` +
      'OBX|2|ST|NOTE^Note^L||kept as sent||||||F\r';
    const message = deidentified(text);

    expect(JSON.stringify(message.record)).not.toContain(report);
    expect(message.get('OBX-5.4')).toBe('A');
    expect(message.get('OBX-5.5')).toBe(EMBEDDED_DOCUMENT_MARKER);
    expect(message.record.segments[1].fields['OBX-5']).toEqual([
      ['LAB', 'text', 'html', 'A', '[embedded document removed]'],
    ]);
    expect(message.record.segments[2].fields['OBX-5']).toBe('kept as sent');
  });
});

describe('OBX-5 rules chosen by OBX-2', () => {
  // The same OBX-2 text reads as `TX` under `^` and as `TX^X` where `#` separates components.
  const standard = [
    'MSH|^~\\&|APP|FAC|RAPP|RFAC|20240101120000||ORU^R01|C1|P|2.5.1',
    'PID|1||MRN1^^^HOSP^MR||DOE^JANE',
    'OBX|1|TX^X|11329-0^History^LN||Jane Doe called from MRN1',
  ].join('\r');
  const otherDelimiters = [
    'MSH|#~\\&|APP|FAC|RAPP|RFAC|20240101120000||ORU#R01|C2|P|2.5.1',
    'PID|1||MRN2###HOSP#MR||ROE#JOHN',
    'OBX|1|TX^X|11329-0#History#LN||Plain note^kept',
  ].join('\r');

  it('reads the condition with each message its own delimiters, whatever came before', () => {
    for (let round = 0; round < 2; round++) {
      const other = deidentifiedRecord(otherDelimiters, ctx);
      const scrubbed = deidentifiedRecord(standard, ctx);

      expect(recordText(scrubbed, 'OBX-5')).toBe('[NAME] [NAME] called from [ID]');
      // `TX^X` is no free-text type there: no rule names the field, so it stays as sent.
      const obx = other.segments.find((segment) => segment.segment === 'OBX');
      expect(obx?.fields['OBX-5']).toBe('Plain note^kept');
    }
  });
});

describe('patientMrnOf', () => {
  const MSH = 'MSH|^~\\&|APP|FAC|RAPP|RFAC|20240101120000||ADT^A01|C1|P|2.5.1';

  function mrnOf(pid: string): string | undefined {
    const parsed = parseHl7(`${MSH}\r${pid}`, 0);
    if (!parsed.ok) {
      throw new Error(`test message did not parse: ${parsed.code}`);
    }
    return patientMrnOf(parsed.message);
  }

  it('takes the PID-3 repetition typed MR, wherever it stands', () => {
    expect(mrnOf('PID|1||SSN1^^^SSA^SS~ MRN7 ^^^HOSP^ mr ~MRN8^^^HOSP^MR')).toBe('MRN7');
  });

  it('takes the first repetition when none is typed MR, unescaped and whole', () => {
    expect(mrnOf('PID|1||A\\T\\1&X^^^HOSP^AN~B2^^^HOSP^PI')).toBe('A&1&X');
  });

  it('falls back to PID-2, then PID-4, when PID-3 gives nothing', () => {
    expect(mrnOf('PID|1|OLD1^^^HOSP|""~^^^^MR')).toBe('OLD1');
    expect(mrnOf('PID|1|||ALT4^^^HOSP')).toBe('ALT4');
    expect(mrnOf('PID|1||   ')).toBeUndefined();
  });

  it('is undefined for a message without PID', () => {
    expect(mrnOf('EVN|A01|20240101120000')).toBeUndefined();
  });
});
