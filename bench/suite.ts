/** One measured figure, printed and written to the results file. */
export interface BenchFigure {
  /** Stable name, such as `hl7-parse.phi-ingest`. */
  name: string;
  /** Human label for the printed table. */
  label: string;
  value: number;
  unit: 'MB/s' | 'msg/s' | 'resources/s' | 'ops/s' | 'ms' | 'MB' | 'ratio';
  /** Extra facts (bytes, messages, runs), printed after the figure. */
  details?: Record<string, string | number>;
  /** The `name` of the limit figure this one is compared with, when the same run measured it. */
  limit?: string;
  /** How many times the limit applies: 2 for a two-thread figure against a per-core bound. */
  limitScale?: number;
  /** `value` over the limit's value; filled in by the runner. */
  ratioToLimit?: number;
}

export interface BenchOptions {
  /** Size of generated corpora in megabytes, from `--size-mb`. */
  sizeMb: number;
  /** Fixed seed for generated corpora. */
  seed: number;
}

/** A group of measurements that `npm run bench` runs in one process, one after another. */
export interface BenchSuite {
  name: string;
  description: string;
  run(options: BenchOptions): Promise<BenchFigure[]>;
}
