import { performance } from 'node:perf_hooks';

import { createWorkerPool } from '../../pipeline/worker-pool.js';
import { generateFhirNdjson, generateHl7Corpus } from '../../samples/index.js';
import { compressionLabel, DEFAULT_COMPRESSION } from '../../transforms/compression.js';
import { measure } from '../measure.js';
import { boundLegs } from './limits.js';
import type { BenchFigure, BenchSuite } from '../suite.js';
import { inThreadRunner, transformBatch, type TaskRunner } from '../transform-batch.js';

/**
 * The transform stage (parse, de-identify, serialise, compress, encrypt, hash) of a whole file,
 * as `writeBatchVersion` runs it without storage: on this thread through the worker's own task
 * function, then through the piscina pool with 1 and with 2 threads.
 */
export const transformSuite: BenchSuite = {
  name: 'transform',
  description: 'transform stage: in-thread, then the pool with 1 and 2 threads',
  async run(options) {
    const approxBytes = options.sizeMb * 1e6;
    const { seed } = options;
    const corpora = [
      { format: 'hl7v2', corpus: generateHl7Corpus({ seed, approxBytes }) },
      { format: 'fhir', corpus: generateFhirNdjson({ seed, approxBytes }) },
    ] as const;
    const figures: BenchFigure[] = [];
    const label = compressionLabel(DEFAULT_COMPRESSION);

    for (const { format, corpus } of corpora) {
      const shared = new SharedArrayBuffer(corpus.bytes.length);
      new Uint8Array(shared).set(corpus.bytes);
      const limit = `limits.${format}.chain-bound`;
      const modes: Array<[string, string, () => Promise<OpenRunner>]> = [
        ['single-thread', 'in-thread', async () => ({ runner: inThreadRunner(), close: noop })],
        ['pool-1', 'pool, 1 thread', async () => poolRunner(1)],
        ['pool-2', 'pool, 2 threads', async () => poolRunner(2)],
      ];
      for (const [mode, modeLabel, open] of modes) {
        const { runner, close } = await open();
        try {
          let records = 0;
          const timing = await measure(
            async () => {
              records = (await transformBatch(runner, shared, DEFAULT_COMPRESSION)).records;
            },
            corpus.bytes.length,
            // A pool starts with one thread and adds the second while the first run is under
            // way, so that thread is still compiling its code during the run after: the pools
            // warm up twice, so that every thread has run tasks before the timed runs.
            { warmup: mode === 'single-thread' ? 1 : 2, minRuns: 3, minSeconds: 0 },
          );
          const details = {
            bytes: corpus.bytes.length,
            records,
            runs: timing.runs,
            compression: label,
          };
          figures.push(
            {
              name: `transform.${format}.${mode}`,
              label: `${format} transform, ${modeLabel}`,
              value: timing.mbPerSec,
              unit: 'MB/s',
              details,
              limit,
              // Two threads are measured against two cores' worth of the per-core bound.
              limitScale: mode === 'pool-2' ? 2 : 1,
            },
            {
              name: `transform.${format}.${mode}.records`,
              label: `${format} transform, ${modeLabel}`,
              value: records / timing.seconds,
              unit: format === 'hl7v2' ? 'msg/s' : 'resources/s',
            },
          );
        } finally {
          await close();
        }
      }
      figures.push(await pairedShare(format, corpus.bytes, shared));
      const rate = (mode: string): number =>
        figures.find((figure) => figure.name === `transform.${format}.${mode}`)?.value ?? NaN;
      const [one, two] = [rate('pool-1'), rate('pool-2')];
      figures.push({
        name: `transform.${format}.scaling`,
        label: `${format} 2 threads / 1 thread`,
        value: two / one,
        unit: 'ratio',
      });
    }
    return figures;
  },
};

const noop = async (): Promise<void> => {};

/** Rounds of the paired measure, after one round of warm-up. */
const PAIRED_ROUNDS = 7;

/**
 * The in-thread stage over the per-core bound, measured in pairs: each round times the bound's
 * legs once each (their sum is the time the chain bound stands for) and one in-thread pass,
 * in alternating order, and the figure is the median of the rounds' ratios. The `limits` suite
 * measures the bound a minute or more before this suite runs, and on a shared machine the speed
 * of both moves by a third between minutes; a ratio of two times taken seconds apart does not.
 *
 * @param format - the corpus's format
 * @param bytes - the corpus
 * @param shared - the same bytes in shared memory, as the transform reads them
 */
async function pairedShare(
  format: 'hl7v2' | 'fhir',
  bytes: Uint8Array,
  shared: SharedArrayBuffer,
): Promise<BenchFigure> {
  const legs = boundLegs(format, Buffer.from(bytes));
  const runner = inThreadRunner();
  // Each side runs twice in a row and the second run is timed: it pays for collecting what the
  // first left, as a run in a steady stream of them does, rather than for the other side's.
  const boundSeconds = (): number => {
    let started = 0;
    for (let pass = 0; pass < 2; pass++) {
      started = performance.now();
      for (const leg of legs) {
        leg.run();
      }
    }
    return (performance.now() - started) / 1000;
  };
  const stageSeconds = async (): Promise<number> => {
    let started = 0;
    for (let pass = 0; pass < 2; pass++) {
      started = performance.now();
      await transformBatch(runner, shared, DEFAULT_COMPRESSION);
    }
    return (performance.now() - started) / 1000;
  };
  const rounds: Array<{ bound: number; stage: number }> = [];
  for (let round = 0; round <= PAIRED_ROUNDS; round++) {
    let bound: number;
    let stage: number;
    if (round % 2 === 0) {
      bound = boundSeconds();
      stage = await stageSeconds();
    } else {
      stage = await stageSeconds();
      bound = boundSeconds();
    }
    // Round 0 warms up both.
    if (round > 0) {
      rounds.push({ bound, stage });
    }
  }
  const middle = (values: number[]): number =>
    values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const mb = bytes.length / 1e6;
  return {
    name: `transform.${format}.single-thread.paired`,
    label: `${format} in-thread / bound, paired rounds`,
    value: middle(rounds.map((round) => round.bound / round.stage)),
    unit: 'ratio',
    details: {
      rounds: PAIRED_ROUNDS,
      boundMbPerSec: (mb / middle(rounds.map((round) => round.bound))).toFixed(1),
      stageMbPerSec: (mb / middle(rounds.map((round) => round.stage))).toFixed(1),
      ratios: rounds.map((round) => (round.bound / round.stage).toFixed(2)).join(' '),
    },
  };
}

interface OpenRunner {
  runner: TaskRunner;
  close(): Promise<void>;
}

async function poolRunner(threads: number): Promise<OpenRunner> {
  const pool = createWorkerPool(threads);
  return { runner: pool, close: () => pool.destroy() };
}
