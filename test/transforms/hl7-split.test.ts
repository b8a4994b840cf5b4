import { describe, expect, it } from 'vitest';

import { splitHl7File } from '../../transforms/hl7/index.js';
import type { Hl7SplitResult } from '../../transforms/hl7/index.js';

const MSH_A = 'MSH|^~\\&|A|F|R|F|20240101||ADT^A01|1|P|2.5';
const MSH_B = 'MSH|^~\\&|B|F|R|F|20240101||ADT^A08|2|P|2.5';

function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The text of each message range, decoded. */
function messagesOf(bytes: Uint8Array, result: Hl7SplitResult): string[] {
  if (!result.ok) {
    throw new Error(`Expected ok, got ${result.code}`);
  }
  return result.messages.map((range) =>
    new TextDecoder().decode(bytes.subarray(range.start, range.end)),
  );
}

function split(text: string): string[] {
  const bytes = bytesOf(text);
  return messagesOf(bytes, splitHl7File(bytes));
}

describe('splitHl7File', () => {
  it('splits CR-terminated messages', () => {
    expect(split(`${MSH_A}\rPID|1\r${MSH_B}\rPID|2\r`)).toEqual([
      `${MSH_A}\rPID|1\r`,
      `${MSH_B}\rPID|2\r`,
    ]);
  });

  it('splits LF and CRLF messages, keeping blank lines with the message before', () => {
    expect(split(`${MSH_A}\nPID|1\n\n${MSH_B}\r\nPID|2\r\n`)).toEqual([
      `${MSH_A}\nPID|1\n\n`,
      `${MSH_B}\r\nPID|2\r\n`,
    ]);
  });

  it('keeps a bare LF inside a field of a CR message as data', () => {
    expect(split(`${MSH_A}\rNTE|1||line one\nline two\rPID|1\r`)).toEqual([
      `${MSH_A}\rNTE|1||line one\nline two\rPID|1\r`,
    ]);
  });

  it('starts a message at MSH after a bare LF in a mixed CR/LF file', () => {
    expect(split(`${MSH_A}\rPID|1\n${MSH_B}\rPID|2\n`)).toEqual([
      `${MSH_A}\rPID|1\n`,
      `${MSH_B}\rPID|2\n`,
    ]);
  });

  it('strips a UTF-8 byte order mark from the first range', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...bytesOf(`${MSH_A}\rPID|1\r`)]);
    const result = splitHl7File(bytes);
    expect(result.ok && result.messages).toEqual([{ start: 3, end: bytes.length }]);
  });

  it('splits several MLLP frames and leaves the framing bytes out', () => {
    const frame = (text: string): string => `\x0b${text}\x1c\r`;
    const text = frame(`${MSH_A}\rPID|1\r`) + frame(`${MSH_B}\rPID|2\r`);
    const bytes = bytesOf(text);
    const result = splitHl7File(bytes);
    expect(messagesOf(bytes, result)).toEqual([`${MSH_A}\rPID|1\r`, `${MSH_B}\rPID|2\r`]);
    expect(result.ok && result.messages[0]).toEqual({ start: 1, end: 1 + MSH_A.length + 7 });
  });

  it('reads an FHS/BHS envelope and leaves its segments out', () => {
    const text = `FHS|^~\\&|A\rBHS|^~\\&|A\r${MSH_A}\rPID|1\r${MSH_B}\rPID|2\rBTS|2\rFTS|1\r`;
    const bytes = bytesOf(text);
    const result = splitHl7File(bytes);
    expect(messagesOf(bytes, result)).toEqual([`${MSH_A}\rPID|1\r`, `${MSH_B}\rPID|2\r`]);
    expect(result.ok && result.envelope).toEqual({
      fileHeader: true,
      batchHeader: true,
      batchCount: 2,
      fileBatchCount: 1,
    });
  });

  it('accepts an envelope whose trailers are missing and says which', () => {
    const cut = `FHS|^~\\&|A\rBHS|^~\\&|A\r${MSH_A}\rPID|1\r${MSH_B}\rPID`;
    const result = splitHl7File(bytesOf(cut));
    expect(result.ok && result.envelope).toEqual({
      fileHeader: true,
      batchHeader: true,
      trailersMissing: ['BTS', 'FTS'],
    });
    const noFileTrailer = splitHl7File(bytesOf(`FHS|^~\\&|A\r${MSH_A}\rPID|1\r`));
    expect(noFileTrailer.ok && noFileTrailer.envelope.trailersMissing).toEqual(['FTS']);
    const plain = splitHl7File(bytesOf(`${MSH_A}\rPID|1\r`));
    expect(plain.ok && plain.envelope.trailersMissing).toBeUndefined();
  });

  it('rejects a BTS-1 count that disagrees with the batch', () => {
    const text = `BHS|^~\\&|A\r${MSH_A}\rPID|1\rBTS|3\r`;
    expect(splitHl7File(bytesOf(text))).toEqual({
      ok: false,
      code: 'HL7_BATCH_COUNT_MISMATCH',
      position: { byteOffset: text.indexOf('BTS'), segmentName: 'BTS', field: 'BTS-1' },
    });
  });

  it('rejects an FTS-1 count that disagrees with the batches', () => {
    const text = `FHS|^~\\&\rBHS|^~\\&\r${MSH_A}\rBTS|1\rBHS|^~\\&\r${MSH_B}\rBTS|1\rFTS|3\r`;
    const result = splitHl7File(bytesOf(text));
    expect(result.ok === false && result.code).toBe('HL7_BATCH_COUNT_MISMATCH');
    expect(result.ok === false && result.position.field).toBe('FTS-1');
  });

  it('records a count mismatch when the feed accepts it', () => {
    const text = `BHS|^~\\&|A\r${MSH_A}\rPID|1\rBTS|3\r`;
    const result = splitHl7File(bytesOf(text), { acceptCountMismatch: true });
    expect(result.ok && result.countMismatch).toEqual({ field: 'BTS-1', declared: 3, found: 1 });
    expect(result.ok && result.messages.length).toBe(1);
  });

  it('rejects envelope segments out of order', () => {
    expect(splitHl7File(bytesOf(`${MSH_A}\rFHS|^~\\&\r`)).ok === false).toBe(true);
    const afterTrailer = splitHl7File(bytesOf(`FHS|^~\\&\r${MSH_A}\rFTS|1\r${MSH_B}\r`));
    expect(afterTrailer.ok === false && afterTrailer.code).toBe('HL7_BAD_BATCH_ENVELOPE');
    const notNumber = splitHl7File(bytesOf(`BHS|^~\\&\r${MSH_A}\rBTS|two\r`));
    expect(notNumber.ok === false && notNumber.code).toBe('HL7_BAD_BATCH_ENVELOPE');
  });

  it('rejects text before the first MSH with its byte offset', () => {
    expect(splitHl7File(bytesOf(`EVN|A01\r${MSH_A}\r`))).toEqual({
      ok: false,
      code: 'HL7_BAD_SEGMENT',
      position: { byteOffset: 0, segmentName: 'EVN' },
    });
  });

  it('rejects empty and blank files and files without MSH', () => {
    expect(splitHl7File(new Uint8Array())).toEqual({ ok: false, code: 'FILE_EMPTY', position: {} });
    expect(splitHl7File(bytesOf(' \r\n\x0b\x1c\r')).ok === false).toBe(true);
    expect(splitHl7File(bytesOf('PID|1\rOBX|1\r'))).toEqual({
      ok: false,
      code: 'HL7_MISSING_MSH',
      position: {},
    });
  });

  it('takes the field separator a message declares', () => {
    expect(split('MSH#^~\\&#A\nPID#1\nMSH|^~\\&|B\nPID|2\n')).toEqual([
      'MSH#^~\\&#A\nPID#1\n',
      'MSH|^~\\&|B\nPID|2\n',
    ]);
    // A BTS written with the batch's own separator is the trailer, not part of the message.
    const bytes = bytesOf('BHS#^~\\&\nMSH#^~\\&#A\nPID#1\nBTS#1\n');
    expect(messagesOf(bytes, splitHl7File(bytes))).toEqual(['MSH#^~\\&#A\nPID#1\n']);
  });
});
