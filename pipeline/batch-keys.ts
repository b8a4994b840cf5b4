import { randomBytes } from 'node:crypto';

import type { TableEntityResult } from '@azure/data-tables';

import type { EnvelopeHeader } from '../transforms/crypto/index.js';
import type { TaskKeys } from '../workers/task-types.js';
import { PipelineError } from './errors.js';
import { createLocalKekProvider, type WrappedKeyRecord } from './kek-provider.js';
import type { KeyRing } from './key-store.js';
import { getEntityIfExists, type Storage } from './storage.js';

/**
 * Batch keys are the middle of a three-level hierarchy: the KEK (key file or Key Vault) wraps
 * one batch key per batch, kept in the `batchkeys` table; the batch key wraps the data key in
 * every envelope header of that batch (output, rejects, archive, quarantine, every version).
 * Rewrapping touches only these rows; deleting one (shredding) makes the batch unreadable.
 */
export interface BatchKeyRow extends WrappedKeyRecord {
  /** The batch id. */
  partitionKey: string;
  rowKey: 'key';
  state: 'active' | 'shredded';
  createdAt: string;
  rewrappedAt?: string;
  shreddedAt?: string;
  shreddedBy?: string;
}

// Limitation: shredding replaces the table row; copies of the `batchkeys` table in backups or
// exports still hold the wrapped batch key, readable with the KEK. Exclude it from backups.

/** Batch keys never rotate themselves; the envelope header names them as version 1. */
export const BATCH_KEY_VERSION = 1;

const BATCH_KEY_PREFIX = 'batch:';

/** Batch ids are unique across feeds (a hash of feed, blob and etag), so they key the table alone. */
const ROW_KEY = 'key';

/**
 * Returns the key id an envelope header carries as `kekId` for a batch key.
 *
 * @param batchId - the batch
 */
export function batchKeyId(batchId: string): string {
  return `${BATCH_KEY_PREFIX}${batchId}`;
}

/**
 * Returns the batch key for a new or retried batch, creating and wrapping it the first time.
 * Two workers racing on one batch agree: the first row written wins, the other reads it.
 *
 * @param storage - the opened storage
 * @param keyRing - keys, with the KEK provider
 * @param batchId - the batch
 */
export async function getOrCreateBatchKey(
  storage: Storage,
  keyRing: KeyRing,
  batchId: string,
): Promise<Uint8Array> {
  const existing = await readRow(storage, batchId);
  if (existing) {
    return unwrapRow(existing, keyRing);
  }

  const batchKey = new Uint8Array(randomBytes(32));
  const wrapped = await keyRing.kekProvider.wrapKey(batchKey, batchKeyId(batchId));
  const row: BatchKeyRow = {
    partitionKey: batchId,
    rowKey: ROW_KEY,
    state: 'active',
    ...wrapped,
    createdAt: new Date().toISOString(),
  };
  try {
    await storage.batchKeysTable.createEntity(row);
    return batchKey;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 409) {
      throw error;
    }
  }
  return getBatchKey(storage, keyRing, batchId);
}

/**
 * Returns the keys that seal a batch's objects: the batch key stands where the envelope
 * expects a KEK, named `batch:<batchId>` version 1.
 *
 * @param storage - the opened storage
 * @param keyRing - keys, with the KEK provider
 * @param batchId - the batch
 */
export async function batchTaskKeys(
  storage: Storage,
  keyRing: KeyRing,
  batchId: string,
): Promise<TaskKeys> {
  return {
    encryptionKeyId: batchKeyId(batchId),
    keyVersion: BATCH_KEY_VERSION,
    keyEncryptionKey: await getOrCreateBatchKey(storage, keyRing, batchId),
  };
}

/**
 * Unwraps an existing batch key. Throws `BATCH_KEY_SHREDDED` for a shredded batch and
 * `BATCH_KEY_NOT_FOUND` when there is no row.
 *
 * @param storage - the opened storage
 * @param keyRing - keys, with the KEK provider
 * @param batchId - the batch
 */
export async function getBatchKey(
  storage: Storage,
  keyRing: KeyRing,
  batchId: string,
): Promise<Uint8Array> {
  const row = await readRow(storage, batchId);
  if (!row) {
    throw new PipelineError('BATCH_KEY_NOT_FOUND', 'The batch has no batch key row');
  }
  return unwrapRow(row, keyRing);
}

/**
 * Finds the key an envelope needs, from its header: a batch key, or for envelopes written before
 * batch keys existed, the key file's KEK itself. Returns the id and versions to hand to a decrypt.
 *
 * @param storage - the opened storage
 * @param keyRing - keys, with the KEK provider
 * @param header - the envelope header
 */
export async function resolveEnvelopeKeys(
  storage: Storage,
  keyRing: KeyRing,
  header: EnvelopeHeader,
): Promise<{ encryptionKeyId: string; keyEncryptionKeys: Record<number, Uint8Array> }> {
  const named = parseBatchKeyId(header.kekId);
  if (named) {
    const batchKey = await getBatchKey(storage, keyRing, named);
    return { encryptionKeyId: header.kekId, keyEncryptionKeys: { [BATCH_KEY_VERSION]: batchKey } };
  }
  if (header.kekId === keyRing.encryptionKeyId) {
    return { encryptionKeyId: header.kekId, keyEncryptionKeys: keyRing.keyEncryptionKeys };
  }
  throw new PipelineError('KEY_UNKNOWN', 'The envelope names a key this key store does not hold');
}

/** What `keys rewrap` did. */
export interface RewrapReport {
  rewrapped: number;
  alreadyCurrent: number;
  shredded: number;
}

/**
 * Rewraps every active batch key under the provider's current KEK version. Data blobs are not
 * touched: their headers name the batch key, which does not change. Each row is replaced with
 * its etag, so a concurrent shred is never undone.
 *
 * @param storage - the opened storage
 * @param keyRing - keys, with the KEK provider
 */
export async function rewrapBatchKeys(storage: Storage, keyRing: KeyRing): Promise<RewrapReport> {
  const report: RewrapReport = { rewrapped: 0, alreadyCurrent: 0, shredded: 0 };
  const provider = keyRing.kekProvider;
  const currentVersion = await provider.currentVersion();

  for await (const row of storage.batchKeysTable.listEntities<BatchKeyRow>()) {
    if (row.state === 'shredded') {
      report.shredded++;
      continue;
    }
    if (row.kekId === provider.kekId && row.kekVersion === currentVersion) {
      report.alreadyCurrent++;
      continue;
    }

    const context = batchKeyId(row.partitionKey);
    const batchKey = await unwrapRow(row, keyRing);
    const wrapped = await provider.wrapKey(batchKey, context);
    const updated: BatchKeyRow = {
      partitionKey: row.partitionKey,
      rowKey: ROW_KEY,
      state: 'active',
      ...wrapped,
      createdAt: row.createdAt,
      rewrappedAt: new Date().toISOString(),
    };
    try {
      await storage.batchKeysTable.updateEntity(updated, 'Replace', { etag: row.etag });
      report.rewrapped++;
    } catch (error) {
      // 412: shredded or rewrapped by someone else meanwhile; their write stands.
      if ((error as { statusCode?: number }).statusCode !== 412) {
        throw error;
      }
    }
  }
  return report;
}

/**
 * Destroys a batch's key: the row is replaced by a tombstone holding no key material, so the
 * batch's output, rejects, archive and quarantine copies can never be decrypted again.
 *
 * @param storage - the opened storage
 * @param batchId - the batch
 * @param operator - who asked, recorded on the tombstone
 * @returns whether this call shredded it or it was shredded before
 */
export async function shredBatchKey(
  storage: Storage,
  batchId: string,
  operator: string,
): Promise<'shredded' | 'already-shredded'> {
  const row = await readRow(storage, batchId);
  if (!row) {
    throw new PipelineError('BATCH_KEY_NOT_FOUND', 'The batch has no batch key row');
  }
  if (row.state === 'shredded') {
    return 'already-shredded';
  }

  const tombstone: BatchKeyRow = {
    partitionKey: batchId,
    rowKey: ROW_KEY,
    state: 'shredded',
    kekId: '',
    kekVersion: '',
    wrapAlg: '',
    wrappedKey: '',
    createdAt: row.createdAt,
    shreddedAt: new Date().toISOString(),
    shreddedBy: operator,
  };
  // Replace, not merge: no property of the old row survives.
  await storage.batchKeysTable.updateEntity(tombstone, 'Replace');
  return 'shredded';
}

/**
 * Reads a batch key row as it is, or undefined.
 *
 * @param storage - the opened storage
 * @param batchId - the batch
 */
export async function getBatchKeyRow(
  storage: Storage,
  batchId: string,
): Promise<BatchKeyRow | undefined> {
  return readRow(storage, batchId);
}

function parseBatchKeyId(kekId: string): string | undefined {
  const batchId = kekId.startsWith(BATCH_KEY_PREFIX) ? kekId.slice(BATCH_KEY_PREFIX.length) : '';
  return /^[A-Za-z0-9_-]{1,128}$/.test(batchId) ? batchId : undefined;
}

async function readRow(
  storage: Storage,
  batchId: string,
): Promise<TableEntityResult<BatchKeyRow> | undefined> {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(batchId)) {
    return undefined;
  }
  return getEntityIfExists<BatchKeyRow>(storage.batchKeysTable, batchId, ROW_KEY);
}

async function unwrapRow(row: BatchKeyRow, keyRing: KeyRing): Promise<Uint8Array> {
  if (row.state === 'shredded') {
    throw new PipelineError(
      'BATCH_KEY_SHREDDED',
      'The batch was shredded; its data cannot be read',
    );
  }
  // Rows wrapped by the key file stay readable after moving to Key Vault, so rewrap can migrate.
  const provider =
    row.wrapAlg === 'A256GCM' ? createLocalKekProvider(keyRing) : keyRing.kekProvider;
  return provider.unwrapKey(row, batchKeyId(row.partitionKey));
}
