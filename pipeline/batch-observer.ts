import type { BatchManifest } from './manifest.js';

/** The timed steps of a batch, as the stage latency histogram labels them. */
export type BatchStage = 'download' | 'prepare' | 'transform' | 'write' | 'commit';

/** How a batch ended, for counting. Mirrors `BatchResult` without importing it (no cycle). */
export type ObservedResult =
  | { kind: 'committed' | 'quarantined'; manifest: BatchManifest }
  | { kind: 'already-done' | 'source-missing' };

/**
 * Hooks the pipeline calls as batches move, so metrics can count them without the batch code
 * knowing about Prometheus. Every argument is an id, a code, a count or a duration: never a blob
 * name or a value from a file.
 */
export interface BatchObserver {
  /** A step of one batch finished (successfully or not). */
  stageCompleted(stage: BatchStage, durationMs: number): void;
  /** A queue message's batch ended: committed, quarantined, a duplicate, or its blob was gone. */
  batchFinished(feedId: string | undefined, result: ObservedResult): void;
  /** A queue message went to the poison queue. */
  queueMessagePoisoned(feedId: string | undefined, reasonCode: string): void;
  /** A batch failed with a retryable error and its queue message was released for another try. */
  batchRetried(feedId: string, errorCode: string): void;
}

/**
 * Runs one step of a batch and tells the observer, if any, how long it took, failed or not.
 *
 * @param observer - the metrics hooks, or undefined
 * @param stage - the step
 * @param work - the step itself
 */
export async function timedStage<T>(
  observer: BatchObserver | undefined,
  stage: BatchStage,
  work: () => Promise<T>,
): Promise<T> {
  const startedAt = performance.now();
  try {
    return await work();
  } finally {
    observer?.stageCompleted(stage, performance.now() - startedAt);
  }
}
