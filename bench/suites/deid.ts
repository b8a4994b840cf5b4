import { randomBytes } from 'node:crypto';

import { generateFhirNdjson, generateHl7Corpus } from '../../samples/index.js';
import { DEFAULT_COMPRESSION } from '../../transforms/compression.js';
import { hashDeidRules, resolveDeidRules } from '../../transforms/deid/rules.js';
import type { DeidPreset } from '../../transforms/deid/rules.js';
import type { DeidContext } from '../../transforms/types.js';
import { prepareHl7, prepareNdjson, transformRecords } from '../../workers/records.js';
import type { BenchFigure, BenchSuite } from '../suite.js';
import { inThreadRunner, transformBatch } from '../transform-batch.js';

const WARM_UP_RUNS = 2;
const MEASURED_RUNS = 7;
/**
 * Runs of each preset behind the goal figure: the machine's speed moves by a third from one
 * second to the next on some days, and more runs narrow the median.
 */
const STAGE_RUNS = 11;
const PSEUDONYM_KEY = new Uint8Array(32).fill(0x42);

/** Wall-clock and CPU time of one run, in milliseconds. */
interface RunTime {
  wallMs: number;
  cpuMs: number;
}

/**
 * What de-identification costs: the `none` preset, which skips de-identification, against
 * `safe-harbor`, on the generated HL7 v2 and NDJSON corpora, one thread. The share is
 * (safe-harbor − none) / safe-harbor, measured twice:
 * - `stage-share`: of the whole transform stage as the `transform` suite runs it in-thread
 *   (prepare, parse, de-identify, serialise, compress, encrypt, hash, the archive copy); this is
 *   the figure the goal (under a third) is about;
 * - `share`: of parse, de-identify and serialise alone (the worker's `transformRecords`), a
 *   stricter view that leaves out what costs the same under both presets.
 *
 * The two presets run in turns in this one process, after warm-up runs, so both see the same
 * JIT state and, as far as can be had, the same machine load; each figure is the median of the
 * measured runs. CPU time (`process.cpuUsage`) is reported beside wall time: on a shared machine
 * it moves far less with load, so its share is the steadier one. Every run uses a fresh
 * pseudonym key: workers keep the pseudonyms they made per key, and a run over the same corpus
 * with the same key would find them all made (at 4 MB they all fit the memo, at 16 MB they do
 * not, which made the share depend on the corpus size). A fresh key costs each run what the
 * first sight of a file costs; repeats within the file still hit.
 */
export const deidSuite: BenchSuite = {
  name: 'deid',
  description: 'de-identification share of the transform stage (single thread)',
  async run(options) {
    const approxBytes = options.sizeMb * 1e6;
    const figures: BenchFigure[] = [];
    const corpora = [
      { format: 'hl7v2' as const, corpus: generateHl7Corpus({ seed: options.seed, approxBytes }) },
      {
        format: 'ndjson' as const,
        corpus: generateFhirNdjson({ seed: options.seed, approxBytes }),
      },
    ];

    for (const { format, corpus } of corpora) {
      const bytes = corpus.bytes;
      const prepared = format === 'hl7v2' ? prepareHl7(bytes, false) : prepareNdjson(bytes);
      if (prepared.status !== 'ok') {
        throw new Error(`The generated ${format} corpus did not split`);
      }

      const ranges = prepared.ranges;
      const none = contextFor('none');
      const safeHarbor = contextFor('safe-harbor');
      const withoutRuns: RunTime[] = [];
      const withRuns: RunTime[] = [];
      for (let run = 0; run < WARM_UP_RUNS + MEASURED_RUNS; run++) {
        // In turns, so that a burst of load from elsewhere falls on both presets alike.
        const without = timeRun(() => transformRecords(format, bytes, ranges, 0, none));
        // A fresh key each run, so pseudonyms are made as on a first sight of the file.
        const fresh = { ...safeHarbor, pseudonymKey: new Uint8Array(randomBytes(32)) };
        const withDeid = timeRun(() => transformRecords(format, bytes, ranges, 0, fresh));
        if (run >= WARM_UP_RUNS) {
          withoutRuns.push(without);
          withRuns.push(withDeid);
        }
      }

      const details = {
        bytes: bytes.length,
        records: corpus.recordCount,
        runs: MEASURED_RUNS,
        warmUpRuns: WARM_UP_RUNS,
      };
      const stage = await stageShare(bytes);
      figures.push({
        name: `deid.${format}.stage-share-cpu`,
        label: `${format} de-identification share of the transform stage (cpu)`,
        value: stage.share,
        unit: 'ratio',
        details: { noneMs: stage.noneMs, safeHarborMs: stage.safeHarborMs, runs: STAGE_RUNS },
      });

      for (const clock of ['wall', 'cpu'] as const) {
        const read = (time: RunTime): number => (clock === 'wall' ? time.wallMs : time.cpuMs);
        const withoutMs = median(withoutRuns.map(read));
        const withMs = median(withRuns.map(read));
        // The wall figures keep the names they had before CPU time was measured.
        const suffix = clock === 'wall' ? '' : '-cpu';
        figures.push(
          {
            name: `deid.${format}.parse-serialise.ms${suffix}`,
            label: `${format} parse+serialise (median ${clock})`,
            value: withoutMs,
            unit: 'ms',
            details,
          },
          {
            name: `deid.${format}.parse-deid-serialise.ms${suffix}`,
            label: `${format} parse+deid+serialise (median ${clock})`,
            value: withMs,
            unit: 'ms',
            details,
          },
          {
            name: `deid.${format}.share${suffix}`,
            label: `${format} de-identification share (${clock})`,
            value: (withMs - withoutMs) / withMs,
            unit: 'ratio',
          },
        );
      }
    }
    return figures;
  },
};

/**
 * CPU time of the in-thread transform stage under both presets, in turns, the preset that goes
 * first alternating from run to run; medians.
 */
async function stageShare(
  bytes: Uint8Array,
): Promise<{ share: number; noneMs: number; safeHarborMs: number }> {
  const shared = new SharedArrayBuffer(bytes.length);
  new Uint8Array(shared).set(bytes);
  const runner = inThreadRunner();
  const presets = [
    { rules: resolveDeidRules('none'), times: [] as number[] },
    { rules: resolveDeidRules('safe-harbor'), times: [] as number[] },
  ];
  for (let run = 0; run < WARM_UP_RUNS + STAGE_RUNS; run++) {
    for (const { rules, times } of run % 2 === 0 ? presets : [...presets].reverse()) {
      const before = process.cpuUsage();
      await transformBatch(runner, shared, DEFAULT_COMPRESSION, 500, rules);
      const cpu = process.cpuUsage(before);
      if (run >= WARM_UP_RUNS) {
        times.push((cpu.user + cpu.system) / 1000);
      }
    }
  }
  const withoutMs = median(presets[0].times);
  const withMs = median(presets[1].times);
  return { share: (withMs - withoutMs) / withMs, noneMs: withoutMs, safeHarborMs: withMs };
}

function contextFor(preset: DeidPreset): DeidContext {
  const rules = resolveDeidRules(preset);
  const rulesHash = hashDeidRules(rules);
  return { pseudonymKey: PSEUDONYM_KEY, rules, rulesHash, referenceYear: 2026 };
}

function timeRun(run: () => unknown): RunTime {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  run();
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
