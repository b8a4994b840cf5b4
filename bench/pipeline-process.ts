/**
 * The pipeline process the end-to-end benchmark measures: the orchestrator as `phi-ingest run`
 * starts it, configured from the environment, in a process of its own so that its peak RSS is
 * the pipeline's alone, and with the V8 flags bin/phi-ingest.js gives it. Prints `ready` once
 * it receives, then `finished <ms>` as each batch ends (the wall-clock time, in milliseconds since
 * the epoch, at which its manifest was committed or it was quarantined), and on SIGTERM finishes
 * what is in flight and prints its report as one JSON line.
 */
import { createOrchestrator, openApp } from '../pipeline/app.js';
import type { BatchObserver } from '../pipeline/batch-observer.js';
import { loadConfig } from '../pipeline/config.js';

async function main(): Promise<void> {
  const app = await openApp(loadConfig(), { keys: 'create', pool: true });
  // The bench's clock for the end of a batch: the moment the orchestrator has it committed, not
  // the moment a poller of the tables would notice it.
  const observer: BatchObserver = {
    stageCompleted: () => {},
    batchFinished: () => {
      process.stdout.write(`finished ${(performance.timeOrigin + performance.now()).toFixed(1)}\n`);
    },
    queueMessagePoisoned: () => {},
    batchRetried: () => {},
  };
  const orchestrator = createOrchestrator(app, false, observer);
  process.once('SIGTERM', () => orchestrator.stop());

  // Peaks of the main thread's own memory, sampled: what RSS holds besides the worker threads.
  const peaks = { heapTotal: 0, external: 0, arrayBuffers: 0 };
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peaks.heapTotal = Math.max(peaks.heapTotal, usage.heapTotal);
    peaks.external = Math.max(peaks.external, usage.external);
    peaks.arrayBuffers = Math.max(peaks.arrayBuffers, usage.arrayBuffers);
  }, 100);
  const running = orchestrator.run();
  process.stdout.write('ready\n');
  const report = await running;
  clearInterval(sampler);
  await app.close();

  // resourceUsage().maxRSS is in kilobytes and covers every thread of the process.
  const summary = {
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    mainHeapPeakBytes: peaks.heapTotal,
    externalPeakBytes: peaks.external,
    arrayBuffersPeakBytes: peaks.arrayBuffers,
    files: report.results.length,
    poisoned: report.poisoned.length,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`pipeline process failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
