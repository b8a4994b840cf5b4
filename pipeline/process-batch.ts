import { createHash, randomBytes } from 'node:crypto';

import pLimit from 'p-limit';

import { compressionSuffix } from '../transforms/compression.js';
import type { EncryptEnvelopeOptions } from '../transforms/crypto/index.js';
import { batchTaskKeys } from './batch-keys.js';
import { lockBatch } from './batch-lock.js';
import { timedStage, type BatchObserver, type BatchStage } from './batch-observer.js';
import { BatchOutputs, type WrittenOutputs } from './batch-outputs.js';
import { PipelineError } from './errors.js';
import type { FeedCatalog } from './feeds.js';
import type { KeyRing } from './key-store.js';
import { failpoint } from './failpoint.js';
import type { PipelineLogger } from './logger.js';
import {
  batchFolder,
  batchIdFor,
  batchSegment,
  commitManifest,
  finishChainedCommit,
  getBatchRow,
  getSourceRow,
  type BatchManifest,
  type StoredPart,
} from './manifest.js';
import type { FileRef } from './queue-message.js';
import { STORAGE_NAMES, type Storage } from './storage.js';
import { SealedBlobWriter } from './sealed-blob-writer.js';
import { assertChainable } from './signed-chain.js';
import {
  blobSource,
  hashSource,
  memorySource,
  transformInWindows,
  type SourceReader,
  type WindowRunResult,
} from './windowed-batch.js';
import type { WorkerPool } from './worker-pool.js';
import type { FailedOutcome, Position } from '../workers/task-types.js';

/** What processing a file needs besides the file itself. */
export interface BatchDeps {
  storage: Storage;
  pool: WorkerPool;
  keyRing: KeyRing;
  log: PipelineLogger;
  feeds: FeedCatalog;
  settings: BatchSettings;
  /** Metrics hooks; absent when nothing is watching. */
  observer?: BatchObserver;
}

export interface BatchSettings {
  maxFileBytes: number;
  /** Bytes of a file read and held at a time; 8 MiB when unset. */
  windowBytes?: number;
  partMaxRecords: number;
  taskMaxRecords: number;
  pipelineVersion: string;
  configHash: string;
  workerId: string;
}

/** How a file ended. */
export type BatchResult =
  | { kind: 'committed'; manifest: BatchManifest }
  | { kind: 'quarantined'; manifest: BatchManifest }
  | { kind: 'already-done'; batchId: string; status: string }
  | { kind: 'source-missing' };

/** A batch's source file: read from the inbound blob, or, to reprocess, from its manifest. */
export interface SourceBlob {
  file: FileRef;
  batchId: string;
  etag: string;
  sizeBytes: number;
  lastModified: Date;
  ingestDate: string;
}

/** How one version of a batch is written. */
export interface BatchRun {
  startedAt: Date;
  /** The queue message's dequeue count; 1 for a reprocess. */
  attempt: number;
  /** 1 for the inbound file; 2 and up for a reprocess. */
  version: number;
  supersedes?: BatchManifest['supersedes'];
  reprocess?: BatchManifest['reprocess'];
  /** The archive already stored for this batch; absent means this run writes it. */
  archive?: StoredPart;
}

/** What writing a batch version gave: a committed manifest, or the reason the file failed. */
export type BatchVersionResult =
  | { kind: 'committed'; manifest: BatchManifest }
  | { kind: 'failed'; failure: FailedOutcome; sourceSha256: string };

/** Bytes read and held at a time when the settings leave it unset. */
const DEFAULT_WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * Processes one inbound file as one batch: archive, transform through the pool, write encrypted
 * parts, then the manifest. Every write goes to a path derived from the batch id, so running it
 * again after a crash overwrites the same objects and commits one manifest.
 *
 * @param file - the file the queue message announced
 * @param attempt - the queue message's dequeue count
 * @param deps - storage, pool, keys, logger and settings
 */
export async function processBatch(
  file: FileRef,
  attempt: number,
  deps: BatchDeps,
): Promise<BatchResult> {
  const claimed = await claimSource(file, deps);
  if (claimed.kind !== 'claimed') {
    return claimed;
  }
  return withBatchLock(claimed.source, deps, () => processClaimed(claimed.source, attempt, deps));
}

/**
 * Runs `work` holding the batch's lock (`batch-lock.ts`). Another worker may have committed the
 * batch between the first check and the lock; then there is nothing left to do.
 */
async function withBatchLock(
  source: SourceBlob,
  deps: BatchDeps,
  work: () => Promise<BatchResult>,
): Promise<BatchResult> {
  const { feedId } = source.file;
  const lock = await lockBatch(deps.storage, feedId, source.batchId);
  try {
    const existing = await getBatchRow(deps.storage, feedId, source.batchId);
    if (existing) {
      deps.log.info(
        { feedId, batchId: source.batchId, status: existing.status },
        'Batch already committed',
      );
      return { kind: 'already-done', batchId: source.batchId, status: existing.status };
    }
    const finished = await finishChainedCommit(deps.storage, deps.keyRing, {
      feedId,
      ingestDate: source.ingestDate,
      batchId: source.batchId,
      version: 1,
    });
    if (finished) {
      return afterFinishedCommit(source, finished, deps);
    }
    return await work();
  } finally {
    await lock.release();
  }
}

/**
 * What the run that chained a manifest would have done after the commit: the inbound blob goes
 * once the batch's input is stored (committed, or quarantined with a copy); a file quarantined
 * in place keeps it, as it is the only copy.
 */
async function afterFinishedCommit(
  source: SourceBlob,
  manifest: BatchManifest,
  deps: BatchDeps,
): Promise<BatchResult> {
  const quarantinedInPlace = manifest.status === 'quarantined' && !manifest.quarantine;
  if (!quarantinedInPlace) {
    await deleteInboundBlob(deps.storage, source.file.blobName, source.etag);
  }
  deps.log.info(
    { feedId: source.file.feedId, batchId: source.batchId, status: manifest.status },
    'Batch commit finished from its chained manifest',
  );
  return manifest.status === 'quarantined'
    ? { kind: 'quarantined', manifest }
    : { kind: 'committed', manifest };
}

async function processClaimed(
  source: SourceBlob,
  attempt: number,
  deps: BatchDeps,
): Promise<BatchResult> {
  const file = source.file;
  const log = deps.log.child({ feedId: file.feedId, batchId: source.batchId });

  const startedAt = new Date();
  if (source.sizeBytes > deps.settings.maxFileBytes) {
    log.warn({ reasonCode: 'FILE_TOO_LARGE', sizeBytes: source.sizeBytes }, 'Batch quarantined');
    return quarantineInPlace(source, 'FILE_TOO_LARGE', attempt, deps);
  }

  // The file is read in windows as it is transformed, never held whole (docs/performance.md).
  const reader = blobSource(
    deps.storage.inbound.getBlobClient(file.blobName),
    source.etag,
    source.sizeBytes,
  );
  const duplicateOf = await committedWithSameContent(file, reader, deps);
  if (duplicateOf) {
    // The same bytes under the same name were ingested already (a resend, or a second drop):
    // writing them again would duplicate every record. `reprocess` is the way to run them again.
    await deleteInboundBlob(deps.storage, file.blobName, source.etag);
    log.info({ status: 'duplicate' }, 'Duplicate file skipped');
    return { kind: 'already-done', batchId: duplicateOf, status: 'duplicate' };
  }
  log.info({ sizeBytes: source.sizeBytes, attempt }, 'Batch claimed');

  const written = await writeBatchVersion(source, reader, deps, {
    startedAt,
    attempt,
    version: 1,
  });
  if (written.kind === 'failed') {
    return quarantine(source, reader, written.failure, deps, { startedAt, attempt });
  }
  const manifest = written.manifest;

  await deleteInboundBlob(deps.storage, file.blobName, source.etag);
  log.info(
    {
      format: manifest.format,
      messageCount: manifest.counts.messagesIn,
      writtenCount: manifest.counts.written,
      rejectedCount: manifest.counts.rejected,
      partCount: manifest.parts.length,
      durationMs: Date.now() - startedAt.getTime(),
    },
    'Batch committed',
  );
  if (manifest.batchTrailersMissing) {
    // Accepted (the standard makes trailers optional), but a file cut in transit looks like this.
    log.warn({ reasonCode: 'HL7_BATCH_TRAILER_MISSING' }, 'Batch trailers missing');
  }
  return { kind: 'committed', manifest };
}

/**
 * Runs a file's bytes through the pool and commits one version of its batch: parts, rejects,
 * the archive unless one is already stored, then the manifest. Version 1 is the inbound file;
 * `reprocess` writes later versions from the archive or the quarantine copy through this same
 * path. All paths derive from batch id and version, so a rerun after a crash overwrites the
 * same objects. A file that cannot be transformed comes back as `failed`, with nothing written.
 *
 * @param source - the batch's source file
 * @param content - the file's bytes, or a reader that gives them window by window
 * @param deps - storage, pool, keys, logger and settings
 * @param run - version, attempt and, for a reprocess, what it supersedes
 */
export async function writeBatchVersion(
  source: SourceBlob,
  content: Uint8Array | SourceReader,
  deps: BatchDeps,
  run: BatchRun,
): Promise<BatchVersionResult> {
  // Limitation: reprocess passes the stored copy decrypted whole, so it holds the file in memory;
  // the inbound path reads it window by window.
  const reader = content instanceof Uint8Array ? memorySource(content) : content;
  const feedId = source.file.feedId;
  const feed = deps.feeds.settingsFor(feedId);
  const folder = batchFolder(feedId, source.ingestDate, source.batchId, run.version);
  const compression = feed.compression;
  // The raw input is the same for every version, so it has one unversioned archive path.
  const archiveFolder = batchFolder(feedId, source.ingestDate, source.batchId);
  const segment = batchSegment(source.batchId, run.version);
  const outputs = new BatchOutputs({
    storage: deps.storage,
    envelope: await batchEnvelope(deps, source.batchId),
    compression,
    partMaxRecords: deps.settings.partMaxRecords,
    partitionOf: (recordType) =>
      `feed=${feedId}/type=${partitionValue(recordType)}/date=${source.ingestDate}/batch=${segment}`,
    rejectFolder: folder,
    archivePath: run.archive
      ? undefined
      : `${archiveFolder}/source${compressionSuffix(compression.codec)}.enc`,
  });

  let transformed: Awaited<ReturnType<typeof transformInWindows>>;
  try {
    transformed = await timed(deps, 'transform', () =>
      transformInWindows(reader, {
        pool: deps.pool,
        outputs,
        windowBytes: deps.settings.windowBytes ?? DEFAULT_WINDOW_BYTES,
        // A task's group never straddles two parts, so parts are whole groups.
        taskRecords: Math.min(deps.settings.taskMaxRecords, deps.settings.partMaxRecords),
        acceptBatchCountMismatch: feed.acceptBatchCountMismatch,
        pseudonymKey: deps.keyRing.pseudonymKey,
        deid: {
          ...deps.feeds.deidRulesFor(feedId),
          referenceYear: Number(source.ingestDate.slice(0, 4)),
        },
        compression,
        observer: deps.observer,
      }),
    );
  } catch (error) {
    await outputs.abort();
    throw error;
  }
  if (transformed.status === 'failed') {
    // Parts already committed are deleted: without a manifest they must not look like output.
    await outputs.abort();
    const sourceSha256 =
      content instanceof Uint8Array ? createHash('sha256').update(content).digest('hex') : '';
    return { kind: 'failed', failure: transformed.failure, sourceSha256 };
  }

  const written = await timed(deps, 'write', () => outputs.finish());
  failpoint('after-outputs-written');
  let manifest: BatchManifest;
  try {
    manifest = manifestOf(source, deps, run, transformed, written);
    assertChainable(manifest);
    failpoint('before-manifest-commit');
  } catch (error) {
    // Nothing of the manifest is written yet: what was stored would be left without one.
    const archive = run.archive === undefined && written.archive ? [written.archive] : [];
    await deleteStored(deps.storage, [...written.parts, ...written.rejectParts, ...archive]);
    throw error;
  }
  await timed(deps, 'commit', () => commitManifest(deps.storage, manifest, deps.keyRing));
  failpoint('after-manifest-committed');
  return { kind: 'committed', manifest };
}

function manifestOf(
  source: SourceBlob,
  deps: BatchDeps,
  run: BatchRun,
  transformed: Extract<WindowRunResult, { status: 'ok' }>,
  written: WrittenOutputs,
): BatchManifest {
  const manifest = baseManifest(
    source,
    deps,
    run.startedAt,
    run.attempt,
    transformed.sha256,
    transformed.format,
  );
  manifest.version = run.version;
  manifest.supersedes = run.supersedes;
  manifest.reprocess = run.reprocess;
  manifest.archive = run.archive ?? written.archive;
  manifest.parts = written.parts;
  manifest.rejectParts = written.rejectParts;
  manifest.batchCountMismatch = transformed.countMismatch;
  manifest.batchTrailersMissing = transformed.trailersMissing;
  manifest.counts = written.counts;
  if (manifest.counts.messagesIn !== manifest.counts.written + manifest.counts.rejected) {
    throw new PipelineError(
      'BATCH_COUNT_INVARIANT',
      'Written plus rejected differs from records in',
    );
  }
  manifest.finishedAt = new Date().toISOString();
  return manifest;
}

async function deleteStored(storage: Storage, stored: StoredPart[]): Promise<void> {
  const limit = pLimit(16);
  await Promise.all(
    stored.map((part) =>
      limit(() =>
        storage.blobService
          .getContainerClient(part.container)
          .getBlobClient(part.path)
          .deleteIfExists(),
      ),
    ),
  );
}

/**
 * The envelope options every object of one batch version is sealed with: one fresh data key,
 * wrapped by the batch key (one per batch id, shared by its versions; see batch-keys.ts).
 *
 * @param deps - keys and storage
 * @param batchId - the batch, bound into each envelope
 */
export async function batchEnvelope(
  deps: Pick<BatchDeps, 'keyRing' | 'storage'>,
  batchId: string,
): Promise<EncryptEnvelopeOptions> {
  const keys = await batchTaskKeys(deps.storage, deps.keyRing, batchId);
  return {
    dek: new Uint8Array(randomBytes(32)),
    kek: keys.keyEncryptionKey,
    kekId: keys.encryptionKeyId,
    kekVersion: keys.keyVersion,
    batchId,
  };
}

/**
 * Records a file that could not be processed at all: an encrypted copy in quarantine and a
 * manifest with the reason. Used for unreadable files and, by the orchestrator, for files whose
 * queue message ran out of attempts.
 *
 * @param file - the file
 * @param reasonCode - why
 * @param attempt - the dequeue count
 * @param deps - storage, pool, keys, logger and settings
 */
export async function quarantineFile(
  file: FileRef,
  reasonCode: string,
  attempt: number,
  deps: BatchDeps,
): Promise<BatchResult> {
  const claimed = await claimSource(file, deps);
  if (claimed.kind !== 'claimed') {
    return claimed;
  }
  const source = claimed.source;
  return withBatchLock(source, deps, async () => {
    if (source.sizeBytes > deps.settings.maxFileBytes) {
      return quarantineInPlace(source, reasonCode, attempt, deps);
    }
    const reader = blobSource(
      deps.storage.inbound.getBlobClient(file.blobName),
      source.etag,
      source.sizeBytes,
    );
    const failure: FailedOutcome = { status: 'failed', code: reasonCode, retryable: false };
    return quarantine(source, reader, failure, deps, { startedAt: new Date(), attempt });
  });
}

/**
 * Reads the source blob's properties and checks whether its batch is done already: returns the
 * source to process, or the result when there is nothing left to do (blob gone, or committed
 * before, in which case a leftover inbound copy is deleted).
 */
async function claimSource(
  file: FileRef,
  deps: BatchDeps,
): Promise<{ kind: 'claimed'; source: SourceBlob } | BatchResult> {
  const source = await readSourceProperties(file, deps.storage);
  if (!source) {
    return resolveMissingSource(file, deps.storage);
  }
  const existing = await getBatchRow(deps.storage, file.feedId, source.batchId);
  if (existing) {
    await deleteInboundBlob(deps.storage, file.blobName, source.etag);
    deps.log.info(
      { feedId: file.feedId, batchId: source.batchId, status: existing.status },
      'Batch already committed',
    );
    return { kind: 'already-done', batchId: source.batchId, status: existing.status };
  }
  return { kind: 'claimed', source };
}

/**
 * Records a file too large to copy as quarantined, leaving it in the inbound container.
 * Limitation: such files stay in the inbound container, unarchived; they are recorded so nothing
 * is lost silently, and streaming them is a later issue.
 */
async function quarantineInPlace(
  source: SourceBlob,
  reasonCode: string,
  attempt: number,
  deps: BatchDeps,
): Promise<BatchResult> {
  const manifest = baseManifest(source, deps, new Date(), attempt, '', 'unknown');
  manifest.status = 'quarantined';
  manifest.reasonCode = reasonCode;
  await commitManifest(deps.storage, manifest, deps.keyRing);
  return { kind: 'quarantined', manifest };
}

async function quarantine(
  source: SourceBlob,
  reader: SourceReader,
  failure: FailedOutcome,
  deps: BatchDeps,
  run: { startedAt: Date; attempt: number },
): Promise<BatchResult> {
  const folder = batchFolder(source.file.feedId, source.ingestDate, source.batchId);
  const compression = deps.feeds.settingsFor(source.file.feedId).compression;
  const path = `${folder}/source${compressionSuffix(compression.codec)}.enc`;
  const client = deps.storage.blobService
    .getContainerClient(STORAGE_NAMES.quarantineContainer)
    .getBlockBlobClient(path);
  // Streamed window by window (compressed, sealed, staged), hashed on the way.
  const writer = new SealedBlobWriter(
    client,
    await batchEnvelope(deps, source.batchId),
    compression,
  );
  let sourceSha256: string;
  let sealed: Awaited<ReturnType<SealedBlobWriter['finish']>>;
  try {
    sourceSha256 = await hashSource(
      reader,
      deps.settings.windowBytes ?? DEFAULT_WINDOW_BYTES,
      (bytes) => writer.write(bytes),
    );
    sealed = await writer.finish();
  } catch (error) {
    writer.abort();
    throw error;
  }
  const stored: StoredPart = {
    path,
    container: STORAGE_NAMES.quarantineContainer,
    recordCount: 1,
    ...sealed,
  };

  const manifest = baseManifest(
    source,
    deps,
    run.startedAt,
    run.attempt,
    sourceSha256,
    failure.format ?? 'unknown',
  );
  manifest.status = 'quarantined';
  manifest.reasonCode = failure.code;
  manifest.reasonPosition = positionFields(failure.position);
  manifest.quarantine = stored;
  manifest.finishedAt = new Date().toISOString();
  await commitManifest(deps.storage, manifest, deps.keyRing);
  await deleteInboundBlob(deps.storage, source.file.blobName, source.etag);

  deps.log.warn(
    { feedId: source.file.feedId, batchId: source.batchId, reasonCode: failure.code },
    'Batch quarantined',
  );
  return { kind: 'quarantined', manifest };
}

function baseManifest(
  source: SourceBlob,
  deps: BatchDeps,
  startedAt: Date,
  attempt: number,
  sha256: string,
  format: string,
): BatchManifest {
  return {
    manifestVersion: 1,
    batchId: source.batchId,
    feedId: source.file.feedId,
    status: 'committed',
    source: {
      container: STORAGE_NAMES.inboundContainer,
      blobName: source.file.blobName,
      etag: source.etag,
      sizeBytes: source.sizeBytes,
      sha256,
      lastModified: source.lastModified.toISOString(),
    },
    format,
    ingestDate: source.ingestDate,
    counts: {
      messagesIn: 0,
      written: 0,
      rejected: 0,
      writtenByPartition: {},
      rejectedByReason: {},
    },
    parts: [],
    rejectParts: [],
    encryption: {
      algorithm: 'A256GCM-STREAM',
      encryptionKeyId: deps.keyRing.encryptionKeyId,
      keyVersion: deps.keyRing.currentKeyVersion,
    },
    pipelineVersion: deps.settings.pipelineVersion,
    configHash: `${deps.settings.configHash}-${deps.feeds.settingsHash(source.file.feedId)}`,
    workerId: deps.settings.workerId,
    attempt,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
  };
}

function timed<T>(deps: BatchDeps, stage: BatchStage, work: () => Promise<T>): Promise<T> {
  return timedStage(deps.observer, stage, work);
}

async function readSourceProperties(
  file: FileRef,
  storage: Storage,
): Promise<SourceBlob | undefined> {
  try {
    const properties = await storage.inbound.getBlobClient(file.blobName).getProperties();
    const etag = properties.etag ?? '';
    const lastModified = properties.lastModified ?? new Date(0);
    return {
      file,
      batchId: batchIdFor(file.feedId, file.blobName, etag),
      etag,
      sizeBytes: properties.contentLength ?? 0,
      lastModified,
      // The blob's own time, not the clock: a retry after midnight writes the same partition.
      ingestDate: lastModified.toISOString().slice(0, 10),
    };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) {
      return undefined;
    }
    throw error;
  }
}

/** The batch id a committed earlier version of this blob name with identical bytes became. */
async function committedWithSameContent(
  file: FileRef,
  reader: SourceReader,
  deps: BatchDeps,
): Promise<string | undefined> {
  const row = await getSourceRow(deps.storage, file.feedId, file.blobName);
  if (!row || row.status !== 'committed' || !row.sha256) {
    return undefined;
  }
  // Only a name ingested before needs its hash before anything is written: one pass that reads
  // the file window by window and keeps nothing.
  const sha256 = await hashSource(reader, deps.settings.windowBytes ?? DEFAULT_WINDOW_BYTES);
  return sha256 === row.sha256 ? row.batchId : undefined;
}

/** A queue message whose blob is gone: done already (a duplicate delivery), or lost. */
async function resolveMissingSource(file: FileRef, storage: Storage): Promise<BatchResult> {
  const row = await getSourceRow(storage, file.feedId, file.blobName);
  return row
    ? { kind: 'already-done', batchId: row.batchId, status: row.status }
    : { kind: 'source-missing' };
}

async function deleteInboundBlob(storage: Storage, blobName: string, etag: string): Promise<void> {
  try {
    // Only the version this batch read: a newer upload under the same name stays for its own event.
    await storage.inbound.getBlobClient(blobName).delete({ conditions: { ifMatch: etag } });
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== 404 && status !== 412) {
      throw error;
    }
  }
}

/** Partition values keep to letters, digits, `_` and `-`: `ADT^A01` becomes `ADT_A01`. */
function partitionValue(recordType: string): string {
  return recordType.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'unknown';
}

function positionFields(
  position: Position | undefined,
): Record<string, string | number> | undefined {
  if (!position) {
    return undefined;
  }
  const fields: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(position)) {
    if (
      typeof value === 'number' ||
      (typeof value === 'string' && /^[A-Za-z0-9.\-[\]]{1,64}$/.test(value))
    ) {
      fields[key] = value;
    }
  }
  return fields;
}
