import { describe, expect, it } from 'vitest';

import { decodeHl7Bytes } from '../../transforms/hl7/index.js';

/** An MSH with MSH-18 set, then a PID holding the given bytes. */
function message(charset: string, body: number[]): Uint8Array {
  const msh = `MSH|^~\\&|A|F|R|F|20240101||ADT^A01|1|P|2.5||||||${charset}\rPID|1||`;
  return new Uint8Array([...new TextEncoder().encode(msh), ...body, 0x0d]);
}

function decodedBody(result: ReturnType<typeof decodeHl7Bytes>): string {
  if (!result.ok) {
    throw new Error(`Expected ok, got ${result.code}`);
  }
  return result.text.slice(result.text.lastIndexOf('|') + 1, -1);
}

describe('decodeHl7Bytes', () => {
  it('decodes UTF-8 when MSH-18 is absent or says UTF-8', () => {
    const eAcute = [0xc3, 0xa9];
    for (const charset of ['', 'UNICODE UTF-8', 'UTF-8', 'ASCII']) {
      const result = decodeHl7Bytes(message(charset, eAcute));
      expect(decodedBody(result)).toBe('é');
      expect(result.ok && result.charset).toBe('utf-8');
    }
  });

  it('rejects invalid bytes under a declared UTF-8 with their offset', () => {
    const bytes = message('UNICODE UTF-8', [0x41, 0xe9, 0x42]);
    expect(decodeHl7Bytes(bytes, 4)).toEqual({
      ok: false,
      code: 'HL7_BAD_ENCODING',
      position: { messageIndex: 4, byteOffset: bytes.indexOf(0xe9) },
    });
  });

  it('falls back to windows-1252 when MSH-18 is absent and the bytes are not UTF-8', () => {
    const result = decodeHl7Bytes(message('', [0xe9, 0x41, 0x80, 0x92]));
    expect(decodedBody(result)).toBe('éA€\u2019');
    expect(result.ok && result.charset).toBe('windows-1252');
  });

  it('decodes ISO-8859-n by MSH-18, keeping C1 controls for 0x80-0x9F', () => {
    expect(decodedBody(decodeHl7Bytes(message('8859/1', [0xe9, 0x80])))).toBe('é\u0080');
    expect(decodedBody(decodeHl7Bytes(message('8859/2', [0xb1])))).toBe('ą');
    expect(decodedBody(decodeHl7Bytes(message('8859/5', [0xd0])))).toBe('а');
    expect(decodedBody(decodeHl7Bytes(message('8859/9', [0xd0, 0x80])))).toBe('Ğ\u0080');
    expect(decodedBody(decodeHl7Bytes(message('8859/15', [0xa4])))).toBe('€');
    const latin1 = decodeHl7Bytes(message('8859/1~UNICODE UTF-8', [0xe9]));
    expect(latin1.ok && latin1.charset).toBe('iso-8859-1');
  });

  it('decodes windows-1252 where declared', () => {
    const result = decodeHl7Bytes(message('CP1252', [0x93, 0x61, 0x94]));
    expect(decodedBody(result)).toBe('\u201ca\u201d');
  });

  it('rejects a character set it cannot decode, at MSH-18', () => {
    expect(decodeHl7Bytes(message('UNICODE UTF-16', []), 2)).toEqual({
      ok: false,
      code: 'HL7_UNSUPPORTED_CHARSET',
      position: { messageIndex: 2, segmentIndex: 1, segmentName: 'MSH', field: 'MSH-18' },
    });
  });

  it('rejects bytes a declared ISO-8859 part leaves undefined', () => {
    const result = decodeHl7Bytes(message('8859/3', [0xa5]));
    expect(result.ok === false && result.code).toBe('HL7_BAD_ENCODING');
  });

  it('drops a byte order mark', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...message('', [0x41])]);
    const result = decodeHl7Bytes(bytes);
    expect(result.ok && result.text.startsWith('MSH|')).toBe(true);
  });
});
