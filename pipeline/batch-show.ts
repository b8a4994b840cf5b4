import { odata } from '@azure/data-tables';

import { getBatchKeyRow } from './batch-keys.js';
import { PipelineError } from './errors.js';
import {
  getBatchRow,
  getManifest,
  manifestPath,
  type BatchManifest,
  type BatchRow,
  type StoredPart,
} from './manifest.js';
import { STORAGE_NAMES, type Storage } from './storage.js';
import { table } from './summary.js';

/** One stored object of a batch, by the path `decrypt` takes. */
export interface BatchObject {
  /** `container/path`, as `decrypt` takes it. */
  path: string;
  recordType?: string;
  recordCount: number;
  sizeBytes: number;
}

/**
 * What `batch show` prints: the facts of one committed batch version that carry no PHI. Ids,
 * counts, codes, positions and stored paths; not the inbound blob name (made from the file's
 * content) nor its etag.
 */
export interface BatchDescription {
  feedId: string;
  batchId: string;
  /** The version shown. */
  version: number;
  /** The version the batch row points at; versions 1 to it exist. */
  currentVersion: number;
  status: BatchManifest['status'];
  reasonCode?: string;
  reasonPosition?: Record<string, string | number>;
  format: string;
  ingestDate: string;
  /**
   * The input file's size and the first 32 hex digits of its SHA-256, as `ingest` names it; no
   * hash when the file was never read (quarantined `FILE_TOO_LARGE` where it lay).
   */
  source: { sizeBytes: number; sha256?: string };
  counts: BatchManifest['counts'];
  batchCountMismatch?: BatchManifest['batchCountMismatch'];
  batchTrailersMissing?: BatchManifest['batchTrailersMissing'];
  supersedes?: { version: number; manifestPath: string };
  reprocess?: BatchManifest['reprocess'];
  /** `manifests/…` */
  manifestPath: string;
  parts: BatchObject[];
  rejectParts: BatchObject[];
  archive?: BatchObject;
  quarantine?: BatchObject;
  /** The KEK and its version current when the batch was written (its batch key's wrapper). */
  encryption: { encryptionKeyId: string; keyVersion: number };
  /**
   * The batch key: `shredded` means none of the batch's objects can be decrypted any more;
   * `none` that the batch never had one, having written nothing to seal (a file too large to
   * read); `missing` that objects were written but their key row is gone.
   */
  batchKeyState: 'active' | 'shredded' | 'none' | 'missing';
  chainSeq?: number;
  pipelineVersion: string;
  configHash: string;
  startedAt: string;
  finishedAt: string;
}

/** Which batch version to describe. */
export interface DescribeBatchOptions {
  /** The full batch id (see `resolveBatchId` for a prefix). */
  batchId: string;
  /** The feed, when known; batch ids are unique across feeds, so it only narrows the lookup. */
  feedId?: string;
  /** The version; the current one when absent. */
  version?: number;
}

/**
 * Reads a batch's row, the manifest of one of its versions and its batch key's state, and returns
 * what the manifest says that carries no PHI. Reads no plaintext and needs no key.
 *
 * @param storage - the opened storage
 * @param options - the batch, its feed and the version
 */
export async function describeBatch(
  storage: Storage,
  options: DescribeBatchOptions,
): Promise<BatchDescription> {
  const row = await findBatchRow(storage, options.batchId, options.feedId);
  const currentVersion = row.version ?? 1;
  const version = options.version ?? currentVersion;
  if (!Number.isInteger(version) || version < 1 || version > currentVersion) {
    throw new PipelineError(
      'CONFIG_INVALID',
      `--batch-version must be a whole number from 1 to ${currentVersion}, the batch's versions`,
    );
  }

  const path =
    version === currentVersion
      ? row.manifestPath
      : manifestPath(row.partitionKey, row.ingestDate, row.rowKey, version);
  let manifest: BatchManifest;
  try {
    manifest = await getManifest(storage, path);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) {
      throw new PipelineError(
        'BATCH_NOT_FOUND',
        `The manifest of version ${version} of the batch is missing; run verify`,
      );
    }
    throw error;
  }
  const keyRow = await getBatchKeyRow(storage, row.rowKey);
  const sealedSomething =
    manifest.parts.length + manifest.rejectParts.length > 0 ||
    manifest.archive !== undefined ||
    manifest.quarantine !== undefined;

  return {
    feedId: manifest.feedId,
    batchId: manifest.batchId,
    version,
    currentVersion,
    status: manifest.status,
    reasonCode: manifest.reasonCode,
    reasonPosition: manifest.reasonPosition,
    format: manifest.format,
    ingestDate: manifest.ingestDate,
    source: {
      sizeBytes: manifest.source.sizeBytes,
      sha256: manifest.source.sha256 ? manifest.source.sha256.slice(0, 32) : undefined,
    },
    counts: manifest.counts,
    batchCountMismatch: manifest.batchCountMismatch,
    batchTrailersMissing: manifest.batchTrailersMissing,
    supersedes: manifest.supersedes && {
      version: manifest.supersedes.version,
      manifestPath: `${STORAGE_NAMES.manifestsContainer}/${manifest.supersedes.manifestPath}`,
    },
    reprocess: manifest.reprocess,
    manifestPath: `${STORAGE_NAMES.manifestsContainer}/${path}`,
    parts: manifest.parts.map(objectOf),
    rejectParts: manifest.rejectParts.map(objectOf),
    archive: manifest.archive && objectOf(manifest.archive),
    quarantine: manifest.quarantine && objectOf(manifest.quarantine),
    encryption: {
      encryptionKeyId: manifest.encryption.encryptionKeyId,
      keyVersion: manifest.encryption.keyVersion,
    },
    batchKeyState: keyRow ? keyRow.state : sealedSomething ? 'missing' : 'none',
    chainSeq: manifest.chain?.seq,
    pipelineVersion: manifest.pipelineVersion,
    configHash: manifest.configHash,
    startedAt: manifest.startedAt,
    finishedAt: manifest.finishedAt,
  };
}

/**
 * Formats a description for a person: the batch's facts, then every stored object by the path
 * `decrypt` takes.
 *
 * @param batch - from `describeBatch`
 */
export function formatBatchDescription(batch: BatchDescription): string {
  const rejected = Object.entries(batch.counts.rejectedByReason)
    .map(([code, count]) => `${code}:${count}`)
    .join(', ');
  const facts: string[][] = [
    ['feed', batch.feedId],
    ['batch', batch.batchId],
    [
      'version',
      batch.version === batch.currentVersion
        ? `${batch.version} (current)`
        : `${batch.version} (current is ${batch.currentVersion})`,
    ],
    ['status', batch.reasonCode ? `${batch.status} ${batch.reasonCode}` : batch.status],
  ];
  if (batch.reasonPosition) {
    facts.push(['where', keyValues(batch.reasonPosition)]);
  }
  facts.push(
    ['format', batch.format],
    ['ingest date', batch.ingestDate],
    [
      'source',
      batch.source.sha256
        ? `${batch.source.sizeBytes} bytes, SHA-256 ${batch.source.sha256}…`
        : `${batch.source.sizeBytes} bytes, not read (file too large)`,
    ],
    [
      'records',
      `${batch.counts.messagesIn} in, ${batch.counts.written} written, ` +
        `${batch.counts.rejected} rejected${rejected ? ` (${rejected})` : ''}` +
        (batch.counts.unknownElementsRemoved
          ? `; ${batch.counts.unknownElementsRemoved} non-R4 FHIR elements removed`
          : ''),
    ],
  );
  if (batch.batchCountMismatch) {
    const { declared, found } = batch.batchCountMismatch;
    facts.push(['batch count', `declared ${declared}, found ${found} (accepted by feed setting)`]);
  }
  if (batch.batchTrailersMissing?.length) {
    facts.push(['trailers', `missing ${batch.batchTrailersMissing.join(', ')}`]);
  }
  if (batch.reprocess) {
    facts.push([
      'reprocessed',
      `run ${batch.reprocess.runId} from ${batch.reprocess.from}` +
        (batch.supersedes ? `, supersedes version ${batch.supersedes.version}` : ''),
    ]);
  }
  facts.push(
    [
      'KEK',
      `${batch.encryption.encryptionKeyId} version ${batch.encryption.keyVersion} when written`,
    ],
    ['batch key', BATCH_KEY_TEXT[batch.batchKeyState]],
    ['manifest', `${batch.manifestPath}${batch.chainSeq ? ` (chain seq ${batch.chainSeq})` : ''}`],
    ['finished', batch.finishedAt],
    ['pipeline', `${batch.pipelineVersion}, config ${batch.configHash}`],
  );

  const lines = [table(facts)];
  const objects: Array<[string, BatchObject[]]> = [
    ['parts', batch.parts],
    ['reject parts', batch.rejectParts],
    ['archive', batch.archive ? [batch.archive] : []],
    ['quarantine', batch.quarantine ? [batch.quarantine] : []],
  ];
  for (const [title, list] of objects) {
    if (list.length === 0) {
      continue;
    }
    lines.push('', `${title}:`);
    for (const object of list) {
      // The archive and quarantine copies are whole files: their size is what tells them apart.
      const records = object.recordCount === 1 ? '1 record, ' : `${object.recordCount} records, `;
      const counted = title === 'parts' || title === 'reject parts';
      lines.push(`  ${object.path}  (${counted ? records : ''}${object.sizeBytes} bytes)`);
    }
  }
  if (batch.parts.length + batch.rejectParts.length > 0 && batch.batchKeyState === 'active') {
    lines.push('', 'decrypt one with: phi-ingest decrypt <path>');
  }
  return lines.join('\n');
}

const BATCH_KEY_TEXT: Record<BatchDescription['batchKeyState'], string> = {
  active: 'active',
  shredded: 'shredded: none of its objects can be decrypted',
  none: 'no batch key (nothing was written)',
  missing: 'missing: its objects cannot be decrypted',
};

async function findBatchRow(storage: Storage, batchId: string, feedId?: string): Promise<BatchRow> {
  if (feedId) {
    const row = await getBatchRow(storage, feedId, batchId);
    if (!row) {
      throw new PipelineError('BATCH_NOT_FOUND', `No batch with that id in feed ${feedId}`);
    }
    return row;
  }

  const rows: BatchRow[] = [];
  for await (const row of storage.batchesTable.listEntities<BatchRow>({
    queryOptions: { filter: odata`RowKey eq ${batchId}` },
  })) {
    rows.push(row);
  }
  if (rows.length === 0) {
    throw new PipelineError('BATCH_NOT_FOUND', 'No batch with that id in the batches table');
  }
  if (rows.length > 1) {
    // Ids are a hash over the feed too, so this takes a hand-made row; --feed still settles it.
    throw new PipelineError(
      'BATCH_ID_AMBIGUOUS',
      `${rows.length} feeds have a batch with that id; add --feed`,
    );
  }
  return rows[0];
}

function objectOf(part: StoredPart): BatchObject {
  return {
    path: `${part.container}/${part.path}`,
    recordType: part.recordType,
    recordCount: part.recordCount,
    sizeBytes: part.sizeBytes,
  };
}

function keyValues(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
}
