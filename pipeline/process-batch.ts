import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import {
  compressesInPieces,
  compressionSuffix,
  type Compression,
} from '../transforms/compression.js';
import { batchTaskKeys } from './batch-keys.js';
import type { BatchObserver, BatchStage } from './batch-observer.js';
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
  getBatchRow,
  getSourceRow,
  type BatchManifest,
  type StoredPart,
} from './manifest.js';
import type { FileRef } from './queue-message.js';
import { STORAGE_NAMES, type Storage } from './storage.js';
import { concatBytes, packParts } from './pack-parts.js';
import type { WorkerPool } from './worker-pool.js';
import type {
  EncodedRecordGroup,
  EncodedTransformOutcome,
  FailedOutcome,
  Position,
  RejectLine,
  TaskDeidFields,
  TaskKeys,
} from '../workers/task-types.js';

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

const encoder = new TextEncoder();

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
  const source = claimed.source;
  const log = deps.log.child({ feedId: file.feedId, batchId: source.batchId });

  const startedAt = new Date();
  if (source.sizeBytes > deps.settings.maxFileBytes) {
    log.warn({ reasonCode: 'FILE_TOO_LARGE', sizeBytes: source.sizeBytes }, 'Batch quarantined');
    return quarantineInPlace(source, 'FILE_TOO_LARGE', attempt, deps);
  }

  const downloadStartedAt = performance.now();
  const content = await downloadSource(file, source, deps.storage);
  deps.observer?.stageCompleted('download', performance.now() - downloadStartedAt);
  const duplicateOf = await committedWithSameContent(file, content, deps.storage);
  if (duplicateOf) {
    // The same bytes under the same name were ingested already (a resend, or a second drop):
    // writing them again would duplicate every record. `reprocess` is the way to run them again.
    await deleteInboundBlob(deps.storage, file.blobName, source.etag);
    log.info({ status: 'duplicate' }, 'Duplicate file skipped');
    return { kind: 'already-done', batchId: duplicateOf, status: 'duplicate' };
  }
  log.info({ sizeBytes: content.length, attempt }, 'Batch claimed');

  const written = await writeBatchVersion(source, content, deps, {
    startedAt,
    attempt,
    version: 1,
  });
  if (written.kind === 'failed') {
    const seal = createBatchSealer(deps, source.batchId);
    return quarantine(source, content, written.sourceSha256, written.failure, deps, {
      startedAt,
      attempt,
      seal,
    });
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
 * @param content - the file's bytes
 * @param deps - storage, pool, keys, logger and settings
 * @param run - version, attempt and, for a reprocess, what it supersedes
 */
export async function writeBatchVersion(
  source: SourceBlob,
  content: Uint8Array,
  deps: BatchDeps,
  run: BatchRun,
): Promise<BatchVersionResult> {
  const sourceSha256 = createHash('sha256').update(content).digest('hex');
  const shared = sharedCopyOf(content);
  const feedId = source.file.feedId;
  const folder = batchFolder(feedId, source.ingestDate, source.batchId, run.version);
  const seal = createBatchSealer(deps, source.batchId);
  const compression = deps.feeds.settingsFor(feedId).compression;
  // gzip pieces of the source, compressed by the transform tasks, make the archive in parallel.
  const archiveInPieces = run.archive === undefined && compressesInPieces(compression);

  const prepared = await timed(deps, 'prepare', () =>
    deps.pool.prepare({
      source: shared,
      acceptBatchCountMismatch: deps.feeds.settingsFor(feedId).acceptBatchCountMismatch,
    }),
  );
  if (prepared.status === 'failed') {
    return { kind: 'failed', failure: prepared, sourceSha256 };
  }

  const outcomes = await timed(deps, 'transform', () =>
    runTransforms(prepared.format, prepared.ranges, shared, deps, {
      ...deps.feeds.deidRulesFor(feedId),
      referenceYear: Number(source.ingestDate.slice(0, 4)),
      compression,
      archiveInPieces,
    }),
  );
  const failure = outcomes.find((outcome): outcome is FailedOutcome => outcome.status === 'failed');
  if (failure) {
    return { kind: 'failed', failure, sourceSha256 };
  }
  const transformed = outcomes as EncodedTransformOutcome[];

  const writeStartedAt = performance.now();
  // The raw input is the same for every version, so it has one unversioned archive path.
  const archiveFolder = batchFolder(feedId, source.ingestDate, source.batchId);
  const archivePath = `${archiveFolder}/source${compressionSuffix(compression.codec)}.enc`;
  // Limitation: brotli cannot be concatenated, so a brotli archive (and each brotli part) is
  // compressed in one piece on one thread; gzip is compressed in pieces by the transform tasks.
  const archivePieces = transformed.flatMap((outcome) => outcome.archivePiece ?? []);
  const archiveSealed = run.archive
    ? undefined
    : archivePieces.length > 0
      ? seal(concatBytes(archivePieces), null, true)
      : seal(content, compression);
  const rejectLines = transformed.flatMap((outcome) => outcome.rejects);
  const [archive, parts, rejectParts] = await Promise.all([
    run.archive ??
      (async () => {
        const sealed = await archiveSealed!;
        return writeSealed(deps.storage, STORAGE_NAMES.archiveContainer, archivePath, sealed, 1);
      })(),
    writeParts(transformed, source, run.version, deps, seal, compression),
    writeRejectParts(rejectLines, folder, deps, seal, compression),
  ]);
  deps.observer?.stageCompleted('write', performance.now() - writeStartedAt);
  failpoint('after-outputs-written');

  const manifest = baseManifest(
    source,
    deps,
    run.startedAt,
    run.attempt,
    sourceSha256,
    prepared.format,
  );
  manifest.version = run.version;
  manifest.supersedes = run.supersedes;
  manifest.reprocess = run.reprocess;
  manifest.archive = archive;
  manifest.parts = parts;
  manifest.rejectParts = rejectParts;
  manifest.batchCountMismatch = prepared.countMismatch;
  manifest.counts = countBatch(transformed, parts, rejectLines);
  if (manifest.counts.messagesIn !== manifest.counts.written + manifest.counts.rejected) {
    throw new PipelineError(
      'BATCH_COUNT_INVARIANT',
      'Written plus rejected differs from records in',
    );
  }
  manifest.finishedAt = new Date().toISOString();
  await timed(deps, 'commit', () => commitManifest(deps.storage, manifest, deps.keyRing));
  failpoint('after-manifest-committed');
  return { kind: 'committed', manifest };
}

/**
 * Returns a function that compresses and encrypts bytes on the pool under one fresh data key,
 * wrapped by the current key encryption key. One per batch version.
 *
 * @param deps - pool and keys
 * @param batchId - the batch, bound into each envelope
 */
export function createBatchSealer(
  deps: Pick<BatchDeps, 'pool' | 'keyRing' | 'storage'>,
  batchId: string,
): BatchSealer {
  const dataKey = new Uint8Array(randomBytes(32));
  // The batch key (one per batch id, shared by its versions) wraps the data key; see batch-keys.ts.
  const keys = batchTaskKeys(deps.storage, deps.keyRing, batchId);
  keys.catch(() => undefined);
  return async (plaintext, compression, move = false) =>
    deps.pool.seal({ plaintext, compression, dataKey, keys: await keys, batchId }, move);
}

/**
 * Seals bytes on the pool: compresses them unless `compression` is null (already compressed),
 * then encrypts. With `move`, the plaintext is transferred to the worker and unusable after.
 */
export type BatchSealer = (
  plaintext: Uint8Array,
  compression: Compression | null,
  move?: boolean,
) => ReturnType<WorkerPool['seal']>;

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
  if (source.sizeBytes > deps.settings.maxFileBytes) {
    return quarantineInPlace(source, reasonCode, attempt, deps);
  }

  const content = await downloadSource(file, source, deps.storage);
  const seal = createBatchSealer(deps, source.batchId);
  const failure: FailedOutcome = { status: 'failed', code: reasonCode, retryable: false };
  const sha256 = createHash('sha256').update(content).digest('hex');
  return quarantine(source, content, sha256, failure, deps, {
    startedAt: new Date(),
    attempt,
    seal,
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
  content: Uint8Array,
  sourceSha256: string,
  failure: FailedOutcome,
  deps: BatchDeps,
  run: {
    startedAt: Date;
    attempt: number;
    seal: BatchSealer;
  },
): Promise<BatchResult> {
  const folder = batchFolder(source.file.feedId, source.ingestDate, source.batchId);
  const compression = deps.feeds.settingsFor(source.file.feedId).compression;
  const stored = await writeSealed(
    deps.storage,
    STORAGE_NAMES.quarantineContainer,
    `${folder}/source${compressionSuffix(compression.codec)}.enc`,
    await run.seal(content, compression),
    1,
  );

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

async function runTransforms(
  format: 'hl7v2' | 'fhir-json' | 'ndjson',
  ranges: number[],
  shared: SharedArrayBuffer,
  deps: BatchDeps,
  options: TaskDeidFields & { compression: Compression; archiveInPieces: boolean },
): Promise<Array<EncodedTransformOutcome | FailedOutcome>> {
  const { archiveInPieces, ...fields } = options;
  const pseudonymKey = deps.keyRing.pseudonymKey;
  if (format === 'fhir-json') {
    // Limitation: a FHIR JSON document is one task, so one large Bundle uses one thread.
    const archiveSlice: [number, number] | undefined = archiveInPieces
      ? [0, shared.byteLength]
      : undefined;
    return [
      await deps.pool.transform({
        format,
        source: shared,
        ranges: [],
        firstMessageIndex: 0,
        pseudonymKey,
        ...fields,
        archiveSlice,
      }),
    ];
  }

  // A task's group never straddles two parts, so parts are whole groups and never re-split.
  const step = Math.min(deps.settings.taskMaxRecords, deps.settings.partMaxRecords) * 2;
  const tasks: Array<Promise<EncodedTransformOutcome | FailedOutcome>> = [];
  for (let offset = 0; offset < ranges.length; offset += step) {
    // The archive slices tile the file: from this task's first record (or byte 0) to the next's.
    const sliceStart = offset === 0 ? 0 : ranges[offset];
    const sliceEnd = offset + step < ranges.length ? ranges[offset + step] : shared.byteLength;
    tasks.push(
      deps.pool.transform({
        format,
        source: shared,
        ranges: ranges.slice(offset, offset + step),
        firstMessageIndex: offset / 2,
        pseudonymKey,
        ...fields,
        archiveSlice: archiveInPieces ? [sliceStart, sliceEnd] : undefined,
      }),
    );
  }
  return Promise.all(tasks);
}

/**
 * Groups output lines by record type across tasks, in input order, and writes parts of at most
 * `partMaxRecords` lines. Types and parts are numbered deterministically, so a retry writes the
 * same paths.
 */
async function writeParts(
  outcomes: EncodedTransformOutcome[],
  source: SourceBlob,
  version: number,
  deps: BatchDeps,
  seal: BatchSealer,
  compression: Compression,
): Promise<StoredPart[]> {
  const byType = new Map<string, EncodedRecordGroup[]>();
  for (const outcome of outcomes) {
    for (const group of outcome.groups) {
      const list = byType.get(group.recordType) ?? [];
      list.push(group);
      byType.set(group.recordType, list);
    }
  }

  const suffix = compressionSuffix(compression.codec);
  const writes: Array<Promise<StoredPart>> = [];
  for (const recordType of [...byType.keys()].sort()) {
    const partition =
      `feed=${source.file.feedId}/type=${partitionValue(recordType)}` +
      `/date=${source.ingestDate}/batch=${batchSegment(source.batchId, version)}`;
    const chunks = packParts(byType.get(recordType) ?? [], deps.settings.partMaxRecords);
    for (const [partIndex, chunk] of chunks.entries()) {
      const path = `${partition}/part-${String(partIndex).padStart(5, '0')}.ndjson${suffix}.enc`;
      // Groups arrive as gzip members (concatenated, still one gzip file) or as plain NDJSON.
      const compressed = chunk.groups.every((group) => group.compressed);
      const plaintext = concatBytes(chunk.groups.map((group) => group.bytes));
      writes.push(
        (async () => {
          const sealed = await seal(plaintext, compressed ? null : compression, true);
          const stored = await writeSealed(
            deps.storage,
            STORAGE_NAMES.outputContainer,
            path,
            sealed,
            chunk.recordCount,
          );
          return { ...stored, recordType };
        })(),
      );
    }
  }
  return Promise.all(writes);
}

async function writeRejectParts(
  rejects: RejectLine[],
  folder: string,
  deps: BatchDeps,
  seal: BatchSealer,
  compression: Compression,
): Promise<StoredPart[]> {
  if (rejects.length === 0) {
    return [];
  }
  const text = rejects.map((reject) => JSON.stringify(reject)).join('\n') + '\n';
  const sealed = await seal(encoder.encode(text), compression, true);
  const path = `${folder}/rejects-00000.ndjson${compressionSuffix(compression.codec)}.enc`;
  return [
    await writeSealed(deps.storage, STORAGE_NAMES.rejectsContainer, path, sealed, rejects.length),
  ];
}

/** The source in shared memory for the pool: used as is when it was downloaded there. */
function sharedCopyOf(content: Uint8Array): SharedArrayBuffer {
  if (
    content.buffer instanceof SharedArrayBuffer &&
    content.byteOffset === 0 &&
    content.byteLength === content.buffer.byteLength
  ) {
    return content.buffer;
  }
  const shared = new SharedArrayBuffer(content.length);
  new Uint8Array(shared).set(content);
  return shared;
}

async function writeSealed(
  storage: Storage,
  container: string,
  path: string,
  sealed: { sealed: Uint8Array; sha256: string },
  recordCount: number,
): Promise<StoredPart> {
  const client = storage.blobService.getContainerClient(container).getBlockBlobClient(path);
  await client.uploadData(sealed.sealed, {
    blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
    metadata: { sha256: sealed.sha256 },
  });
  return { path, container, recordCount, sizeBytes: sealed.sealed.length, sha256: sealed.sha256 };
}

function countBatch(
  outcomes: EncodedTransformOutcome[],
  parts: StoredPart[],
  rejects: RejectLine[],
): BatchManifest['counts'] {
  const writtenByPartition: Record<string, number> = {};
  for (const part of parts) {
    const partition = part.path.slice(0, part.path.lastIndexOf('/'));
    writtenByPartition[partition] = (writtenByPartition[partition] ?? 0) + part.recordCount;
  }
  const rejectedByReason: Record<string, number> = {};
  for (const reject of rejects) {
    rejectedByReason[reject.code] = (rejectedByReason[reject.code] ?? 0) + 1;
  }
  return {
    messagesIn: outcomes.reduce((sum, outcome) => sum + outcome.messageCount, 0),
    written: parts.reduce((sum, part) => sum + part.recordCount, 0),
    rejected: rejects.length,
    writtenByPartition,
    rejectedByReason,
  };
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

async function timed<T>(deps: BatchDeps, stage: BatchStage, work: () => Promise<T>): Promise<T> {
  const startedAt = performance.now();
  try {
    return await work();
  } finally {
    deps.observer?.stageCompleted(stage, performance.now() - startedAt);
  }
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

async function downloadSource(
  file: FileRef,
  source: SourceBlob,
  storage: Storage,
): Promise<Buffer> {
  try {
    // The etag condition makes sure the bytes are the ones the batch id was derived from.
    const conditions = { ifMatch: source.etag };
    const client = storage.inbound.getBlobClient(file.blobName);
    if (source.sizeBytes === 0) {
      return await client.downloadToBuffer(0, undefined, { conditions });
    }
    // Straight into shared memory: the pool reads it there, and the file is held once, not twice.
    const target = Buffer.from(new SharedArrayBuffer(source.sizeBytes));
    return await client.downloadToBuffer(target, 0, source.sizeBytes, { conditions });
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 412) {
      throw new PipelineError('BLOB_CHANGED', 'Inbound blob changed while being read', {
        retryable: true,
      });
    }
    throw error;
  }
}

/** The batch id a committed earlier version of this blob name with identical bytes became. */
async function committedWithSameContent(
  file: FileRef,
  content: Uint8Array,
  storage: Storage,
): Promise<string | undefined> {
  const row = await getSourceRow(storage, file.feedId, file.blobName);
  if (!row || row.status !== 'committed' || !row.sha256) {
    return undefined;
  }
  const sha256 = createHash('sha256').update(content).digest('hex');
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
