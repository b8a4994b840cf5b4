import { PipelineError } from './errors.js';
import type { Storage } from './storage.js';

/*
 * A batch is written by one worker at a time. Queue messages do not promise that: the same file
 * announced twice (a feed that resends, two drops of one file) gives two messages for one blob
 * version and so one batch id, and two orchestrators, or two slots of one, can take them at once.
 * Both would write the same paths, each part sealed under its own data key, and the manifest
 * committed by one would name hashes the other's parts overwrote.
 *
 * The lock is a lease on an empty blob named after the batch in the `locks` container. A lease
 * lasts BATCH_LOCK_SECONDS (Azure's shortest) and is renewed while the batch is written, so a
 * worker that dies frees its batch within that time without anyone breaking the lease; the
 * queue message's default visibility timeout (60 s) is longer, so its retry finds it free.
 */

/** How long a lock outlives a worker that died holding it. */
export const BATCH_LOCK_SECONDS = 15;
const RENEW_EVERY_MS = (BATCH_LOCK_SECONDS * 1000) / 3;

/** A held batch lock; `release` ends the lease and stops renewing it. */
export interface BatchLock {
  release(): Promise<void>;
}

/**
 * Takes the lease on a batch, or fails with the retryable `BATCH_IN_PROGRESS` when another worker
 * holds it. The caller checks again, once holding it, whether the batch was committed meanwhile.
 *
 * @param storage - the opened storage
 * @param feedId - the batch's feed
 * @param batchId - the batch
 */
export async function lockBatch(
  storage: Storage,
  feedId: string,
  batchId: string,
): Promise<BatchLock> {
  const blob = storage.locks.getBlockBlobClient(`${feedId}/${batchId}`);
  try {
    await blob.upload('', 0, { conditions: { ifNoneMatch: '*' } });
  } catch (error) {
    // 409 (leased) and 412 (exists) both mean the lock blob is there already.
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== 409 && status !== 412) {
      throw error;
    }
  }

  const lease = blob.getBlobLeaseClient();
  try {
    await lease.acquireLease(BATCH_LOCK_SECONDS);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 409) {
      throw new PipelineError('BATCH_IN_PROGRESS', 'Another worker is writing this batch', {
        retryable: true,
      });
    }
    throw error;
  }

  let renewing: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    // Limitation: a renewal that fails (storage unreachable for 15 s) lets another worker take
    // the batch while this one still writes it; its queue message would be back by then too.
    renewing = lease.renewLease().catch(() => undefined);
  }, RENEW_EVERY_MS);
  timer.unref();

  return {
    release: async () => {
      clearInterval(timer);
      await renewing;
      // Deleted rather than released, so the container holds only batches being written.
      await blob
        .delete({ conditions: { leaseId: lease.leaseId } })
        .catch(() => lease.releaseLease())
        .catch(() => undefined);
    },
  };
}
