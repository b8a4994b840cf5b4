import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { startPrivateAzurite } from '../../pipeline/azurite.js';
import { dropFiles, manifestsOfDropped } from '../../pipeline/drop.js';
import type { BatchManifest } from '../../pipeline/manifest.js';
import { fromConnectionString } from '../../pipeline/storage.js';
import type { Storage } from '../../pipeline/storage.js';
import { generateFhirNdjson, generateHl7Corpus } from '../../samples/index.js';
import type { BenchFigure, BenchSuite } from '../suite.js';

/** Files per format; each is `--size-mb` large, dropped together. */
const FILES_PER_FORMAT = 2;
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
 * process reports the last manifest committed. The pipeline process reports its peak RSS. Before the timed files, one smaller file
 * of each format goes through untimed: an orchestrator runs for days, and a process that has
 * just started spends its first seconds starting its second thread and compiling its code on
 * both, which no later file pays.
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
      // File 0 of each format is the warm-up; seeds differ from every timed file's.
      const filesByFormat = formats.map(({ extension, generate }, formatIndex) =>
        Array.from({ length: FILES_PER_FORMAT + 1 }, (_, index) => {
          const seed = options.seed + 1000 * formatIndex + index + 1;
          const size = index === 0 ? approxBytes * WARM_UP_SHARE : approxBytes;
          const corpus = generate({ seed, approxBytes: size });
          const path = join(workDir, `file-${formatIndex}-${index}.${extension}`);
          writeFileSync(path, corpus.bytes);
          return { path, bytes: corpus.bytes.length, records: corpus.recordCount };
        }),
      );
      const warmUps = filesByFormat.map((files) => files[0]);
      const timed = filesByFormat.map((files) => files.slice(1));

      const pipeline = startPipelineProcess(azurite.connectionString, join(workDir, 'home'));
      await pipeline.ready;
      const storage = fromConnectionString(azurite.connectionString);
      try {
        for (const [formatIndex, { format, feedId }] of formats.entries()) {
          const warmUp = await dropAndWait(storage, pipeline, feedId, [warmUps[formatIndex].path]);
          if (warmUp.manifests.some((manifest) => manifest.status !== 'committed')) {
            throw new Error(`The ${format} warm-up file was not committed`);
          }
        }
        for (const [formatIndex, { format, feedId }] of formats.entries()) {
          const files = timed[formatIndex];
          const cpuBefore = [cpuSecondsOf(azurite.pid), cpuSecondsOf(pipeline.pid)];
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
          const [azuriteCpu, pipelineCpu] = [azurite.pid, pipeline.pid].map(
            (pid, index) => cpuSecondsOf(pid) - cpuBefore[index],
          );
          const seconds = (finishedAt - started) / 1000;
          if (manifests.some((manifest) => manifest.status !== 'committed')) {
            throw new Error(`A ${format} bench file was not committed`);
          }

          const bytes = files.reduce((sum, file) => sum + file.bytes, 0);
          const records = files.reduce((sum, file) => sum + file.records, 0);
          const details = {
            files: files.length,
            bytes,
            records,
            seconds: seconds.toFixed(2),
            dropSeconds: dropSeconds.toFixed(2),
            parts: manifests.reduce((sum, manifest) => sum + manifest.parts.length, 0),
            // CPU seconds over the same interval (Linux /proc): on two cores, what Azurite takes
            // is not there for the workers.
            azuriteCpuSeconds: azuriteCpu.toFixed(2),
            pipelineCpuSeconds: pipelineCpu.toFixed(2),
          };
          figures.push(
            {
              name: `end-to-end.${format}`,
              label: `${format} drop to committed manifest`,
              value: bytes / 1e6 / seconds,
              unit: 'MB/s',
              details,
              limit: `transform.${format}.pool-2`,
            },
            {
              name: `end-to-end.${format}.records`,
              label: `${format} drop to committed manifest`,
              value: records / seconds,
              unit: format === 'hl7v2' ? 'msg/s' : 'resources/s',
            },
          );
        }
      } finally {
        await storage.close();
      }

      const summary = await pipeline.stop();
      figures.push({
        name: 'end-to-end.peak-rss',
        label: 'pipeline process peak RSS',
        value: summary.maxRssBytes / 1024 / 1024,
        unit: 'MB',
        details: {
          largestFileBytes: Math.max(...timed.flat().map((file) => file.bytes)),
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
