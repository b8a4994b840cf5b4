import { describe, expect, it } from 'vitest';

import {
  STANDARD_HL7_DELIMITERS,
  STANDARD_REQUIRED_MSH_FIELDS,
  escapeHl7,
  parseHl7,
  serializeHl7,
  unescapeHl7,
} from '../../transforms/hl7/index.js';
import type { Hl7Message } from '../../transforms/hl7/index.js';

const MSH = 'MSH|^~\\&|APP|FAC|RAPP|RFAC|20240101120000||ADT^A01^ADT_A01|CTRL1|P|2.5.1';

function parsed(text: string): Hl7Message {
  const result = parseHl7(text, 0);
  if (!result.ok) {
    throw new Error(`Expected ok, got ${result.code}`);
  }
  return result.message;
}

describe('parseHl7', () => {
  it('reads message type, version and segments', () => {
    const message = parsed(`${MSH}\rEVN|A01\rPID|1||MRN1\r`);
    expect(message.messageType).toBe('ADT^A01');
    expect(message.version).toBe('2.5.1');
    expect(message.segments.map((s) => [s.name, s.index])).toEqual([
      ['MSH', 1],
      ['EVN', 2],
      ['PID', 3],
    ]);
    expect(parsed('MSH|^~\\&|A||||||ACK|1|P|2.5\rMSA|AA|1\r').messageType).toBe('ACK');
  });

  it('counts MSH-1 and MSH-2 as the standard does', () => {
    const message = parsed(`${MSH}\r`);
    expect(message.get('MSH-1')).toBe('|');
    expect(message.get('MSH-2')).toBe('^~\\&');
    expect(message.get('MSH-3')).toBe('APP');
    expect(message.get('MSH-10')).toBe('CTRL1');
  });

  it('reads fields, repetitions, components and subcomponents by path', () => {
    const message = parsed(`${MSH}\rPID|1||A1^^^H&1.2&ISO^MR~B2^^^S^SS||DOE^JANE^Q\r`);
    expect(message.get('PID-3')).toBe('A1^^^H&1.2&ISO^MR');
    expect(message.get('PID-3.1')).toBe('A1');
    expect(message.get('PID-3[2].1')).toBe('B2');
    expect(message.get('PID-3[2]')).toBe('B2^^^S^SS');
    expect(message.get('PID-3.4.2')).toBe('1.2');
    expect(message.get('PID-5.2')).toBe('JANE');
    expect(message.get('PID-3[3].1')).toBe('');
    expect(message.get('PID-40')).toBe('');
    expect(message.get('ZZZ-1')).toBe('');
    expect(message.getAll('PID-1')).toEqual(['1']);
  });

  it('tells the explicit null from an empty field', () => {
    const message = parsed(`${MSH}\rPID|1||""||""^X\r`);
    expect(message.get('PID-3')).toBeNull();
    expect(message.get('PID-4')).toBe('');
    expect(message.get('PID-5.1')).toBeNull();
    expect(message.get('PID-5.2')).toBe('X');
  });

  it('reads custom delimiters, including # as field separator', () => {
    const message = parsed('MSH#^~\\&#APP#FAC#####ORU^R01#7#P#2.5\rOBX#1#ST#C^Code##a|b^c\r');
    expect(message.delimiters.field).toBe('#');
    expect(message.get('MSH-10')).toBe('7');
    expect(message.get('OBX-5')).toBe('a|b^c');
    expect(message.get('OBX-5.2')).toBe('c');
    const odd = parsed('MSH|$%@*|A||||||ADT$A01|1|P|2.5\rPID|1||X1$$$H%X2\r');
    expect(odd.messageType).toBe('ADT^A01');
    expect(odd.get('PID-3[2]')).toBe('X2');
  });

  it('reads the v2.7 truncation character from MSH-2', () => {
    const message = parsed('MSH|^~\\&#|A||||||ORU^R01|1|P|2.7\rNTE|1||a\\P\\b\r');
    expect(message.delimiters.truncation).toBe('#');
    expect(message.get('MSH-2')).toBe('^~\\&#');
    expect(message.get('NTE-3')).toBe('a#b');
  });

  it('reads MSH-2 written with a doubled escape as the standard characters', () => {
    const message = parsed('MSH|^~\\\\&|A||||||ADT^A01|1|P|2.6\rPID|1||X^^^H&1&ISO\r');
    expect(message.delimiters.subcomponent).toBe('&');
    expect(message.get('PID-3.4.2')).toBe('1');
    expect(message.get('MSH-2')).toBe('^~\\\\&');
  });

  it('rejects unusable delimiters', () => {
    for (const text of ['MSH|', 'MSH|0000|A', 'MSH|^|A', 'MSH|^~\\^|A', 'MSHA^~\\&|A']) {
      const result = parseHl7(text, 3);
      expect(result.ok === false && result.code).toBe('HL7_BAD_DELIMITERS');
      expect(result.ok === false && result.position.messageIndex).toBe(3);
    }
  });

  it('rejects text that does not start with MSH', () => {
    expect(parseHl7('PID|1\r', 0)).toEqual({
      ok: false,
      code: 'HL7_MISSING_MSH',
      position: { messageIndex: 0, segmentIndex: 1 },
    });
  });

  it('rejects a bad segment id with its index', () => {
    expect(parseHl7(`${MSH}\rPID|1\rpv1|1\r`, 5)).toEqual({
      ok: false,
      code: 'HL7_BAD_SEGMENT',
      position: { messageIndex: 5, segmentIndex: 3 },
    });
    const second = parseHl7(`${MSH}\r${MSH}\r`, 0);
    expect(second.ok === false && second.position).toEqual({
      messageIndex: 0,
      segmentIndex: 2,
      segmentName: 'MSH',
    });
  });

  it('continues a segment over an LF line that does not start a segment', () => {
    const message = parsed(`${MSH}\nOBR|1||54089-8^Newborn\npanel AHIC^LN|||2019\nOBX|1\n`);
    expect(message.segments.map((s) => s.name)).toEqual(['MSH', 'OBR', 'OBX']);
    expect(message.get('OBR-3.2')).toBe('Newborn\npanel AHIC');
    expect(message.get('OBR-6')).toBe('2019');
  });

  it('requires MSH-9 and MSH-12, and more when the feed asks', () => {
    const noType = parseHl7('MSH|^~\\&|A||||||^A01|1|P|2.5\r', 0);
    expect(noType.ok === false && noType.code).toBe('HL7_MISSING_MESSAGE_TYPE');
    expect(noType.ok === false && noType.position.field).toBe('MSH-9');

    const noVersion = parseHl7('MSH|^~\\&|A||||||ADT^A01|1|P|\r', 0);
    expect(noVersion.ok === false && noVersion.position).toEqual({
      messageIndex: 0,
      segmentIndex: 1,
      segmentName: 'MSH',
      field: 'MSH-12',
    });

    const noControlId = 'MSH|^~\\&|A||||20240101||ADT^A01||P|2.5\r';
    const missingId = parseHl7(noControlId, 0);
    expect(missingId.ok === false && missingId.code).toBe('HL7_MISSING_FIELD');
    expect(missingId.ok === false && missingId.position.field).toBe('MSH-10');

    const noProcessingId = 'MSH|^~\\&|A||||20240101||ADT^A01|7||2.5\r';
    expect(parseHl7(noProcessingId, 0).ok).toBe(true);
    const strict = parseHl7(noProcessingId, 0, { requiredMshFields: STANDARD_REQUIRED_MSH_FIELDS });
    expect(strict.ok === false && strict.code).toBe('HL7_MISSING_FIELD');
    expect(strict.ok === false && strict.position.field).toBe('MSH-11');
  });

  it('checks OBX-5 against OBX-2 for NM and date types', () => {
    const obx = (type: string, value: string): string => `${MSH}\rOBX|1|${type}|C||${value}\r`;
    for (const value of ['12', '-0.5', '<0.5', '>= 10', '3~4', '', '""']) {
      expect(parseHl7(obx('NM', value), 0).ok).toBe(true);
    }
    expect(parseHl7(obx('NM', 'NOVALUE'), 0)).toEqual({
      ok: false,
      code: 'HL7_BAD_DATATYPE',
      position: { messageIndex: 0, segmentIndex: 2, segmentName: 'OBX', field: 'OBX-5' },
    });
    expect(parseHl7(obx('DT', '20240229'), 0).ok).toBe(true);
    expect(parseHl7(obx('DT', '20230229'), 0).ok).toBe(false);
    expect(parseHl7(obx('DTM', '202402211218-0500'), 0).ok).toBe(true);
    expect(parseHl7(obx('DTM', '2024022125'), 0).ok).toBe(false);
    expect(parseHl7(obx('TS', '20150818060605.1234-0500^S'), 0).ok).toBe(true);
    expect(parseHl7(obx('ST', 'anything'), 0).ok).toBe(true);
  });

  it('never throws on arbitrary text', () => {
    const samples = ['', 'M', 'MSH', 'MSH|', 'MSH|^~\\&', `${MSH}\r\r\r`, `${MSH}|\\X\\|\\\\|`];
    for (const text of samples) {
      expect(() => parseHl7(text, 0)).not.toThrow();
    }
  });
});

describe('escape sequences', () => {
  const d = STANDARD_HL7_DELIMITERS;

  it('decodes delimiter escapes', () => {
    expect(unescapeHl7('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f', d)).toBe('a|b^c&d~e\\f');
  });

  it('decodes hex as UTF-8, joining adjacent sequences', () => {
    expect(unescapeHl7('\\XC3A9\\', d)).toBe('é');
    expect(unescapeHl7('\\XE2\\\\X82\\\\XAC\\ \\XF09F9880\\', d)).toBe('€ 😀');
    expect(unescapeHl7('\\X0D\\\\X0A\\', d)).toBe('\r\n');
  });

  it('applies the formatting command policy', () => {
    expect(unescapeHl7('a\\.br\\b\\.sp\\c\\.sp3\\d', d)).toBe('a\nb\nc\n\n\nd');
    expect(unescapeHl7('\\.in+4\\\\.ti-2\\\\.sk 2\\\\.ce\\\\.fi\\\\.nf\\x', d)).toBe('x');
    expect(unescapeHl7('\\H\\bold\\N\\', d)).toBe('bold');
  });

  it('keeps character set and local escapes as written', () => {
    expect(unescapeHl7('\\C2842\\x\\M2442\\\\ZLOCAL\\', d)).toBe('\\C2842\\x\\M2442\\\\ZLOCAL\\');
  });

  it('keeps stray escape characters as text', () => {
    expect(unescapeHl7('C:\\temp\\E\\x', d)).toBe('C:\\temp\\x');
    expect(unescapeHl7('trailing\\', d)).toBe('trailing\\');
  });

  it('rejects a message with a bad hex escape', () => {
    expect(parseHl7(`${MSH}\rNTE|1||\\X4\\\r`, 0)).toEqual({
      ok: false,
      code: 'HL7_BAD_ESCAPE',
      position: { messageIndex: 0, segmentIndex: 2, segmentName: 'NTE', field: 'NTE-3' },
    });
    // A lone UTF-8 lead byte under a declared UTF-8 does not decode.
    const utf8 = `${MSH}||||||UNICODE UTF-8\rNTE|1||\\XC3\\\r`;
    expect(parseHl7(utf8, 0)).toEqual({
      ok: false,
      code: 'HL7_BAD_ESCAPE',
      position: { messageIndex: 0, segmentIndex: 2, segmentName: 'NTE', field: 'NTE-3' },
    });
  });

  it('escapes values so they read back unchanged', () => {
    const value = 'x|y^z&w~v\\u\nq';
    expect(escapeHl7(value, d)).toBe('x\\F\\y\\S\\z\\T\\w\\R\\v\\E\\u\\X0A\\q');
    expect(unescapeHl7(escapeHl7(value, d), d)).toBe(value);
  });
});

describe('Hl7Message.set and serializeHl7', () => {
  it('serialises an unmodified message byte for byte', () => {
    const text = `${MSH}\r\nPID|1||X\\S\\Y\nNTE|1\n\n`;
    expect(serializeHl7(parsed(text))).toBe(text);
  });

  it('replaces a field, a repetition, a component and a subcomponent', () => {
    const message = parsed(`${MSH}\rPID|1||A1^^^H^MR~B2^^^S^SS||DOE^JANE||19800102\r`);
    message.set('PID-5', 'ANON');
    message.set('PID-3[2]', 'GONE');
    message.set('PID-3.1', 'P1');
    message.set('PID-3.4.2', 'OID');
    message.set('PID-7', null);
    expect(serializeHl7(message)).toBe(`${MSH}\rPID|1||P1^^^H&OID^MR~GONE||ANON||""\r`);
    expect(message.modified).toBe(true);
    expect(message.segments[0].modified).toBe(false);
  });

  it('escapes delimiters in new values and trims trailing empty parts', () => {
    const message = parsed(`${MSH}\rPID|1||A^B^C\r`);
    message.set('PID-3.3', '');
    message.set('PID-4.2', 'x|y');
    expect(serializeHl7(message)).toBe(`${MSH}\rPID|1||A^B|^x\\F\\y\r`);
    expect(message.get('PID-4.2')).toBe('x|y');
  });

  it('sets MSH fields after MSH-2', () => {
    const message = parsed(`${MSH}\r`);
    message.set('MSH-10', 'NEW');
    expect(serializeHl7(message)).toBe(`${MSH.replace('CTRL1', 'NEW')}\r`);
  });
});
