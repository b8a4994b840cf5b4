import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { startPrivateAzurite } from '../../pipeline/azurite.js';
import { createWorkerPool, type WorkerPool } from '../../pipeline/worker-pool.js';
import { DEFAULT_COMPRESSION } from '../../transforms/compression.js';
import { transformBatch } from '../transform-batch.js';
import { dropFiles, manifestsOfDropped } from '../../pipeline/drop.js';
import type { BatchManifest } from '../../pipeline/manifest.js';
import { fromConnectionString } from '../../pipeline/storage.js';
import type { Storage } from '../../pipeline/storage.js';
import { generateFhirNdjson, generateHl7Corpus } from '../../samples/index.js';
import type { BenchFigure, BenchSuite } from '../suite.js';

/** Files per format in a round; each is `--size-mb` large, dropped together. */
const FILES_PER_FORMAT = 2;
/** Timed rounds per format, each with files of its own. */
const ROUNDS = 3;
/** The untimed file of each format dropped first, as a share of `--size-mb`. */
const WARM_UP_SHARE = 0.5;

const POLL_MS = 50;

/** User plus system CPU seconds a process has used, from /proc; NaN where that cannot be read. */
function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)!.split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

// USER_HZ, 100 on Linux for every architecture Node runs on.
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * End to end on an embedded Azurite (in memory, its own process): large files dropped as `drop`
 * does (upload, then a queue message), processed by the orchestrator in a process of its own
 * (as `phi-ingest run`, 2 threads), timed from the start of the drop to the moment the pipeline
 * process reports the last manifest committed. The pipeline process reports its peak RSS.
 * Before the timed files, one smaller file of each format goes through untimed: an orchestrator
 * runs for days, and a process that has just started spends its first seconds starting its
 * second thread and compiling its code on both, which no later file pays.
 *
 * Each format runs three rounds, each with new files; a round also times the same files through
 * a two-thread pool in this process (the transform suite's pool-2, seconds apart from the end
 * to end run, in alternating order), and the paired figure is the median of the rounds' ratios.
 * The transform suite's pool-2 figure is minutes away, and the machine's speed moves by a third
 * between minutes.
 */
export const endToEndSuite: BenchSuite = {
  name: 'end-to-end',
  description: 'drop to committed manifest on embedded Azurite, with peak RSS',
  async run(options) {
    const approxBytes = options.sizeMb * 1e6;
    const workDir = mkdtempSync(join(tmpdir(), 'phi-ingest-bench-'));
    const azurite = await startPrivateAzurite();
    const figures: BenchFigure[] = [];
    try {
      const formats = [
        { format: 'hl7v2', feedId: 'bench-hl7', extension: 'hl7', generate: generateHl7Corpus },
        { format: 'fhir', feedId: 'bench-fhir', extension: 'ndjson', generate: generateFhirNdjson },
      ] as const;
      // File 0 of each format is the warm-up; then ROUNDS groups of FILES_PER_FORMAT files, each
      // with a seed of its own (a file dropped twice would be a duplicate, not a batch).
      const filesByFormat = formats.map(({ extension, generate }, formatIndex) =>
        Array.from({ length: FILES_PER_FORMAT * ROUNDS + 1 }, (_, index) => {
          const seed = options.seed + 1000 * formatIndex + index + 1;
          const size = index === 0 ? approxBytes * WARM_UP_SHARE : approxBytes;
          const corpus = generate({ seed, approxBytes: size });
          const path = join(workDir, `file-${formatIndex}-${index}.${extension}`);
          writeFileSync(path, corpus.bytes);
          return { path, bytes: corpus.bytes.length, records: corpus.recordCount };
        }),
      );

      const pipeline = startPipelineProcess(azurite.connectionString, join(workDir, 'home'));
      await pipeline.ready;
      const storage = fromConnectionString(azurite.connectionString);
      // The paired two-thread transform runs in this process, on a pool of its own.
      const pool = createWorkerPool(2);
      try {
        for (const [formatIndex, { format, feedId }] of formats.entries()) {
          const warmUp = await dropAndWait(storage, pipeline, feedId, [
            filesByFormat[formatIndex][0].path,
          ]);
          if (warmUp.manifests.some((manifest) => manifest.status !== 'committed')) {
            throw new Error(`The ${format} warm-up file was not committed`);
          }
        }
        for (const [formatIndex, { format, feedId }] of formats.entries()) {
          const rounds: Round[] = [];
          for (let round = 0; round < ROUNDS; round++) {
            const first = 1 + round * FILES_PER_FORMAT;
            const files = filesByFormat[formatIndex].slice(first, first + FILES_PER_FORMAT);
            const sources = files.map((file) => toShared(readFileSync(file.path)));
            // The pool warms up on the first round's files before anything is timed.
            if (round === 0) {
              await poolSeconds(pool, sources);
              await poolSeconds(pool, sources);
            }
            // In turns, so a slow spell of the machine falls on both sides alike.
            let run: Round;
            if (round % 2 === 0) {
              const pooled = await poolSeconds(pool, sources);
              run = { ...(await endToEnd(storage, azurite.pid, pipeline, feedId, files)), pooled };
            } else {
              const measured = await endToEnd(storage, azurite.pid, pipeline, feedId, files);
              run = { ...measured, pooled: await poolSeconds(pool, sources) };
            }
            if (run.manifests.some((manifest) => manifest.status !== 'committed')) {
              throw new Error(`A ${format} bench file was not committed`);
            }
            rounds.push(run);
          }

          // The round with the median end-to-end time stands for the suite; the paired figure
          // is the median of the rounds' own ratios.
          const sorted = [...rounds].sort((a, b) => a.seconds - b.seconds);
          const middle = sorted[Math.floor(sorted.length / 2)];
          const ratios = rounds.map((run) => run.pooled / run.seconds);
          const files = filesByFormat[formatIndex].slice(1, 1 + FILES_PER_FORMAT);
          const bytes = files.reduce((sum, file) => sum + file.bytes, 0);
          const records = files.reduce((sum, file) => sum + file.records, 0);
          const details = {
            rounds: ROUNDS,
            files: files.length,
            bytes,
            records,
            seconds: middle.seconds.toFixed(2),
            dropSeconds: middle.dropSeconds.toFixed(2),
            parts: middle.manifests.reduce((sum, manifest) => sum + manifest.parts.length, 0),
            // CPU seconds over the same interval (Linux /proc): on two cores, what Azurite takes
            // is not there for the workers.
            azuriteCpuSeconds: middle.azuriteCpu.toFixed(2),
            pipelineCpuSeconds: middle.pipelineCpu.toFixed(2),
          };
          figures.push(
            {
              name: `end-to-end.${format}`,
              label: `${format} drop to committed manifest`,
              value: bytes / 1e6 / middle.seconds,
              unit: 'MB/s',
              details,
              limit: `transform.${format}.pool-2`,
            },
            {
              name: `end-to-end.${format}.records`,
              label: `${format} drop to committed manifest`,
              value: records / middle.seconds,
              unit: format === 'hl7v2' ? 'msg/s' : 'resources/s',
            },
            {
              name: `end-to-end.${format}.paired`,
              label: `${format} end to end / 2-thread transform, paired rounds`,
              value: median(ratios),
              unit: 'ratio',
              details: {
                rounds: ROUNDS,
                poolMbPerSec: (bytes / 1e6 / median(rounds.map((run) => run.pooled))).toFixed(1),
                ratios: ratios.map((ratio) => ratio.toFixed(2)).join(' '),
              },
            },
          );
        }
      } finally {
        await pool.destroy();
        await storage.close();
      }

      const summary = await pipeline.stop();
      figures.push({
        name: 'end-to-end.peak-rss',
        label: 'pipeline process peak RSS',
        value: summary.maxRssBytes / 1024 / 1024,
        unit: 'MB',
        details: {
          largestFileBytes: Math.max(...filesByFormat.flat().map((file) => file.bytes)),
          budgetMb: 512,
          mainHeapPeakMb: toMb(summary.mainHeapPeakBytes),
          externalPeakMb: toMb(summary.externalPeakBytes),
          arrayBuffersPeakMb: toMb(summary.arrayBuffersPeakBytes),
        },
      });
    } finally {
      await azurite.stop();
      rmSync(workDir, { recursive: true, force: true });
    }
    return figures;
  },
};

/**
 * Drops files as `phi-ingest drop` does, waits until the pipeline process says that as many
 * batches have ended, then reads each file's manifest. The end time is the pipeline's own: when
 * the last of those batches was committed, not when a poller of the tables first saw it (up to
 * a poll interval later, and each poll is work for Azurite while the batches run).
 *
 * @param storage - the Azurite account
 * @param pipeline - the process that runs the orchestrator
 * @param feedId - the feed they belong to
 * @param paths - the files
 * @param onDropped - told when the last file's queue message is sent
 */
async function dropAndWait(
  storage: Storage,
  pipeline: PipelineProcess,
  feedId: string,
  paths: string[],
  onDropped?: () => void,
): Promise<{ manifests: BatchManifest[]; finishedAt: number }> {
  const since = new Date();
  const endedBefore = pipeline.finished.length;
  const dropped = await dropFiles(storage, feedId, paths);
  onDropped?.();
  const finishedAt = await pipeline.waitForFinished(endedBefore + dropped.length);
  let found = await manifestsOfDropped(storage, feedId, dropped, since);
  while (found.notFound > 0) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    found = await manifestsOfDropped(storage, feedId, dropped, since);
  }
  return { manifests: found.manifests, finishedAt };
}

/** One timed round: the files end to end, and the same files through the two-thread pool. */
interface Round {
  manifests: BatchManifest[];
  seconds: number;
  dropSeconds: number;
  azuriteCpu: number;
  pipelineCpu: number;
  /** Seconds the bench's own two-thread pool took to transform the same files. */
  pooled: number;
}

/** Drops the files and times them to their last committed manifest, with CPU per process. */
async function endToEnd(
  storage: Storage,
  azuritePid: number,
  pipeline: PipelineProcess,
  feedId: string,
  files: Array<{ path: string }>,
): Promise<Omit<Round, 'pooled'>> {
  const cpuBefore = [cpuSecondsOf(azuritePid), cpuSecondsOf(pipeline.pid)];
  const started = epochMs();
  let dropSeconds = 0;
  const { manifests, finishedAt } = await dropAndWait(
    storage,
    pipeline,
    feedId,
    files.map((file) => file.path),
    () => (dropSeconds = (epochMs() - started) / 1000),
  );
  // CPU is read once every batch has ended, before the manifests are read back.
  const [azuriteCpu, pipelineCpu] = [azuritePid, pipeline.pid].map(
    (pid, index) => cpuSecondsOf(pid) - cpuBefore[index],
  );
  return {
    manifests,
    seconds: (finishedAt - started) / 1000,
    dropSeconds,
    azuriteCpu,
    pipelineCpu,
  };
}

/** Seconds the pool takes to transform the files at once, as the transform suite's pool-2. */
async function poolSeconds(pool: WorkerPool, sources: SharedArrayBuffer[]): Promise<number> {
  const started = performance.now();
  await Promise.all(sources.map((source) => transformBatch(pool, source, DEFAULT_COMPRESSION)));
  return (performance.now() - started) / 1000;
}

function toShared(bytes: Uint8Array): SharedArrayBuffer {
  const shared = new SharedArrayBuffer(bytes.length);
  new Uint8Array(shared).set(bytes);
  return shared;
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/** Now, as the pipeline process reports it: milliseconds since the epoch, below a millisecond. */
function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** What the pipeline process reports when it stops. */
interface PipelineSummary {
  maxRssBytes: number;
  /** Main thread only: V8 heap, memory outside it, and the ArrayBuffers within that. */
  mainHeapPeakBytes: number;
  externalPeakBytes: number;
  arrayBuffersPeakBytes: number;
}

interface PipelineProcess {
  ready: Promise<void>;
  /** When each batch it ran ended, in milliseconds since the epoch, in order. */
  finished: number[];
  /** Resolves with the time the `count`-th batch since it started ended. */
  waitForFinished(count: number): Promise<number>;
  /** Process id, for its CPU time. */
  pid: number;
  stop(): Promise<PipelineSummary>;
}

function toMb(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}

function startPipelineProcess(connectionString: string, homeDir: string): PipelineProcess {
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('PHI_INGEST_')),
  );
  Object.assign(env, {
    PHI_INGEST_HOME: homeDir,
    PHI_INGEST_STORAGE_CONNECTION_STRING: connectionString,
    PHI_INGEST_MAX_THREADS: '2',
    PHI_INGEST_POLL_INTERVAL_MS: String(POLL_MS),
    PHI_INGEST_LOG_LEVEL: 'warn',
  });
  const entry = fileURLToPath(new URL('../pipeline-process.ts', import.meta.url));
  // The same V8 flag as bin/phi-ingest.js, which `phi-ingest run` starts with.
  const nodeArgs = ['--single-threaded-gc', '--import', import.meta.resolve('tsx'), entry];
  const child = spawn(process.execPath, nodeArgs, {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  let scanned = 0;
  const finished: number[] = [];
  const waiters: Array<{ count: number; resolve: (at: number) => void }> = [];
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (stdout.startsWith('ready\n')) {
        resolve();
      }
      // Each whole `finished <ms>` line wakes whoever waits for that many batches.
      for (let end = stdout.indexOf('\n', scanned); end >= 0; end = stdout.indexOf('\n', scanned)) {
        const line = stdout.slice(scanned, end);
        scanned = end + 1;
        if (line.startsWith('finished ')) {
          finished.push(Number(line.slice('finished '.length)));
        }
      }
      for (const waiter of waiters.splice(0)) {
        if (finished.length >= waiter.count) {
          waiter.resolve(finished[waiter.count - 1]);
        } else {
          waiters.push(waiter);
        }
      }
    });
    void exited.then(() => reject(new Error('The pipeline process exited before it was ready')));
  });
  return {
    ready,
    pid: child.pid ?? 0,
    finished,
    waitForFinished(count) {
      if (finished.length >= count) {
        return Promise.resolve(finished[count - 1]);
      }
      const waited = new Promise<number>((resolve) => waiters.push({ count, resolve }));
      const ended = exited.then((code): number => {
        throw new Error(`The pipeline process ended with code ${code} during a run`);
      });
      return Promise.race([waited, ended]);
    },
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) {
        throw new Error(`The pipeline process ended with code ${code}`);
      }
      return JSON.parse(last) as PipelineSummary;
    },
  };
}
