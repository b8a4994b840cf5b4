import { createHash } from 'node:crypto';

import { failpoint } from './failpoint.js';
import { chainedManifestAt, chainManifest } from './manifest-trail.js';
import type { ChainLink, RecordSignature, RecordSigner } from './signed-chain.js';
import { getEntityIfExists, type Storage } from './storage.js';

/** One stored, encrypted object of a batch. */
export interface StoredPart {
  /** Path inside its container. */
  path: string;
  container: string;
  recordType?: string;
  recordCount: number;
  /** Size of the stored (encrypted) bytes. */
  sizeBytes: number;
  /** SHA-256 of the stored (encrypted) bytes, hex. */
  sha256: string;
}

/** The audit record of one batch. Ids, counts, hashes and paths only: no PHI. */
export interface BatchManifest {
  manifestVersion: 1;
  batchId: string;
  feedId: string;
  status: 'committed' | 'quarantined';
  /**
   * Version of the batch: 1 from the inbound file, 2 and up from `reprocess`. Absent means 1.
   * Versions past 1 live under `batch=<id>.v<version>` (see `batchSegment`).
   */
  version?: number;
  /** The version this one replaces, when `reprocess` made it. */
  supersedes?: { version: number; manifestPath: string };
  /** Set by `reprocess`: which run made this version, from which stored copy of the input. */
  reprocess?: { runId: string; from: 'archive' | 'quarantine'; replace: boolean };
  /** Set when the whole file was quarantined. */
  reasonCode?: string;
  /** Where in the file the quarantine reason was found (positions only). */
  reasonPosition?: Record<string, string | number>;
  source: {
    container: string;
    blobName: string;
    etag: string;
    sizeBytes: number;
    sha256: string;
    lastModified: string;
  };
  format: string;
  ingestDate: string;
  counts: {
    /** HL7 messages, resources or NDJSON lines found in the file. */
    messagesIn: number;
    written: number;
    rejected: number;
    writtenByPartition: Record<string, number>;
    rejectedByReason: Record<string, number>;
    /**
     * FHIR elements that R4 does not define where they sat, removed by de-identification (their
     * content is unknown, so it cannot be de-identified); 0 for HL7 v2 and under `none`. Absent
     * from manifests written before it was counted and from quarantined batches.
     */
    unknownElementsRemoved?: number;
  };
  /** An HL7 batch file whose BTS-1/FTS-1 disagreed, accepted by the feed's setting. */
  batchCountMismatch?: { declared: number; found: number };
  /**
   * HL7 v2: trailers an opened envelope lacked (`BTS`, `FTS`). Accepted (the standard makes them
   * optional) and recorded, since a file cut in transit looks like this.
   */
  batchTrailersMissing?: Array<'BTS' | 'FTS'>;
  parts: StoredPart[];
  rejectParts: StoredPart[];
  archive?: StoredPart;
  quarantine?: StoredPart;
  encryption: { algorithm: 'A256GCM-STREAM'; encryptionKeyId: string; keyVersion: number };
  pipelineVersion: string;
  configHash: string;
  workerId: string;
  attempt: number;
  startedAt: string;
  finishedAt: string;
  /** Where the manifest sits in its feed's chain; set at commit (see docs/audit.md). */
  chain?: ChainLink;
  /** Ed25519 over the manifest's canonical JSON without this field; set at commit. */
  signature?: RecordSignature;
}

/** A batch's table row: the manifest's counts, flattened for Table storage. */
export interface BatchRow {
  partitionKey: string;
  rowKey: string;
  status: string;
  format: string;
  ingestDate: string;
  messagesIn: number;
  written: number;
  rejected: number;
  partCount: number;
  reasonCode: string;
  rejectedByReason: string;
  manifestPath: string;
  finishedAt: string;
  /** The batch's latest version; the row always points at it. */
  version: number;
}

/**
 * Returns the deterministic id of a batch: the same feed, blob and etag always give the same id,
 * so a retry writes to the same paths.
 *
 * @param feedId - the feed
 * @param blobName - the inbound blob
 * @param etag - the blob's etag when it was read
 */
export function batchIdFor(feedId: string, blobName: string, etag: string): string {
  return createHash('sha256')
    .update(`${feedId}\u0000${blobName}\u0000${etag}`)
    .digest('hex')
    .slice(0, 32);
}

/** Row key of a source blob in the sources table (blob names may not be valid row keys). */
export function sourceRowKey(blobName: string): string {
  return createHash('sha256').update(blobName).digest('hex').slice(0, 40);
}

/**
 * The `batch=` partition value of a batch version: the batch id for version 1, `<id>.v<n>` after.
 * Every version keeps the same folder depth, so Hive-style partition discovery still works.
 *
 * @param batchId - the batch
 * @param version - the version, 1 when absent
 */
export function batchSegment(batchId: string, version = 1): string {
  return version > 1 ? `${batchId}.v${version}` : batchId;
}

/**
 * Path of a batch's folder inside any container.
 *
 * @param feedId - the feed
 * @param ingestDate - the batch's date partition
 * @param batchId - the batch
 * @param version - the batch version, 1 when absent
 */
export function batchFolder(
  feedId: string,
  ingestDate: string,
  batchId: string,
  version = 1,
): string {
  return `feed=${feedId}/date=${ingestDate}/batch=${batchSegment(batchId, version)}`;
}

/**
 * Path of the manifest blob of a batch version.
 *
 * @param feedId - the feed
 * @param ingestDate - the batch's date partition
 * @param batchId - the batch
 * @param version - the batch version, 1 when absent
 */
export function manifestPath(
  feedId: string,
  ingestDate: string,
  batchId: string,
  version = 1,
): string {
  return `${batchFolder(feedId, ingestDate, batchId, version)}/manifest.json`;
}

/**
 * Signs the manifest and appends it to its feed's chain, writes the manifest blob, then the table
 * rows. The batch row is written last: its presence is what tells a retry that the batch is
 * committed. A retry whose manifest is already chained keeps the chained version.
 *
 * @param storage - the opened storage
 * @param manifest - the finished manifest
 * @param signer - the key store's signing key (a `KeyRing` is one)
 * @returns the manifest as committed, with its chain link and signature
 */
export async function commitManifest(
  storage: Storage,
  manifest: BatchManifest,
  signer: RecordSigner,
): Promise<BatchManifest> {
  const path = manifestPath(
    manifest.feedId,
    manifest.ingestDate,
    manifest.batchId,
    manifest.version,
  );
  manifest = await chainManifest(storage, signer, manifest, path);
  failpoint('after-manifest-chained');

  await storage.sourcesTable.upsertEntity(
    {
      partitionKey: manifest.feedId,
      rowKey: sourceRowKey(manifest.source.blobName),
      batchId: manifest.batchId,
      etag: manifest.source.etag,
      sha256: manifest.source.sha256,
      status: manifest.status,
    },
    'Replace',
  );
  await storage.batchesTable.upsertEntity(toBatchRow(manifest, path), 'Replace');
  return manifest;
}

/**
 * Finishes the commit of a batch version that a killed run chained but did not see through (the
 * batch row, written last, is missing). Everything the chained manifest names was written before
 * it was chained, so the manifest blob and the rows are written from the chained record and
 * nothing else is. Writing the version again would seal its parts under new data keys, whose
 * hashes would no longer match the ones the chain holds for good.
 *
 * @param storage - the opened storage
 * @param signer - the key store's signing key
 * @param batch - the batch and version
 * @returns the manifest as committed, or undefined when that version is not in the chain
 */
export async function finishChainedCommit(
  storage: Storage,
  signer: RecordSigner,
  batch: { feedId: string; ingestDate: string; batchId: string; version: number },
): Promise<BatchManifest | undefined> {
  const path = manifestPath(batch.feedId, batch.ingestDate, batch.batchId, batch.version);
  const chained = await chainedManifestAt(storage, batch.feedId, path);
  return chained ? commitManifest(storage, chained, signer) : undefined;
}

/**
 * Reads the committed row of a batch, if any.
 *
 * @param storage - the opened storage
 * @param feedId - the feed
 * @param batchId - the batch
 */
export async function getBatchRow(
  storage: Storage,
  feedId: string,
  batchId: string,
): Promise<BatchRow | undefined> {
  return getEntityIfExists<BatchRow>(storage.batchesTable, feedId, batchId);
}

/** A source blob's row: which batch it became, its etag and content hash, and the status. */
export interface SourceRow {
  batchId: string;
  etag: string;
  sha256?: string;
  status: string;
}

/**
 * Reads the row of a source blob, if any.
 *
 * @param storage - the opened storage
 * @param feedId - the feed
 * @param blobName - the inbound blob name
 */
export async function getSourceRow(
  storage: Storage,
  feedId: string,
  blobName: string,
): Promise<SourceRow | undefined> {
  return getEntityIfExists<SourceRow>(storage.sourcesTable, feedId, sourceRowKey(blobName));
}

/**
 * Reads a manifest blob.
 *
 * @param storage - the opened storage
 * @param path - the manifest path from the batch row
 */
export async function getManifest(storage: Storage, path: string): Promise<BatchManifest> {
  const buffer = await storage.manifests.getBlockBlobClient(path).downloadToBuffer();
  return JSON.parse(buffer.toString('utf8')) as BatchManifest;
}

/**
 * Lists batch rows, newest first.
 *
 * @param storage - the opened storage
 * @param limit - how many rows at most
 */
export async function listRecentBatches(storage: Storage, limit: number): Promise<BatchRow[]> {
  const rows: BatchRow[] = [];
  // Limitation: reads every batch row and sorts in memory; fine for thousands, a time-keyed
  // index table is needed beyond that.
  for await (const row of storage.batchesTable.listEntities<BatchRow>()) {
    rows.push(row);
  }
  rows.sort((a, b) => b.finishedAt.localeCompare(a.finishedAt));
  return rows.slice(0, limit);
}

function toBatchRow(manifest: BatchManifest, path: string): BatchRow {
  return {
    partitionKey: manifest.feedId,
    rowKey: manifest.batchId,
    status: manifest.status,
    format: manifest.format,
    ingestDate: manifest.ingestDate,
    messagesIn: manifest.counts.messagesIn,
    written: manifest.counts.written,
    rejected: manifest.counts.rejected,
    partCount: manifest.parts.length,
    reasonCode: manifest.reasonCode ?? '',
    rejectedByReason: JSON.stringify(manifest.counts.rejectedByReason),
    manifestPath: path,
    finishedAt: manifest.finishedAt,
    version: manifest.version ?? 1,
  };
}
