import { createHash } from 'node:crypto';

import pLimit from 'p-limit';

import { createBatchDeps, type App } from './app.js';
import { recordAuditEvent } from './audit.js';
import { errorCodeOf, isRetryable, PipelineError } from './errors.js';
import { failpoint } from './failpoint.js';
import {
  finishChainedCommit,
  getBatchRow,
  getManifest,
  manifestPath,
  type BatchManifest,
} from './manifest.js';
import { deletePoisonMessage, releasePoisonMessages } from './poison-queue.js';
import { writeBatchVersion, type BatchDeps, type SourceBlob } from './process-batch.js';
import { readSealedPart } from './read-part.js';
import {
  findUnfinishedRun,
  finishRun,
  planReprocess,
  saveBatchState,
  savePlan,
  selectionKeyOf,
  type PlannedBatch,
  type ReprocessPlan,
  type ReprocessSelection,
} from './reprocess-plan.js';
import { STORAGE_NAMES } from './storage.js';

export interface ReprocessOptions {
  selection: ReprocessSelection;
  /** Plan and report, write nothing. */
  dryRun?: boolean;
  /** Remove older versions' parts, rejects and quarantine copy once the new version commits. */
  replace?: boolean;
  /** Called after each batch, for a progress display. */
  onProgress?: (progress: ReprocessProgress) => void;
}

export interface ReprocessProgress {
  doneBatches: number;
  totalBatches: number;
  doneBytes: number;
  totalBytes: number;
}

/** How one planned batch ended in this invocation. */
export interface ReprocessOutcome {
  feedId: string;
  batchId: string;
  fromVersion: number;
  version: number;
  /** `committed` now; `already-done` by an earlier, interrupted invocation; `failed` with a code. */
  status: 'committed' | 'already-done' | 'failed';
  reasonCode?: string;
  counts?: BatchManifest['counts'];
}

export interface ReprocessReport {
  plan: ReprocessPlan;
  outcomes: ReprocessOutcome[];
}

/**
 * Writes a new version of each selected batch from its stored raw input, with the current
 * rules, mappings and keys, through the same worker path as the orchestrator. The plan (each
 * batch's target version) is saved before any write, so a run that is killed resumes when the
 * same command runs again: batches already committed are skipped, and one caught mid-write is
 * written again to the same paths. A batch whose input still fails keeps its current version.
 *
 * @param app - an app opened with keys and pool
 * @param options - selection, dry run, replace, progress
 */
export async function reprocess(app: App, options: ReprocessOptions): Promise<ReprocessReport> {
  const replace = options.replace ?? false;
  const selectionKey = selectionKeyOf(options.selection, replace);
  // A dry run shows what the same command would do, so it shows the run it would resume.
  const resumed = await findUnfinishedRun(app.storage, selectionKey);
  const plan =
    resumed ??
    (await planReprocess(app.storage, options.selection, replace, {
      feedsFile: app.config.feedsFile,
    }));
  const log = app.log.child({ runId: plan.runId });

  if (options.dryRun) {
    // A resumed plan's poison messages are the interrupted run's to delete: left as they are.
    if (!resumed) {
      await releasePoisonMessages(app.storage, claimedMessages(plan));
    }
    return { plan, outcomes: [] };
  }
  if (!resumed) {
    await savePlan(app.storage, plan);
  }
  log.info(
    { batchCount: plan.batches.length, skippedCount: plan.skipped.length },
    resumed ? 'Reprocess resumed' : 'Reprocess started',
  );

  const deps = createBatchDeps(app);
  const progress: ReprocessProgress = {
    doneBatches: 0,
    totalBatches: plan.batches.length,
    doneBytes: 0,
    totalBytes: plan.batches.reduce((sum, batch) => sum + batch.sizeBytes, 0),
  };
  options.onProgress?.({ ...progress });
  const outcomes: ReprocessOutcome[] = [];
  const limit = pLimit(app.config.concurrentFiles);
  await Promise.all(
    plan.batches.map((batch) =>
      limit(async () => {
        outcomes.push(await reprocessOne(app, deps, plan, batch));
        progress.doneBatches++;
        progress.doneBytes += batch.sizeBytes;
        options.onProgress?.({ ...progress });
      }),
    ),
  );

  const failed = plan.batches.filter((batch) => batch.state === 'failed');
  await releasePoisonMessages(app.storage, [
    ...plan.skipped.flatMap((item) => (item.poisonMessage ? [item.poisonMessage] : [])),
    ...failed.flatMap((batch) => (batch.poisonMessage ? [batch.poisonMessage] : [])),
  ]);
  await finishRun(app.storage, plan.runId);
  log.info({ batchCount: outcomes.length, failedCount: failed.length }, 'Reprocess finished');
  outcomes.sort((a, b) => a.feedId.localeCompare(b.feedId) || a.batchId.localeCompare(b.batchId));
  return { plan, outcomes };
}

async function reprocessOne(
  app: App,
  deps: BatchDeps,
  plan: ReprocessPlan,
  batch: PlannedBatch,
): Promise<ReprocessOutcome> {
  const log = app.log.child({ runId: plan.runId, feedId: batch.feedId, batchId: batch.batchId });
  const outcome = { feedId: batch.feedId, batchId: batch.batchId, fromVersion: batch.fromVersion };
  if (batch.state === 'done') {
    return { ...outcome, version: batch.targetVersion, status: 'already-done' };
  }

  // Limitation: two runs over the same batch at the same moment can both write its next version;
  // the last commit wins. Nothing locks a batch across runs; run one reprocess per batch at once.
  const row = await getBatchRow(app.storage, batch.feedId, batch.batchId);
  let status: ReprocessOutcome['status'] = 'already-done';
  let counts: BatchManifest['counts'] | undefined;
  // The row moves to the target version only when its manifest commits: a row already there
  // means an earlier invocation committed it and stopped before recording that.
  if ((row?.version ?? 1) < batch.targetVersion) {
    const written = await writeVersion(app, deps, plan, batch).catch((error: unknown) => {
      if (isRetryable(error)) {
        throw error;
      }
      return { reasonCode: errorCodeOf(error) };
    });
    if ('reasonCode' in written) {
      batch.state = 'failed';
      batch.reasonCode = written.reasonCode;
      await saveBatchState(app.storage, plan.runId, batch);
      log.warn(
        { reasonCode: batch.reasonCode, version: batch.fromVersion },
        'Batch reprocess failed',
      );
      return {
        ...outcome,
        version: batch.fromVersion,
        status: 'failed',
        reasonCode: batch.reasonCode,
      };
    }
    status = 'committed';
    counts = written.counts;
    log.info(
      {
        version: written.version,
        messageCount: counts.messagesIn,
        writtenCount: counts.written,
        rejectedCount: counts.rejected,
      },
      'Batch reprocessed',
    );
  }

  if (plan.replace) {
    await removeOlderVersions(app, batch);
  }
  if (batch.poisonMessage) {
    await deletePoisonMessage(app.storage, batch.poisonMessage);
  }
  batch.state = 'done';
  await saveBatchState(app.storage, plan.runId, batch);
  failpoint('reprocess-batch-done');
  return { ...outcome, version: batch.targetVersion, status, counts };
}

async function writeVersion(
  app: App,
  deps: BatchDeps,
  plan: ReprocessPlan,
  batch: PlannedBatch,
): Promise<BatchManifest | { reasonCode: string }> {
  // An earlier invocation killed after chaining this version's manifest wrote all of it.
  const finished = await finishChainedCommit(app.storage, deps.keyRing, {
    ...batch,
    version: batch.targetVersion,
  });
  if (finished) {
    await auditReprocessEvent(app, plan, batch, { manifest: finished });
    return finished;
  }
  const previous = await getManifest(app.storage, batch.manifestPath);
  const stored = batch.from === 'archive' ? previous.archive : previous.quarantine;
  if (!stored) {
    throw new PipelineError('SOURCE_NOT_STORED', 'The batch has no stored copy of its input');
  }
  const container =
    batch.from === 'archive' ? STORAGE_NAMES.archiveContainer : STORAGE_NAMES.quarantineContainer;
  const content = await readSealedPart(app, `${container}/${stored.path}`, {
    purpose: 'reprocess',
  });
  const startedAt = new Date();

  const source: SourceBlob = {
    file: {
      feedId: batch.feedId,
      blobName: previous.source.blobName,
      etag: previous.source.etag,
      source: 'phi-ingest',
    },
    batchId: batch.batchId,
    etag: previous.source.etag,
    sizeBytes: previous.source.sizeBytes,
    lastModified: new Date(previous.source.lastModified),
    ingestDate: previous.ingestDate,
  };
  if (
    previous.source.sha256 &&
    createHash('sha256').update(content).digest('hex') !== previous.source.sha256
  ) {
    throw new PipelineError(
      'SOURCE_HASH_MISMATCH',
      'The stored input does not match the hash in its manifest',
    );
  }

  const written = await writeBatchVersion(source, content, deps, {
    startedAt,
    attempt: 1,
    version: batch.targetVersion,
    supersedes: { version: batch.fromVersion, manifestPath: batch.manifestPath },
    reprocess: { runId: plan.runId, from: batch.from, replace: plan.replace },
    archive: batch.from === 'archive' ? previous.archive : undefined,
  });
  if (written.kind === 'failed') {
    // Nothing was written: the current version stays, and the poison message (if any) too.
    await auditReprocessEvent(app, plan, batch, { errorCode: written.failure.code });
    return { reasonCode: written.failure.code };
  }
  await auditReprocessEvent(app, plan, batch, { manifest: written.manifest });
  return written.manifest;
}

/**
 * Deletes the parts, reject parts and quarantine copy of every version older than the batch's
 * new one. Their manifests stay: they are the record of what was written and when. The archive
 * is shared by all versions and stays.
 */
async function removeOlderVersions(app: App, batch: PlannedBatch): Promise<void> {
  // Limitation: there is no retention command yet; older versions go only with --replace.
  for (let version = 1; version < batch.targetVersion; version++) {
    let manifest: BatchManifest;
    try {
      manifest = await getManifest(
        app.storage,
        manifestPath(batch.feedId, batch.ingestDate, batch.batchId, version),
      );
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) {
        continue;
      }
      throw error;
    }
    const stored = [
      ...manifest.parts,
      ...manifest.rejectParts,
      ...(manifest.quarantine ? [manifest.quarantine] : []),
    ];
    for (const part of stored) {
      await app.storage.blobService
        .getContainerClient(part.container)
        .getBlobClient(part.path)
        .deleteIfExists();
    }
  }
}

/**
 * The one place a reprocess records its audit event: one per batch version written, or per
 * batch whose input still failed. (Reading the stored input is audited by `readSealedPart`.)
 */
async function auditReprocessEvent(
  app: App,
  plan: ReprocessPlan,
  batch: PlannedBatch,
  result: { manifest: BatchManifest } | { errorCode: string },
): Promise<void> {
  const manifest = 'manifest' in result ? result.manifest : undefined;
  await recordAuditEvent(app, {
    action: 'reprocess',
    outcome: manifest ? 'succeeded' : 'failed',
    feedId: batch.feedId,
    batchId: batch.batchId,
    target: manifest
      ? `${STORAGE_NAMES.manifestsContainer}/${manifestPath(batch.feedId, batch.ingestDate, batch.batchId, batch.targetVersion)}`
      : undefined,
    errorCode: 'errorCode' in result ? result.errorCode : undefined,
    detail: {
      runId: plan.runId,
      fromVersion: batch.fromVersion,
      version: batch.targetVersion,
      from: batch.from,
      replace: plan.replace,
      ...(manifest
        ? {
            messageCount: manifest.counts.messagesIn,
            writtenCount: manifest.counts.written,
            rejectedCount: manifest.counts.rejected,
          }
        : {}),
    },
  });
}

function claimedMessages(plan: ReprocessPlan): Array<{ messageId: string; popReceipt: string }> {
  return [
    ...plan.batches.flatMap((batch) => (batch.poisonMessage ? [batch.poisonMessage] : [])),
    ...plan.skipped.flatMap((item) => (item.poisonMessage ? [item.poisonMessage] : [])),
  ];
}
