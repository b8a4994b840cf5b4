import { describe, expect, it } from 'vitest';

import { findJsonSyntaxError, parseJsonText } from '../../transforms/json-text.js';

describe('parseJsonText', () => {
  it('reads JSON with or without a byte order mark', () => {
    expect(parseJsonText('\uFEFF{"a": [1, {"b": null}], "c": "\\u00e9"}')).toEqual({
      ok: true,
      value: { a: [1, { b: null }], c: 'é' },
    });
    expect(parseJsonText(' [true, false, -0.5e-3] ')).toEqual({
      ok: true,
      value: [true, false, -0.0005],
    });
  });

  it('places each kind of syntax error by line and column, and the end of a short text', () => {
    const places = [
      '{"a": 1,}',
      '{"a" 1}',
      '{a: 1}',
      '{"a": tru}',
      '[1,]',
      '{"a": 01}',
      '[1] x',
      '"\\x"',
      '"\\u12G4"',
      '{"a": "b\nc"}',
      '\n\n  {"x": [1, 2 3]}',
      '{"a": 1',
      '',
      '[[[',
      '\uFEFF\uFEFF{}',
    ].map((text) => {
      const result = parseJsonText(text);
      return result.ok ? 'ok' : result.place;
    });
    expect(places).toEqual([
      'line 1, column 9',
      'line 1, column 6',
      'line 1, column 2',
      'line 1, column 10',
      'line 1, column 4',
      'line 1, column 8',
      'line 1, column 5',
      'line 1, column 3',
      'line 1, column 6',
      'line 1, column 9',
      'line 3, column 15',
      'line 1, column 8: ends early',
      'line 1, column 1: ends early',
      'line 1, column 4: ends early',
      'line 1, column 1',
    ]);
  });

  it('finds the position V8 names whenever V8 names one', () => {
    const texts = [
      '{"a": 1,}',
      '{"a" 1}',
      '{a: 1}',
      '{"a": 01}',
      '[1] x',
      '"\\x"',
      '\n {"x": [1 2]}',
    ];
    for (const text of texts) {
      let position = -1;
      try {
        JSON.parse(text);
      } catch (error) {
        position = Number(/at position (\d+)/.exec((error as Error).message)?.[1]);
      }
      const place = findJsonSyntaxError(text)!;
      const lines = text.split('\n');
      const offset =
        lines.slice(0, place.line - 1).reduce((sum, line) => sum + line.length + 1, 0) +
        place.column -
        1;
      expect([text, offset]).toEqual([text, position]);
    }
  });

  it('scans nesting deeper than a recursive parser could', () => {
    expect(parseJsonText('['.repeat(200_000))).toEqual({
      ok: false,
      place: 'line 1, column 200001: ends early',
    });
  });
});
