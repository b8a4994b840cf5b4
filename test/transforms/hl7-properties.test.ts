import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  decodeHl7Bytes,
  escapeHl7,
  isHl7Number,
  parseHl7,
  serializeHl7,
  splitHl7File,
} from '../../transforms/hl7/index.js';
import type { Hl7Delimiters, Hl7Message } from '../../transforms/hl7/index.js';
import {
  SegmentScanner,
  byteUnits,
  nextSegment,
  textUnits,
} from '../../transforms/hl7/segment-breaks.js';
import { canonicalField, fieldParts, fieldToJson } from '../../transforms/hl7/to-json.js';

/*
 * Property tests of the parser's core promises:
 * - serialise(parse(x)) === x for generated messages with random delimiters (any five distinct
 *   printable non-alphanumeric characters, the fifth being the v2.7 truncation character),
 *   random escape sequences, repetitions, components, subcomponents, explicit nulls and
 *   terminators; the same messages split from a file and decoded give the same text back;
 * - parse(serialise(build(values))) reads back every value via `get`, whether the message was
 *   written as text with `escapeHl7` or with `Hl7Message.set`;
 * - the fast segment scanner finds the same segments as the reference rule;
 * - the hand-written NM check agrees with its regular expression.
 */

const PRINTABLE_NON_ALPHANUMERIC = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'];

/** Five distinct delimiter characters; the truncation character is declared half the time. */
const delimitersArbitrary = (exclude: readonly string[] = []): fc.Arbitrary<Hl7Delimiters> =>
  fc
    .tuple(
      fc.shuffledSubarray(
        PRINTABLE_NON_ALPHANUMERIC.filter((c) => !exclude.includes(c)),
        { minLength: 6, maxLength: 6 },
      ),
      fc.boolean(),
    )
    .map(([chars, truncation]) => ({
      field: chars[0],
      component: chars[1],
      repetition: chars[2],
      escape: chars[3],
      subcomponent: chars[4],
      ...(truncation ? { truncation: chars[5] } : {}),
    }));

function mshText(d: Hl7Delimiters): string {
  const encoding = d.component + d.repetition + d.escape + d.subcomponent + (d.truncation ?? '');
  const f = d.field;
  return `MSH${f}${encoding}${f}APP${f}FAC${f}${f}${f}20240301${f}${f}ADT${d.component}A01${f}CTRL1${f}P${f}2${d.component}5`;
}

/** Characters for raw text: letters, digits, spaces, non-ASCII, and printable punctuation. */
const TEXT_CHARS = ['a', 'Z', '0', '9', ' ', 'é', '€', '😀', '中', ...PRINTABLE_NON_ALPHANUMERIC];

/** One piece of raw field text under delimiters `d`: plain text, an escape sequence, or a null. */
function rawPiece(d: Hl7Delimiters): fc.Arbitrary<string> {
  const e = d.escape;
  const structural = new Set([d.field, d.component, d.repetition, d.subcomponent, e]);
  const plain = fc
    .array(fc.constantFrom(...TEXT_CHARS.filter((c) => !structural.has(c))), { maxLength: 6 })
    .map((chars) => chars.join(''));
  const hexOf = (text: string): string =>
    [...new TextEncoder().encode(text)]
      .map((b) => b.toString(16).toUpperCase().padStart(2, '0'))
      .join('');
  const escapes = fc.oneof(
    fc.constantFrom(
      'F',
      'S',
      'T',
      'R',
      'E',
      'P',
      'H',
      'N',
      '.br',
      '.sp2',
      '.in+4',
      'C2842',
      'M244242',
      'Zlocal',
    ),
    fc.constantFrom('é', '€', '😀', '\r', '\n', 'a|b').map((text) => `X${hexOf(text)}`),
  );
  return fc.oneof(
    { weight: 4, arbitrary: plain },
    { weight: 2, arbitrary: escapes.map((code) => e + code + e) },
    { weight: 1, arbitrary: fc.constant('""') },
    { weight: 1, arbitrary: fc.constant(e) },
    // A truncation character in data (v2.7 writes it as \P\, older senders do not).
    { weight: 1, arbitrary: fc.constant(d.truncation ?? '') },
  );
}

/** A raw field: repetitions of components of subcomponents, each a run of pieces. */
function rawField(d: Hl7Delimiters): fc.Arbitrary<string> {
  const leaf = fc.array(rawPiece(d), { maxLength: 3 }).map((pieces) => pieces.join(''));
  const join = (separator: string, max: number) => (part: fc.Arbitrary<string>) =>
    fc.array(part, { minLength: 1, maxLength: max }).map((parts) => parts.join(separator));
  return join(d.repetition, 3)(join(d.component, 4)(join(d.subcomponent, 3)(leaf)));
}

/** A whole message text under random delimiters, with random terminators. */
const messageArbitrary = delimitersArbitrary().chain((d) => {
  const segment = fc
    .tuple(
      fc.constantFrom('PID', 'NTE', 'ZXY', 'PV1', 'Z01', 'EVN'),
      fc.array(rawField(d), { maxLength: 8 }),
    )
    .map(([name, fields]) => [name, ...fields].join(d.field));
  const terminator = fc.constantFrom('\r', '\n', '\r\n');
  return fc
    .tuple(
      fc.array(fc.tuple(segment, terminator), { maxLength: 8 }),
      terminator,
      fc.constantFrom('\r', '\n', '\r\n', ''),
    )
    .map(([segments, afterMsh, last]) => {
      let text = mshText(d);
      let terminatorAfter = afterMsh;
      for (const [body, terminatorNext] of segments) {
        text += terminatorAfter + body;
        terminatorAfter = terminatorNext;
      }
      return { d, text: text + last };
    });
});

function parsedOk(text: string): Hl7Message {
  const result = parseHl7(text, 0);
  if (!result.ok) {
    throw new Error(`Expected ok, got ${result.code} at ${JSON.stringify(result.position)}`);
  }
  return result.message;
}

describe('serialise(parse(x)) === x', () => {
  it('for generated messages with random delimiters, escapes, nulls and terminators', () => {
    fc.assert(
      fc.property(messageArbitrary, ({ d, text }) => {
        const message = parsedOk(text);
        expect(message.delimiters).toEqual(d);
        expect(serializeHl7(message)).toBe(text);
        // Reading every field must not change what is written back.
        for (const segment of message.segments) {
          for (let field = 1; field <= segment.fieldCount; field++) {
            segment.getValue(field, 1, 1, 1);
            segment.getValue(field, 2);
          }
        }
        expect(serializeHl7(message)).toBe(text);
      }),
      { numRuns: 400 },
    );
  });

  it('for the same messages split out of a UTF-8 file and decoded', () => {
    const file = fc.array(messageArbitrary, { minLength: 1, maxLength: 4 }).map((messages) =>
      // Each message ends with a terminator in a file, or the next MSH would join its last line.
      messages.map(({ text }) => (/[\r\n]$/.test(text) ? text : `${text}\r`)),
    );
    fc.assert(
      fc.property(file, (texts) => {
        const bytes = new TextEncoder().encode(texts.join(''));
        const split = splitHl7File(bytes);
        expect(split.ok).toBe(true);
        if (!split.ok) {
          return;
        }
        const decoded = split.messages.map((range, index) => {
          const result = decodeHl7Bytes(bytes.subarray(range.start, range.end), index);
          return result.ok ? result.text : result.code;
        });
        expect(decoded).toEqual(texts);
        for (const text of decoded) {
          expect(serializeHl7(parsedOk(text))).toBe(text);
        }
      }),
      { numRuns: 200 },
    );
  });
});

/** Values to write: fields of repetitions of components of subcomponents; `null` is `""`. */
type Leaf = string | null;
type Values = Leaf[][][][];

// `"` as a delimiter would make the explicit null `""` ambiguous, so it is left out here.
const valueDelimiters = delimitersArbitrary(['"']);
const leafArbitrary: fc.Arbitrary<Leaf> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.constantFrom('\r', '\n', 'x', ' ', ...PRINTABLE_NON_ALPHANUMERIC),
      maxLength: 6,
    }),
  },
  { weight: 1, arbitrary: fc.constant('""') },
  { weight: 1, arbitrary: fc.constant(null) },
);
const valuesArbitrary: fc.Arbitrary<Values> = fc.array(
  fc.array(
    fc.array(fc.array(leafArbitrary, { minLength: 1, maxLength: 3 }), {
      minLength: 1,
      maxLength: 4,
    }),
    { minLength: 1, maxLength: 3 },
  ),
  { minLength: 1, maxLength: 6 },
);

function build(d: Hl7Delimiters, values: Values): string {
  const fields = values.map((repetitions) =>
    repetitions
      .map((components) =>
        components
          .map((subcomponents) =>
            subcomponents
              .map((leaf) => (leaf === null ? '""' : escapeHl7(leaf, d)))
              .join(d.subcomponent),
          )
          .join(d.component),
      )
      .join(d.repetition),
  );
  return `${mshText(d)}\rZVL${d.field}${fields.join(d.field)}\r`;
}

function expectValuesRead(message: Hl7Message, values: Values): void {
  values.forEach((repetitions, f) => {
    repetitions.forEach((components, r) => {
      components.forEach((subcomponents, c) => {
        subcomponents.forEach((leaf, s) => {
          const path = `ZVL-${f + 1}[${r + 1}].${c + 1}.${s + 1}`;
          expect(message.get(path), path).toBe(leaf);
        });
      });
    });
  });
}

describe('parse(serialise(build(values))) reads back the values', () => {
  it('when the message is written as text with escapeHl7', () => {
    fc.assert(
      fc.property(valueDelimiters, valuesArbitrary, (d, values) => {
        const text = build(d, values);
        const message = parsedOk(text);
        expectValuesRead(message, values);
        expectValuesRead(parsedOk(serializeHl7(message)), values);
      }),
      { numRuns: 300 },
    );
  });

  it('when the values are written with Hl7Message.set', () => {
    fc.assert(
      fc.property(valueDelimiters, valuesArbitrary, (d, values) => {
        const message = parsedOk(`${mshText(d)}\rZVL${d.field}\r`);
        values.forEach((repetitions, f) =>
          repetitions.forEach((components, r) =>
            components.forEach((subcomponents, c) =>
              subcomponents.forEach((leaf, s) => {
                message.set(`ZVL-${f + 1}[${r + 1}].${c + 1}.${s + 1}`, leaf);
              }),
            ),
          ),
        );
        expectValuesRead(message, values);
        expectValuesRead(parsedOk(serializeHl7(message)), values);
      }),
      { numRuns: 300 },
    );
  });
});

describe('SegmentScanner', () => {
  const pieces = [
    'MSH|',
    'PID|',
    'PID',
    'ab',
    '|',
    '#',
    '\r',
    '\n',
    '\r\n',
    ' ',
    '\t',
    '\x0b',
    '\x1c',
  ];
  const input = fc
    .array(fc.constantFrom(...pieces), { maxLength: 40 })
    .map((parts) => parts.join(''));

  it('finds the same segments as the reference rule, in text and in bytes', () => {
    fc.assert(
      fc.property(input, fc.constantFrom(0x7c, 0x23), (text, separator) => {
        const bytes = new TextEncoder().encode(text);
        const hardStops = [0x0b, 0x1c];
        const cases: Array<[SegmentScanner, ReturnType<typeof textUnits>]> = [
          [new SegmentScanner(text), textUnits(text)],
          [new SegmentScanner(bytes, hardStops), byteUnits(bytes, hardStops)],
        ];
        for (const [scanner, units] of cases) {
          for (let start = 0; start < units.length;) {
            const expected = nextSegment(units, start, separator);
            scanner.scan(start, separator);
            expect([scanner.end, scanner.next]).toEqual([expected.end, expected.next]);
            start = expected.next > start ? expected.next : start + 1;
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('isHl7Number', () => {
  it('agrees with the regular expression it implements', () => {
    const NUMBER = /^(?:<>|[<>]=?|=)?\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
    const chars = ['<', '>', '=', '+', '-', '.', '0', '7', ' ', '\t', '\u00a0', '\u2003', 'e', 'x'];
    const text = fc
      .array(fc.constantFrom(...chars), { maxLength: 8 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (value) => {
        expect(isHl7Number(value)).toBe(NUMBER.test(value));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('fieldToJson', () => {
  it('gives what the general path gives for any field, components-only ones included', () => {
    const fieldUnder = delimitersArbitrary().chain((d) =>
      fc.tuple(
        fc.constant(d),
        fc.oneof(
          rawField(d),
          // Composites without repetitions or subcomponents, the fast path's fields.
          fc
            .array(
              fc.array(rawPiece(d), { maxLength: 3 }).map((pieces) => pieces.join('')),
              { minLength: 2, maxLength: 6 },
            )
            .map((components) => components.join(d.component)),
        ),
      ),
    );
    fc.assert(
      fc.property(fieldUnder, ([d, text]) => {
        expect(fieldToJson(text, d, undefined)).toStrictEqual(
          canonicalField(fieldParts(text, d, undefined)),
        );
      }),
      { numRuns: 2000 },
    );
  });
});
