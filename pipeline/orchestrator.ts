import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

import type { DequeuedMessageItem } from '@azure/storage-queue';
import pLimit from 'p-limit';

import { BATCH_LOCK_SECONDS } from './batch-lock.js';
import { errorCodeOf, isRetryable } from './errors.js';
import type { PipelineLogger } from './logger.js';
import { processBatch, quarantineFile, type BatchDeps, type BatchResult } from './process-batch.js';
import { parseQueueMessage, type FileRef } from './queue-message.js';
import { STORAGE_NAMES } from './storage.js';

export interface OrchestratorOptions {
  visibilityTimeoutSec: number;
  maxAttempts: number;
  concurrentFiles: number;
  receiveBatchSize: number;
  pollIntervalMs: number;
  /** Return once the inbound queue is empty and nothing is in flight (`ingest`, the demo). */
  untilDrained: boolean;
}

/** What one orchestrator run did, for the summary. */
export interface RunReport {
  results: BatchResult[];
  poisoned: Array<{ reasonCode: string; batchId?: string }>;
  retried: number;
}

/** Body of a poison queue message: ids and a reason code, never file content. */
export interface PoisonMessage {
  type: 'phi-ingest.poison';
  version: 1;
  reasonCode: string;
  dequeueCount: number;
  originalMessageId: string;
  feedId?: string;
  blobName?: string;
  batchId?: string;
  poisonedAt: string;
}

/** Returns a worker id that names this process and no one's data. */
export function defaultWorkerId(): string {
  return `${hostname()}-${process.pid}`;
}

/**
 * The worker-role loop: receives queue messages, processes several files at once, keeps each
 * claimed queue message invisible while its file is processed, and deletes it only after the
 * batch is committed. Any number of orchestrators may compete for the same queue.
 */
export class Orchestrator {
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly report: RunReport = { results: [], poisoned: [], retried: 0 };
  private wake: (() => void) | undefined;
  /** When each queue message this loop released for a retry becomes visible again. */
  private readonly retryVisibleAtMs = new Map<string, number>();
  /** Whether this wait for invisible queue messages has been logged already. */
  private toldWaiting = false;

  constructor(
    private readonly deps: BatchDeps,
    private readonly options: OrchestratorOptions,
  ) {}

  /** Asks the loop to stop receiving; work in flight finishes first. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  /**
   * Runs until `stop()` or, with `untilDrained`, until the queue is empty.
   */
  async run(): Promise<RunReport> {
    const limit = pLimit(this.options.concurrentFiles);
    const log = this.deps.log;
    log.info(
      { concurrentFiles: this.options.concurrentFiles, threads: this.deps.pool.threads },
      'Orchestrator started',
    );

    while (!this.stopping) {
      const capacity = this.options.concurrentFiles - this.inFlight.size;
      if (capacity <= 0) {
        await Promise.race(this.inFlight);
        continue;
      }

      const received = await this.receive(Math.min(capacity, this.options.receiveBatchSize));
      for (const item of received) {
        const task = limit(() => this.handle(item)).finally(() => {
          this.inFlight.delete(task);
          this.wake?.();
        });
        this.inFlight.add(task);
      }
      if (received.length > 0) {
        this.toldWaiting = false;
        continue;
      }

      if (this.options.untilDrained && this.inFlight.size === 0 && (await this.drained())) {
        break;
      }
      await this.idle();
    }

    await Promise.all(this.inFlight);
    log.info({ fileCount: this.report.results.length }, 'Orchestrator stopped');
    return this.report;
  }

  private async receive(count: number): Promise<DequeuedMessageItem[]> {
    try {
      const response = await this.deps.storage.inboundQueue.receiveMessages({
        numberOfMessages: count,
        visibilityTimeout: this.options.visibilityTimeoutSec,
      });
      return response.receivedMessageItems;
    } catch (error) {
      // A storage outage: wait and try again rather than exit.
      this.deps.log.info({ errorCode: errorCodeOf(error) }, 'Queue receive failed');
      await this.idle();
      return [];
    }
  }

  /**
   * Whether the queue is empty, for `untilDrained`. The approximate count includes invisible
   * messages: after a receive that found nothing, those are ones another worker claimed (one
   * that was killed keeps them until their visibility timeout runs out) or ones this loop put
   * back for a retry. The first kind makes a silent wait of up to the visibility timeout, so it
   * is logged once per wait.
   */
  private async drained(): Promise<boolean> {
    const properties = await this.deps.storage.inboundQueue.getProperties();
    const invisibleCount = properties.approximateMessagesCount ?? 0;
    if (invisibleCount === 0) {
      return true;
    }

    const now = Date.now();
    for (const [messageId, visibleAtMs] of this.retryVisibleAtMs) {
      if (visibleAtMs <= now) {
        this.retryVisibleAtMs.delete(messageId);
      }
    }
    const heldElsewhere = invisibleCount - this.retryVisibleAtMs.size;
    if (heldElsewhere > 0 && !this.toldWaiting) {
      this.toldWaiting = true;
      this.deps.log.info(
        { queueName: STORAGE_NAMES.inboundQueue, messageCount: heldElsewhere },
        'Waiting for queue messages held by another worker',
      );
    }
    return false;
  }

  private async idle(): Promise<void> {
    const controller = new AbortController();
    const woken = new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    await Promise.race([
      sleep(this.options.pollIntervalMs, undefined, { signal: controller.signal }).catch(() => {}),
      woken,
    ]);
    controller.abort();
    this.wake = undefined;
  }

  private async handle(item: DequeuedMessageItem): Promise<void> {
    const log = this.deps.log.child({ messageId: item.messageId });
    const lease = new VisibilityLease(this.deps, item, this.options.visibilityTimeoutSec, log);
    const parsed = parseQueueMessage(item.messageText);

    try {
      if (!parsed.ok) {
        if (parsed.reasonCode === 'QUEUE_MESSAGE_IGNORED') {
          await lease.delete();
          log.info({ reasonCode: parsed.reasonCode }, 'Queue message ignored');
          return;
        }
        await this.poison(item, lease, parsed.reasonCode);
        return;
      }

      if (item.dequeueCount > this.options.maxAttempts) {
        await this.giveUp(parsed.file, item, lease, 'MAX_ATTEMPTS_EXCEEDED');
        return;
      }

      lease.start();
      const result = await processBatch(parsed.file, item.dequeueCount, this.deps);
      await lease.stop();
      this.deps.observer?.batchFinished(parsed.file.feedId, result);
      if (result.kind === 'source-missing') {
        await this.poison(item, lease, 'BLOB_NOT_FOUND', parsed.file);
        return;
      }
      if (result.kind === 'quarantined') {
        await this.poison(
          item,
          lease,
          result.manifest.reasonCode ?? 'QUARANTINED',
          parsed.file,
          result.manifest.batchId,
        );
      } else {
        await lease.delete();
      }
      this.report.results.push(result);
    } catch (error) {
      await lease.stop();
      await this.onFailure(error, parsed.ok ? parsed.file : undefined, item, lease, log);
    }
  }

  private async onFailure(
    error: unknown,
    file: FileRef | undefined,
    item: DequeuedMessageItem,
    lease: VisibilityLease,
    log: PipelineLogger,
  ): Promise<void> {
    const errorCode = errorCodeOf(error);
    const retryable = isRetryable(error);
    if (!file) {
      return;
    }
    // Another worker writing the batch is no failure of this file: wait for it however long.
    const outOfAttempts =
      item.dequeueCount >= this.options.maxAttempts && errorCode !== 'BATCH_IN_PROGRESS';
    if (!retryable || outOfAttempts) {
      log.warn({ errorCode, dequeueCount: item.dequeueCount, retryable }, 'Batch failed');
      await this.giveUp(file, item, lease, retryable ? 'MAX_ATTEMPTS_EXCEEDED' : errorCode).catch(
        (giveUpError: unknown) => {
          log.error({ errorCode: errorCodeOf(giveUpError) }, 'Quarantine failed');
        },
      );
      return;
    }

    // Come back soon rather than after the full visibility timeout; back off per attempt.
    this.report.retried++;
    this.deps.observer?.batchRetried(file.feedId, errorCode);
    // A batch another worker holds is tried again once that worker's lock would have run out.
    const backoffSec =
      errorCode === 'BATCH_IN_PROGRESS'
        ? BATCH_LOCK_SECONDS
        : Math.min(2 ** item.dequeueCount, this.options.visibilityTimeoutSec);
    log.info({ errorCode, dequeueCount: item.dequeueCount }, 'Batch will be retried');
    this.retryVisibleAtMs.set(item.messageId, Date.now() + backoffSec * 1000);
    await lease.release(backoffSec).catch(() => {});
  }

  private async giveUp(
    file: FileRef,
    item: DequeuedMessageItem,
    lease: VisibilityLease,
    reasonCode: string,
  ): Promise<void> {
    lease.start();
    try {
      const result = await quarantineFile(file, reasonCode, item.dequeueCount, this.deps);
      this.deps.observer?.batchFinished(file.feedId, result);
      if (result.kind === 'already-done') {
        // Another message for the same file saw it through: this one has nothing to report.
        await lease.delete();
        return;
      }
      const batchId = result.kind === 'quarantined' ? result.manifest.batchId : undefined;
      if (result.kind === 'quarantined') {
        this.report.results.push(result);
      }
      await this.poison(item, lease, reasonCode, file, batchId);
    } finally {
      await lease.stop();
    }
  }

  /** Moves a queue message to the poison queue with a reason, then deletes the original. */
  private async poison(
    item: DequeuedMessageItem,
    lease: VisibilityLease,
    reasonCode: string,
    file?: FileRef,
    batchId?: string,
  ): Promise<void> {
    const body: PoisonMessage = {
      type: 'phi-ingest.poison',
      version: 1,
      reasonCode,
      dequeueCount: item.dequeueCount,
      originalMessageId: item.messageId,
      feedId: file?.feedId,
      blobName: file?.blobName,
      batchId,
      poisonedAt: new Date().toISOString(),
    };
    const text = Buffer.from(JSON.stringify(body), 'utf8').toString('base64');
    // Poison messages are kept until handled: -1 means they never expire.
    await this.deps.storage.poisonQueue.sendMessage(text, { messageTimeToLive: -1 });
    await lease.delete();
    this.report.poisoned.push({ reasonCode, batchId });
    this.deps.observer?.queueMessagePoisoned(file?.feedId, reasonCode);
    this.deps.log.warn(
      { messageId: item.messageId, reasonCode, feedId: file?.feedId, batchId },
      'Queue message poisoned',
    );
  }
}

/**
 * Keeps a claimed queue message invisible while its file is processed. Each renewal returns a
 * new pop receipt, which every later update and the delete must use.
 */
class VisibilityLease {
  private popReceipt: string;
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: BatchDeps,
    private readonly item: DequeuedMessageItem,
    private readonly visibilityTimeoutSec: number,
    private readonly log: PipelineLogger,
  ) {
    this.popReceipt = item.popReceipt;
  }

  start(): void {
    if (this.timer) {
      return;
    }
    const everyMs = Math.max(1000, (this.visibilityTimeoutSec * 1000) / 3);
    this.timer = setInterval(() => {
      this.renewing = this.renew(this.visibilityTimeoutSec);
    }, everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.renewing;
  }

  /** Makes the message visible again after `delaySec`, for a retry. */
  async release(delaySec: number): Promise<void> {
    await this.stop();
    await this.renew(delaySec);
  }

  async delete(): Promise<void> {
    await this.stop();
    await this.deps.storage.inboundQueue.deleteMessage(this.item.messageId, this.popReceipt);
  }

  private async renew(visibilityTimeoutSec: number): Promise<void> {
    try {
      const response = await this.deps.storage.inboundQueue.updateMessage(
        this.item.messageId,
        this.popReceipt,
        undefined,
        visibilityTimeoutSec,
      );
      if (response.popReceipt) {
        this.popReceipt = response.popReceipt;
      }
    } catch (error) {
      // Lost the message (another worker may have it now); our final delete will fail and the
      // batch commit is idempotent, so the other worker's run gives the same result.
      this.log.info({ errorCode: errorCodeOf(error) }, 'Visibility renewal failed');
    }
  }
}
