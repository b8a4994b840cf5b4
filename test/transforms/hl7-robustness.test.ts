import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  decodeHl7Bytes,
  deidentifyHl7ToJson,
  parseHl7,
  serializeHl7,
  splitHl7File,
} from '../../transforms/hl7/index.js';

const ctx = { pseudonymKey: new Uint8Array(16) };

// Pieces that exercise every branch: delimiters, escapes, terminators, framing, envelope ids.
const PIECES = [
  'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5',
  'MSH#^~\\&#',
  'PID|1||X^^^H^MR~Y||DOE^J||19800102|||1 St^^C^MA^02139',
  'OBX|1|NM|C||',
  'NK1|1|N^M||A^B^C^D^12345',
  'FHS|^~\\&',
  'BHS|^~\\&',
  'BTS|1',
  'FTS|1',
  '\\X',
  '\\XC3\\',
  '\\E\\',
  '\\.sp9\\',
  '""',
  '^',
  '~',
  '&',
  '|',
  '\r',
  '\n',
  '\r\n',
  '\x0b',
  '\x1c\r',
  ' ',
  'é',
  'abc',
];

/** Runs the whole chain the worker runs; returns the codes seen. */
function runChain(bytes: Uint8Array): string[] {
  const split = splitHl7File(bytes, { acceptCountMismatch: true });
  if (!split.ok) {
    return [split.code];
  }
  return split.messages.map((range, messageIndex) => {
    const decoded = decodeHl7Bytes(bytes.subarray(range.start, range.end), messageIndex);
    if (!decoded.ok) {
      return decoded.code;
    }
    const parsed = parseHl7(decoded.text, messageIndex);
    if (!parsed.ok) {
      return parsed.code;
    }
    expect(serializeHl7(parsed.message)).toBe(decoded.text);
    JSON.stringify(deidentifyHl7ToJson(parsed.message, ctx));
    return 'ok';
  });
}

describe('HL7 transforms on arbitrary input', () => {
  it('never throw on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        expect(() => runChain(bytes)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it('never throw on HL7-like text, and round-trip what parses', () => {
    const text = fc
      .array(fc.constantFrom(...PIECES), { maxLength: 60 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (value) => {
        expect(() => runChain(new TextEncoder().encode(value))).not.toThrow();
      }),
      { numRuns: 1000 },
    );
  });
});
