import { describe, expect, it } from 'vitest';

import {
  STANDARD_HL7_DELIMITERS,
  decodeHl7Bytes,
  escapeHl7,
  hl7ToJson,
  parseHl7,
  serializeHl7,
  splitHl7File,
  unescapeHl7,
} from '../../transforms/hl7/index.js';
import type { Hl7Message } from '../../transforms/hl7/index.js';

/*
 * One small input and its exact expected value per rule of docs/hl7-parser.md. The corpus,
 * split, charset, parse and property tests cover the same rules on real and generated files.
 */

const MSH = 'MSH|^~\\&|APP|FAC|RAPP|RFAC|20240101120000||ADT^A01^ADT_A01|CTRL1|P|2.5.1';

/** MSH with MSH-18 set to `charset`. */
function mshWith(charset: string): string {
  return `${MSH}||||||${charset}`;
}

function parsed(text: string): Hl7Message {
  const result = parseHl7(text, 0);
  if (!result.ok) {
    throw new Error(`Expected ok, got ${result.code}`);
  }
  return result.message;
}

describe('delimiters', () => {
  it('reads all five from MSH-1 and MSH-2, whatever they are', () => {
    const message = parsed(
      'MSH*%$!@?*A****20240101**ADT%A01*1*P*2.7\rPID*1**X1%%%H@1@ISO$X2**A!T!B!S!C\r',
    );
    expect(message.delimiters).toEqual({
      field: '*',
      component: '%',
      repetition: '$',
      escape: '!',
      subcomponent: '@',
      truncation: '?',
    });
    expect(message.get('MSH-1')).toBe('*');
    expect(message.get('MSH-2')).toBe('%$!@?');
    expect(message.get('MSH-9')).toBe('ADT%A01');
    expect(message.messageType).toBe('ADT^A01');
    expect(message.get('PID-3.4.2')).toBe('1');
    expect(message.get('PID-3[2]')).toBe('X2');
    expect(message.get('PID-5')).toBe('A@B%C');
  });

  it('counts MSH-1 as the separator and MSH-2 as the encoding characters', () => {
    const msh = parsed(`${MSH}\r`).segments[0];
    expect(msh.getFieldText(1)).toBe('|');
    expect(msh.getFieldText(2)).toBe('^~\\&');
    expect(msh.getFieldText(3)).toBe('APP');
    expect(msh.fieldCount).toBe(12);
    expect(hl7ToJson(parsed(`${MSH}\r`)).segments[0].fields['MSH-2']).toBe('^~\\&');
  });

  it('reads \\P\\ as the truncation character only when MSH-2 declares one', () => {
    expect(parsed('MSH|^~\\&#|A||||||ADT^A01|1|P|2.7\rNTE|1||a\\P\\b\r').get('NTE-3')).toBe('a#b');
    expect(parsed(`${MSH}\rNTE|1||a\\P\\b\r`).get('NTE-3')).toBe('a\\P\\b');
  });
});

describe('repetitions, components, subcomponents and nulls', () => {
  const message = parsed(`${MSH}\rPID|1||A^^^H&1.2&ISO^MR~""~^X&""||""|^""|\r`);

  it('reads each level by path', () => {
    expect(message.get('PID-3[1].4.3')).toBe('ISO');
    expect(message.get('PID-3[3].2.1')).toBe('X');
    expect(message.getRepetitions('PID-3.1')).toEqual(['A', null, '']);
    expect(message.segment('PID')?.repetitionCount(3)).toBe(3);
  });

  it('tells the explicit null "" from empty at every level', () => {
    expect(message.get('PID-3[2]')).toBeNull();
    expect(message.get('PID-3[3].2.2')).toBeNull();
    expect(message.get('PID-5')).toBeNull();
    expect(message.get('PID-6.2')).toBeNull();
    expect(message.get('PID-6.1')).toBe('');
    expect(message.get('PID-4')).toBe('');
    expect(message.get('PID-7')).toBe('');
    expect(message.get('PID-3[9].1')).toBe('');
  });

  it('writes a value of exactly "" so that it does not read as null', () => {
    const d = STANDARD_HL7_DELIMITERS;
    expect(escapeHl7('""', d)).toBe('\\X2222\\');
    const copy = parsed(`${MSH}\rPID|1\r`);
    copy.set('PID-5.1', '""');
    copy.set('PID-5.2', null);
    expect(serializeHl7(copy)).toBe(`${MSH}\rPID|1||||\\X2222\\^""\r`);
    expect(parsed(serializeHl7(copy)).get('PID-5.1')).toBe('""');
    expect(parsed(serializeHl7(copy)).get('PID-5.2')).toBeNull();
  });
});

describe('escape sequences', () => {
  const d = STANDARD_HL7_DELIMITERS;

  it('decodes \\X..\\ in the character set MSH-18 declares', () => {
    const at = (charset: string, value: string): string | null =>
      parsed(`${mshWith(charset)}\rNTE|1||${value}\r`).get('NTE-3');
    expect(at('UNICODE UTF-8', '\\XC3A9\\')).toBe('é');
    expect(at('UNICODE UTF-8', '\\XE282AC\\ \\XF09F9880\\')).toBe('€ 😀');
    expect(at('8859/1', '\\XE9\\')).toBe('é');
    expect(at('8859/5', '\\XD0\\')).toBe('а');
    expect(at('8859/15', '\\XA4\\')).toBe('€');
    expect(at('CP1252', '\\X80\\')).toBe('€');
  });

  it('joins adjacent \\X..\\ sequences, so a character split over two decodes', () => {
    expect(unescapeHl7('\\XE2\\\\X82AC\\', d, 'utf-8')).toBe('€');
    // Text between two sequences keeps them apart.
    expect(unescapeHl7('\\XC3\\x\\XA9\\', d)).toBe('Ãx©');
  });

  it('without MSH-18, reads \\X..\\ as UTF-8 when it is, else as windows-1252', () => {
    const at = (value: string): string | null => parsed(`${MSH}\rNTE|1||${value}\r`).get('NTE-3');
    expect(at('\\XC3A9\\')).toBe('é');
    expect(at('\\XE9\\')).toBe('é');
    expect(at('\\X93\\hi\\X94\\')).toBe('\u201chi\u201d');
  });

  it('rejects \\X..\\ bytes the declared set cannot decode, with the field', () => {
    expect(parseHl7(`${mshWith('UNICODE UTF-8')}\rPID|1||\\XE9\\\r`, 2)).toEqual({
      ok: false,
      code: 'HL7_BAD_ESCAPE',
      position: { messageIndex: 2, segmentIndex: 2, segmentName: 'PID', field: 'PID-3' },
    });
    expect(parseHl7(`${mshWith('8859/3')}\rPID|1|||\\XA5\\\r`, 0)).toMatchObject({
      code: 'HL7_BAD_ESCAPE',
      position: { field: 'PID-4' },
    });
    // A bad escape in MSH itself is found after MSH-2, which holds the escape character.
    expect(parseHl7(`MSH|^~\\&|\\X1\\||||||ADT^A01|1|P|2.5\r`, 0)).toMatchObject({
      code: 'HL7_BAD_ESCAPE',
      position: { field: 'MSH-3' },
    });
  });

  it('rejects an MSH-18 it cannot decode, as decodeHl7Bytes does', () => {
    expect(parseHl7(`${mshWith('UNICODE UTF-16')}\r`, 0)).toMatchObject({
      code: 'HL7_UNSUPPORTED_CHARSET',
      position: { field: 'MSH-18' },
    });
  });

  it('keeps \\Cxxyy\\ and \\Mxxyyzz\\ intact, and applies the formatting policy', () => {
    const message = parsed(
      `${MSH}\rNTE|1||\\C2842\\abc\\C2B42\\ \\M2442\\ \\M244230\\ \\.br\\x\\.sp 2\\y\\.ce\\\\H\\z\\N\\\r`,
    );
    expect(message.get('NTE-3')).toBe('\\C2842\\abc\\C2B42\\ \\M2442\\ \\M244230\\ \nx\n\nyz');
  });

  it('unescapes on read only; the raw text keeps the sequences', () => {
    const message = parsed(`${MSH}\rNTE|1||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\r`);
    expect(message.get('NTE-3')).toBe('a|b^c&d~e\\f');
    expect(message.segment('NTE')?.getFieldText(3)).toBe('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f');
    expect(serializeHl7(message)).toBe(`${MSH}\rNTE|1||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\r`);
  });
});

describe('segment terminators', () => {
  it('reads CR, LF, CRLF and mixtures in one message, and writes each back', () => {
    const text = `${MSH}\r\nEVN|A01\nPID|1||X\rPV1|1|I\r\n\r\nNTE|1\n`;
    const message = parsed(text);
    expect(message.segments.map((s) => [s.name, s.terminator])).toEqual([
      ['MSH', '\r\n'],
      ['EVN', '\n'],
      ['PID', '\r'],
      ['PV1', '\r\n\r\n'],
      ['NTE', '\n'],
    ]);
    expect(serializeHl7(message)).toBe(text);
  });

  it('keeps an LF inside a field of a CR-terminated message as data', () => {
    const message = parsed(`${MSH}\rNTE|1||line one\nline two\nPID is not a segment here\rPID|1\r`);
    expect(message.segments.map((s) => s.name)).toEqual(['MSH', 'NTE', 'PID']);
    expect(message.get('NTE-3')).toBe('line one\nline two\nPID is not a segment here');
  });

  it('takes off a UTF-8 byte order mark and MLLP framing before the message', () => {
    const body = `${MSH}\rPID|1||X\r`;
    const bytes = new Uint8Array([
      0xef,
      0xbb,
      0xbf,
      0x0b,
      ...new TextEncoder().encode(body),
      0x1c,
      0x0d,
    ]);
    const split = splitHl7File(bytes);
    expect(split.ok).toBe(true);
    const range = split.ok ? split.messages[0] : { start: 0, end: 0 };
    const decoded = decodeHl7Bytes(bytes.subarray(range.start, range.end), 0);
    expect(decoded.ok && decoded.text).toBe(body);
  });
});

describe('errors', () => {
  it('carry a stable code and a position, never a value', () => {
    const secret = 'SSN-123-45-6789';
    const cases = [
      `${MSH}\rPID|1||${secret}\\X4\\\r`,
      `${MSH}\rpid|${secret}\r`,
      `MSH|^~\\&|${secret}||||||^A01|1|P|2.5\r`,
      `${MSH}\rOBX|1|NM|C||${secret}\r`,
    ];
    for (const text of cases) {
      const result = parseHl7(text, 7);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.code).toMatch(/^HL7_[A-Z_]+$/);
        expect(result.position.messageIndex).toBe(7);
        expect(result.position.segmentIndex).toBeGreaterThan(0);
        expect(JSON.stringify(result)).not.toContain(secret.slice(0, 3));
      }
    }
  });
});

describe('reading API', () => {
  const message = parsed(
    `${MSH}\rPID|1||A1^^^H^MR~B2^^^S^SS||DOE^JANE\rOBX|1|NM|C1||5\rOBX|2|ST|C2||a\\T\\b\rOBX|3|NM|C3||7\r`,
  );

  it('iterates segments and finds them by id', () => {
    expect(message.segments.map((s) => `${s.index}:${s.name}`)).toEqual([
      '1:MSH',
      '2:PID',
      '3:OBX',
      '4:OBX',
      '5:OBX',
    ]);
    expect(message.segment('OBX')?.index).toBe(3);
    expect(message.segment('ZZZ')).toBeUndefined();
    expect(message.segmentsNamed('OBX').map((s) => s.get('OBX-5'))).toEqual(['5', 'a&b', '7']);
    expect(message.getAll('OBX-3')).toEqual(['C1', 'C2', 'C3']);
  });

  it('reads repetitions with helpers', () => {
    expect(message.getRepetitions('PID-3.1')).toEqual(['A1', 'B2']);
    expect(message.getRepetitions('PID-3.4')).toEqual(['H', 'S']);
    expect(message.getRepetitions('PID-13')).toEqual([]);
    const pid = message.segment('PID');
    expect(pid?.repetitions(3).map((r) => r.get(5))).toEqual(['MR', 'SS']);
    expect(() => message.getRepetitions('PID-3[2].1')).toThrow(RangeError);
  });

  it('throws a RangeError for a malformed path, quoting the path only', () => {
    expect(() => message.get('PID.3')).toThrow(/PID\.3/);
    expect(() => message.get('PID-0')).toThrow(RangeError);
  });
});
