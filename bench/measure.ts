import { performance } from 'node:perf_hooks';

export interface Measurement {
  /** Median throughput over the timed runs. */
  mbPerSec: number;
  /** Median seconds per run. */
  seconds: number;
  runs: number;
}

/**
 * Times `work` over `bytes` input bytes: warm-up runs first, then timed runs until both
 * `minRuns` and `minSeconds` are reached; returns the median.
 *
 * @param work - one pass over the input; may be async
 * @param bytes - input bytes one pass processes
 * @param options - warm-up and run counts
 */
export async function measure(
  work: () => unknown,
  bytes: number,
  options: { warmup?: number; minRuns?: number; minSeconds?: number } = {},
): Promise<Measurement> {
  const warmup = options.warmup ?? 1;
  const minRuns = options.minRuns ?? 3;
  const minSeconds = options.minSeconds ?? 1.5;
  for (let run = 0; run < warmup; run++) {
    await work();
  }

  const times: number[] = [];
  const started = performance.now();
  while (times.length < minRuns || (performance.now() - started) / 1000 < minSeconds) {
    const begin = performance.now();
    await work();
    times.push((performance.now() - begin) / 1000);
    if (times.length >= 50) {
      break;
    }
  }
  times.sort((a, b) => a - b);
  const seconds = times[Math.floor(times.length / 2)];
  return { mbPerSec: bytes / 1e6 / seconds, seconds, runs: times.length };
}

/**
 * The throughput of a chain of stages that each see the same bytes once: time adds up, so the
 * bound is the harmonic combination of the stage rates.
 *
 * @param rates - MB/s of each stage
 */
export function chainBound(rates: number[]): number {
  return 1 / rates.reduce((sum, rate) => sum + 1 / rate, 0);
}
