import { Presets, SingleBar } from 'cli-progress';

/** Where a long run reports how far it is. */
export interface ProgressDisplay {
  /**
   * Records progress.
   *
   * @param done - units done
   * @param doneBytes - bytes done
   */
  update(done: number, doneBytes: number): void;
  stop(): void;
}

export interface ProgressOptions {
  /** What is counted, plural: `batches`. */
  unit: string;
  total: number;
  totalBytes: number;
  stream?: NodeJS.WriteStream;
  /** Least time between plain lines when the stream is not a terminal. */
  intervalMs?: number;
}

/**
 * A progress bar with rate and ETA on a terminal (cli-progress); on anything else (a log file,
 * CI) a plain line at most every `intervalMs`, plus a last one at the end, so logs stay short.
 *
 * @param options - unit, totals and stream
 */
export function createProgressDisplay(options: ProgressOptions): ProgressDisplay {
  const stream = options.stream ?? process.stdout;
  const startedAt = Date.now();
  if (stream.isTTY) {
    const bar = new SingleBar(
      {
        stream,
        format: `{bar} {percentage}% | {value}/{total} ${options.unit} | {bytes} | {rate}/s | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 20,
      },
      Presets.shades_classic,
    );
    bar.start(options.total, 0, { bytes: formatBytes(0), rate: '0.0' });
    return {
      update: (done, doneBytes) =>
        bar.update(done, { bytes: formatBytes(doneBytes), rate: rateOf(done, startedAt) }),
      stop: () => bar.stop(),
    };
  }

  const intervalMs = options.intervalMs ?? 5000;
  let lastAt = 0;
  let last = { done: 0, doneBytes: 0 };
  let shownDone = -1;
  const write = (): void => {
    const { done, doneBytes } = last;
    shownDone = done;
    const rate = rateOf(done, startedAt);
    const remaining =
      Number(rate) > 0 ? Math.round((options.total - done) / Number(rate)) : undefined;
    stream.write(
      `progress: ${done}/${options.total} ${options.unit}, ${formatBytes(doneBytes)}` +
        ` of ${formatBytes(options.totalBytes)}, ${rate} ${options.unit}/s` +
        `${remaining === undefined ? '' : `, ETA ${remaining} s`}\n`,
    );
  };
  return {
    update: (done, doneBytes) => {
      last = { done, doneBytes };
      if (Date.now() - lastAt >= intervalMs) {
        lastAt = Date.now();
        write();
      }
    },
    stop: () => {
      if (shownDone !== last.done) {
        write();
      }
    },
  };
}

function formatBytes(bytes: number): string {
  if (bytes < 1e3) {
    return `${bytes} B`;
  }
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function rateOf(done: number, startedAt: number): string {
  const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
  return (done / seconds).toFixed(1);
}
