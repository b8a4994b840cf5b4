import { generateFhirNdjson, generateHl7Corpus } from '../../samples/index.js';
import { hashDeidRules, resolveDeidRules } from '../../transforms/deid/rules.js';
import type { DeidPreset } from '../../transforms/deid/rules.js';
import { prepareHl7, prepareNdjson, transformRecords } from '../../workers/records.js';
import type { BenchFigure, BenchSuite } from '../suite.js';

const RUNS = 3;
const PSEUDONYM_KEY = new Uint8Array(32).fill(0x42);

/**
 * What de-identification costs inside the transform stage: the worker's transform (split
 * ranges, parse, de-identify, serialise) under the `none` preset, which skips de-identification,
 * against the same under `safe-harbor`; both on the generated HL7 v2 and NDJSON corpora, one
 * thread, best of three. The share is (safe-harbor − none) / safe-harbor.
 */
export const deidSuite: BenchSuite = {
  name: 'deid',
  description: 'de-identification share of the transform stage (single thread)',
  async run(options) {
    const approxBytes = options.sizeMb * 1e6;
    const figures: BenchFigure[] = [];
    const corpora = [
      { format: 'hl7v2' as const, corpus: generateHl7Corpus({ seed: options.seed, approxBytes }) },
      { format: 'ndjson' as const, corpus: generateFhirNdjson({ seed: options.seed, approxBytes }) },
    ];

    for (const { format, corpus } of corpora) {
      const bytes = corpus.bytes;
      const prepared = format === 'hl7v2' ? prepareHl7(bytes, false) : prepareNdjson(bytes);
      if (prepared.status !== 'ok') {
        throw new Error(`The generated ${format} corpus did not split`);
      }
      const time = (preset: DeidPreset): number => {
        const rules = resolveDeidRules(preset);
        const ctx = { pseudonymKey: PSEUDONYM_KEY, rules, rulesHash: hashDeidRules(rules), referenceYear: 2026 };
        let best = Infinity;
        for (let run = 0; run < RUNS; run++) {
          const started = performance.now();
          transformRecords(format, bytes, prepared.ranges, 0, ctx);
          best = Math.min(best, performance.now() - started);
        }
        return best;
      };

      const withoutMs = time('none');
      const withMs = time('safe-harbor');
      const share = (withMs - withoutMs) / withMs;
      const details = { bytes: bytes.length, records: corpus.recordCount, runs: RUNS };
      figures.push(
        { name: `deid.${format}.parse-serialise.ms`, label: `${format} parse+serialise`, value: withoutMs, unit: 'ms', details },
        { name: `deid.${format}.parse-deid-serialise.ms`, label: `${format} parse+deid+serialise`, value: withMs, unit: 'ms', details },
        { name: `deid.${format}.share`, label: `${format} de-identification share of transform`, value: share, unit: 'ratio' },
      );
    }
    return figures;
  },
};
