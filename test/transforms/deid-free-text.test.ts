import { describe, expect, it } from 'vitest';

import { createTextScrubber, emptyKnownIdentifiers } from '../../transforms/deid/free-text.js';
import type { ScrubSpan } from '../../transforms/deid/free-text.js';
import { generateLabelledNotes } from '../../samples/free-text.js';
import type { PlantedSpan } from '../../samples/free-text.js';

interface Score {
  planted: number;
  found: number;
}

// A planted identifier is found when scrub spans cover every letter and digit of it.
function covered(planted: PlantedSpan, text: string, spans: ScrubSpan[]): boolean {
  for (let index = planted.start; index < planted.end; index++) {
    if (
      /[\p{L}\p{N}]/u.test(text[index]) &&
      !spans.some((s) => s.start <= index && index < s.end)
    ) {
      return false;
    }
  }
  return true;
}

function evaluate(useKnown: boolean): {
  recall: Map<string, Score>;
  precision: number;
  spans: number;
} {
  const recall = new Map<string, Score>();
  let truePositives = 0;
  let spanCount = 0;
  for (const note of generateLabelledNotes({ seed: 20261203, count: 400 })) {
    const known = useKnown ? note.known : emptyKnownIdentifiers();
    const spans = createTextScrubber(known, { dates: true }).find(note.text);
    for (const planted of note.spans) {
      const key = `${planted.kind}${planted.carried ? ' (record)' : ' (pattern)'}`;
      const score = recall.get(key) ?? { planted: 0, found: 0 };
      score.planted++;
      score.found += covered(planted, note.text, spans) ? 1 : 0;
      recall.set(key, score);
    }
    spanCount += spans.length;
    truePositives += spans.filter((s) =>
      note.spans.some((p) => s.start < p.end && p.start < s.end),
    ).length;
  }
  return { recall, precision: truePositives / spanCount, spans: spanCount };
}

function report(label: string, result: ReturnType<typeof evaluate>): void {
  const lines = [...result.recall].map(
    ([kind, score]) =>
      `  ${kind.padEnd(20)} ${score.found}/${score.planted} = ${(score.found / score.planted).toFixed(4)}`,
  );
  console.info(
    `${label}: precision ${result.precision.toFixed(4)} over ${result.spans} spans\n${lines.join('\n')}`,
  );
}

describe('free-text scrubber on the labelled synthetic notes', () => {
  it("finds at least 99% of every kind with the record's identifiers, at high precision", () => {
    const result = evaluate(true);
    report('With record identifiers', result);
    for (const [kind, score] of result.recall) {
      expect(score.found / score.planted, kind).toBeGreaterThanOrEqual(0.99);
    }
    expect(result.precision).toBeGreaterThanOrEqual(0.95);
  });

  it('finds at least 99% of every pattern kind with no record identifiers at all', () => {
    const result = evaluate(false);
    report('Patterns only', result);
    for (const [kind, score] of result.recall) {
      if (!kind.startsWith('name') && !kind.startsWith('address')) {
        expect(score.found / score.planted, kind).toBeGreaterThanOrEqual(0.99);
      }
    }
  });

  it('replaces each find with its kind and leaves other text as it was', () => {
    const known = {
      ...emptyKnownIdentifiers(),
      names: ['Testpatient', 'Alpha'],
      ids: ['MRN1234567'],
    };
    const scrubber = createTextScrubber(known, { dates: true });
    expect(
      scrubber.scrub(
        'Alpha TESTPATIENT, MRN1234567, seen 03/04/2024; call 210-555-0101 or a.b@example.invalid.',
      ),
    ).toBe('[NAME] [NAME], [ID], seen [DATE]; call [PHONE] or [EMAIL].');
    expect(scrubber.scrub('No identifiers in 5 mg twice daily.')).toBe(
      'No identifiers in 5 mg twice daily.',
    );
  });

  it('keeps dates for a limited data set', () => {
    const scrubber = createTextScrubber(emptyKnownIdentifiers(), { dates: false });
    expect(scrubber.scrub('Seen 2024-03-04 at 192.0.2.7')).toBe('Seen 2024-03-04 at [IP]');
  });
});
