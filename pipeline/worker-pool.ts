import { Piscina } from 'piscina';

import { PipelineError } from './errors.js';
import { workerEntry } from './worker-bundle.js';
import type {
  EncodedTransformOutcome,
  FailedOutcome,
  OpenOutcome,
  OpenTask,
  TransformTask,
  WindowOutcome,
  WindowTask,
  WorkerOutcome,
  WorkerTask,
} from '../workers/task-types.js';

/** Old-generation heap of one worker thread, in MB: what a task's records need, with room. */
const WORKER_OLD_GENERATION_MB = 96;
/**
 * Young generation of one worker thread, in MB (V8's default here is 48). Measured with the
 * end-to-end bench (two 16 MB files in flight, 2026-12-04): peak RSS 504-523 MB at the default,
 * 491-500 at 32, 464-490 at 24, with throughput within the run-to-run spread; 64 MB of old
 * generation instead saved as much but doubled the collector's work.
 */
const WORKER_YOUNG_GENERATION_MB = 24;
/**
 * Old-generation heap of the thread that transforms whole FHIR JSON documents (Bundles): one
 * task holds the parsed document, about ten to twenty times its size.
 */
const DOCUMENT_OLD_GENERATION_MB = 4096;

/** The pool the orchestrator hands splitting, parsing, de-identification and compression to. */
export interface WorkerPool {
  /** Finds the records of one window of a file read in windows, and where to cut it. */
  prepareWindow(task: Omit<WindowTask, 'kind'>): Promise<WindowOutcome | FailedOutcome>;
  transform(task: Omit<TransformTask, 'kind'>): Promise<EncodedTransformOutcome | FailedOutcome>;
  open(task: Omit<OpenTask, 'kind'>): Promise<OpenOutcome | FailedOutcome>;
  /** Share of the pool's threads busy, 0 to 1. */
  utilization(): number;
  threads: number;
  destroy(): Promise<void>;
}

/**
 * Starts the worker-thread pool. Worker threads cannot load `.ts` on their own: from source
 * (tsx, vitest) they load a bundle of the entry built at start-up (see worker-bundle.ts).
 *
 * @param maxThreads - the most threads the pool may run
 * @param onWorkerError - told the code of a worker that failed outside a task (a task's own
 *   failure reaches its caller); the pool replaces the worker either way
 */
export function createWorkerPool(
  maxThreads: number,
  onWorkerError: (errorCode: string) => void = () => {},
): WorkerPool {
  const { href, execArgv } = workerEntry();
  const piscina = new Piscina({
    filename: href,
    minThreads: 1,
    maxThreads,
    execArgv,
    // Workers hold no state between tasks; an idle pool shrinks back to one thread.
    idleTimeout: 30_000,
    // Left alone, each worker's heap grows to two or three times what it holds live (see
    // docs/performance.md, Memory); the cap makes V8 collect instead.
    resourceLimits: {
      maxOldGenerationSizeMb: WORKER_OLD_GENERATION_MB,
      maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB,
    },
  });
  // A worker that dies (out of heap, say) also raises 'error' on its pool after its task has
  // failed; unheard, that event would end the whole process, drain and all.
  const heard = (error: unknown): void => onWorkerError(workerErrorCode(error));
  piscina.on('error', heard);
  // A FHIR JSON document cannot be cut into records before it is parsed, so its one task needs
  // a heap in proportion to the file: it runs on a thread of its own, started when a document
  // arrives and stopped soon after, so the capped pool stays capped.
  // Limitation: a document is held whole; its memory grows with its size (up to the cap here,
  // then WORKER_OUT_OF_MEMORY, retried, then quarantined).
  let documents: Piscina | undefined;
  const documentPool = (): Piscina =>
    (documents ??= new Piscina({
      filename: href,
      minThreads: 0,
      maxThreads: 1,
      execArgv,
      idleTimeout: 5_000,
      resourceLimits: { maxOldGenerationSizeMb: DOCUMENT_OLD_GENERATION_MB },
    }).on('error', heard));

  const run = async <T extends WorkerOutcome>(task: WorkerTask): Promise<T> => {
    const pool =
      task.kind === 'transform' && task.format === 'fhir-json' ? documentPool() : piscina;
    try {
      return (await pool.run(task)) as T;
    } catch (cause) {
      if (workerErrorCode(cause) === 'WORKER_OUT_OF_MEMORY') {
        throw new PipelineError('WORKER_OUT_OF_MEMORY', 'A worker task ran out of heap', {
          retryable: true,
          cause,
        });
      }
      // An uncaught throw inside a worker: a bug or an exhausted resource, worth another try.
      throw new PipelineError('WORKER_CRASHED', 'A worker task threw', { retryable: true, cause });
    }
  };

  return {
    prepareWindow: (task) => run({ kind: 'window', ...task }),
    transform: (task) => run({ kind: 'transform', ...task }),
    open: (task) => run({ kind: 'open', ...task }),
    utilization: () => piscina.utilization,
    threads: maxThreads,
    destroy: async () => {
      await Promise.all([piscina.destroy(), documents?.destroy()]);
    },
  };
}

/** The stable code for a worker's failure: out of heap, or any other crash. */
function workerErrorCode(error: unknown): 'WORKER_OUT_OF_MEMORY' | 'WORKER_CRASHED' {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'WORKER_OUT_OF_MEMORY' : 'WORKER_CRASHED';
}
