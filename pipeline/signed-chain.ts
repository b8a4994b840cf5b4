import { createHash, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

import { odata, type TableEntityResult, type TransactionAction } from '@azure/data-tables';

import { PipelineError } from './errors.js';
import { getEntityIfExists, type Storage } from './storage.js';

/** Where a record sits in its chain; part of what is signed. */
export interface ChainLink {
  /** `manifests.<feed>` or `audit`. */
  name: string;
  /** 1 for the first record, then one more for each. */
  seq: number;
  /** SHA-256 (hex) of the previous record; 64 zeros for the first. */
  previousHash: string;
}

/** An Ed25519 signature over the record's canonical JSON without this field. */
export interface RecordSignature {
  alg: 'Ed25519';
  keyId: string;
  /** Base64. */
  value: string;
}

/** Any record the chain holds: manifests and audit events. */
export interface ChainedRecord {
  chain?: ChainLink;
  signature?: RecordSignature;
}

/** Signs records: the key store's Ed25519 key. */
export interface RecordSigner {
  signingKey: KeyObject;
  signingKeyId: string;
  /**
   * Every key of the key store by id (a `KeyRing` has them): a chain is appended to only when
   * the key that signed it is one of them. Without them, only `signingKeyId` counts.
   */
  verifyKeys?: Record<string, KeyObject>;
}

/** A chain entry as stored: its row and the record it holds. */
export interface ChainEntry<T extends ChainedRecord> {
  seq: number;
  hash: string;
  refKey: string;
  record: T;
}

/** Everything stored for one chain, as `readChain` returns it. */
export interface ChainSnapshot<T extends ChainedRecord> {
  head?: { seq: number; hash: string };
  /** Entries by seq; a gap means a deleted row. */
  entries: Map<number, ChainEntry<T>>;
  /** Rows whose body could not be parsed, by seq. */
  unreadable: number[];
}

export const GENESIS_HASH = '0'.repeat(64);

// Limitation: the head row is not anchored outside the table; deleting a chain's last records
// and rewinding its head to an older value goes undetected until an external anchor exists.

/** Tables cap a string property at 64 KiB (32 K UTF-16 units); stay under it. */
const BODY_PROPERTY_CHARS = 30_000;

/** A table entity is at most 1 MiB; 30 properties of 30,000 characters stays inside it. */
const MAX_BODY_PROPERTIES = 30;

const MAX_APPEND_ATTEMPTS = 50;

/** Chains to check at once when an app opens. */
const CHAIN_CHECK_CONCURRENCY = 8;

/**
 * The key id that signed each chain's first entry, by storage and chain. That entry never
 * changes, so one read per chain and process is enough.
 */
const chainSignerKeyIds = new WeakMap<Storage, Map<string, string>>();

type HeadRow = {
  partitionKey: string;
  rowKey: 'head';
  seq: number;
  hash: string;
};

/**
 * Serialises JSON with object keys sorted at every level and no white space, so the same record
 * always gives the same bytes to sign and hash.
 *
 * @param value - a JSON value (no undefined inside arrays, no bigint)
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Returns the SHA-256 (hex) of a record's canonical JSON, signature included: the value the
 * next record's `previousHash` carries.
 *
 * @param record - a signed record
 */
export function recordHash(record: ChainedRecord): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

/**
 * Returns a copy of a record with an Ed25519 signature over its canonical JSON.
 *
 * @param record - the record, chain link included
 * @param signer - the signing key
 */
export function signRecord<T extends ChainedRecord>(record: T, signer: RecordSigner): T {
  const unsigned = { ...record, signature: undefined };
  const value = sign(null, Buffer.from(canonicalJson(unsigned)), signer.signingKey);
  return {
    ...record,
    signature: { alg: 'Ed25519', keyId: signer.signingKeyId, value: value.toString('base64') },
  };
}

/**
 * Checks a record's signature against the key store's public keys. A record signed by a key the
 * store does not know fails: anyone can make a key, so only ours count.
 *
 * @param record - the record
 * @param verifyKeys - public keys by id
 */
export function verifyRecordSignature(
  record: ChainedRecord,
  verifyKeys: Record<string, KeyObject>,
): boolean {
  const signature = record.signature;
  const key = signature ? verifyKeys[signature.keyId] : undefined;
  if (!signature || signature.alg !== 'Ed25519' || !key) {
    return false;
  }
  const unsigned = { ...record, signature: undefined };
  try {
    return verify(
      null,
      Buffer.from(canonicalJson(unsigned)),
      key,
      Buffer.from(signature.value, 'base64'),
    );
  } catch {
    return false;
  }
}

/**
 * Appends a record to a chain, or returns the one already appended under `refKey`. The head row
 * moves with its etag in one table transaction with the new entry and its reference row, so two
 * writers can never both take a seq: the loser gets 412 or 409, re-reads the head and retries.
 *
 * A key store that does not hold the key that signed the chain fails with `KEY_STORE_MISMATCH`
 * before anything is written: its signature would fail `verify` for good.
 *
 * @param storage - the opened storage
 * @param signer - the signing key and the key store's public keys
 * @param chainName - `manifests.<feed>` or `audit`
 * @param refKey - what makes the record unique (a manifest path hash, an event id); row-key safe
 * @param build - makes the record for a given link; called again on each retry
 */
export async function appendToChain<T extends ChainedRecord>(
  storage: Storage,
  signer: RecordSigner,
  chainName: string,
  refKey: string,
  build: (link: ChainLink) => T,
): Promise<{ record: T; alreadyChained: boolean }> {
  const table = storage.chainTable;
  for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
    const chained = await getChainedByRef<T>(storage, chainName, refKey);
    if (chained) {
      return { record: chained, alreadyChained: true };
    }

    const head = await getRow<HeadRow>(storage, chainName, 'head');
    if (head) {
      const keys = signer.verifyKeys ?? { [signer.signingKeyId]: signer.signingKey };
      await assertChainSigner(storage, keys, chainName);
    }
    const link: ChainLink = {
      name: chainName,
      seq: (head?.seq ?? 0) + 1,
      previousHash: head?.hash ?? GENESIS_HASH,
    };
    const record = signRecord(build(link), signer);
    const hash = recordHash(record);

    const newHead: HeadRow = { partitionKey: chainName, rowKey: 'head', seq: link.seq, hash };
    const actions: TransactionAction[] = [
      head ? ['update', newHead, 'Replace', { etag: head.etag }] : ['create', newHead],
      [
        'create',
        {
          partitionKey: chainName,
          rowKey: seqRowKey(link.seq),
          hash,
          refKey,
          ...bodyProperties(record),
        },
      ],
      ['create', { partitionKey: chainName, rowKey: refRowKey(refKey), seq: link.seq }],
    ];
    try {
      await table.submitTransaction(actions);
      return { record, alreadyChained: false };
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status !== 409 && status !== 412) {
        throw error;
      }
      // Another writer moved the head; back off a little so a crowd spreads out.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
  throw new PipelineError('CHAIN_CONTENDED', 'Could not append to the chain; too many writers', {
    retryable: true,
  });
}

/**
 * Returns the record appended under a reference key, if any.
 *
 * @param storage - the opened storage
 * @param chainName - the chain
 * @param refKey - the reference key given to `appendToChain`
 */
export async function getChainedByRef<T extends ChainedRecord>(
  storage: Storage,
  chainName: string,
  refKey: string,
): Promise<T | undefined> {
  const ref = await getRow<{ seq: number }>(storage, chainName, refRowKey(refKey));
  if (!ref) {
    return undefined;
  }
  const entry = await getRow<Record<string, unknown>>(storage, chainName, seqRowKey(ref.seq));
  return entry ? (parseBody(entry) as T | undefined) : undefined;
}

/**
 * Reads every row of a chain: its head and its entries by seq.
 *
 * @param storage - the opened storage
 * @param chainName - the chain
 */
export async function readChain<T extends ChainedRecord>(
  storage: Storage,
  chainName: string,
): Promise<ChainSnapshot<T>> {
  const snapshot: ChainSnapshot<T> = { entries: new Map(), unreadable: [] };
  const rows = storage.chainTable.listEntities<Record<string, unknown>>({
    queryOptions: { filter: `PartitionKey eq '${chainName}'` },
  });
  for await (const row of rows) {
    const rowKey = row.rowKey as string;
    if (rowKey === 'head') {
      snapshot.head = { seq: Number(row.seq), hash: String(row.hash) };
      continue;
    }
    if (!rowKey.startsWith('seq-')) {
      continue;
    }
    const seq = Number(rowKey.slice(4));
    const record = parseBody(row) as T | undefined;
    if (!record) {
      snapshot.unreadable.push(seq);
      continue;
    }
    snapshot.entries.set(seq, { seq, hash: String(row.hash), refKey: String(row.refKey), record });
  }
  return snapshot;
}

/**
 * Lists chain names that start with a prefix, from their head rows.
 *
 * @param storage - the opened storage
 * @param prefix - such as `manifests.`
 */
export async function listChainNames(storage: Storage, prefix: string): Promise<string[]> {
  const names: string[] = [];
  const heads = storage.chainTable.listEntities({
    queryOptions: { filter: `RowKey eq 'head'`, select: ['PartitionKey'] },
  });
  for await (const head of heads) {
    if (head.partitionKey?.startsWith(prefix)) {
      names.push(head.partitionKey);
    }
  }
  return names.sort();
}

/**
 * Throws `KEY_STORE_MISMATCH` when any chain in storage was started by a key the key store does
 * not hold: another home's key file, whose signatures would fail `verify` for good. Run it when
 * an app opens with keys, before the command does anything.
 *
 * @param storage - the opened storage
 * @param verifyKeys - the key store's public keys by id
 */
export async function assertKeyStoreOwnsChains(
  storage: Storage,
  verifyKeys: Record<string, KeyObject>,
): Promise<void> {
  const names = await listChainNames(storage, '');
  for (let start = 0; start < names.length; start += CHAIN_CHECK_CONCURRENCY) {
    const group = names.slice(start, start + CHAIN_CHECK_CONCURRENCY);
    const keyIds = await Promise.all(group.map((name) => getChainSignerKeyId(storage, name)));
    // In name order, so the same storage always names the same chain.
    group.forEach((name, index) => assertHeldKey(verifyKeys, name, keyIds[index]));
  }
}

/**
 * Returns the id of the key that signed a chain's first readable entry, or undefined for an
 * empty chain (or one with no readable entry, which `verify` reports).
 *
 * @param storage - the opened storage
 * @param chainName - the chain
 */
export async function getChainSignerKeyId(
  storage: Storage,
  chainName: string,
): Promise<string | undefined> {
  let known = chainSignerKeyIds.get(storage);
  const cached = known?.get(chainName);
  if (cached !== undefined) {
    return cached;
  }
  // Row keys sort, so the first `seq-` row is the oldest entry left: the first one, unless it was
  // deleted. The first entry and not the head decides: a chain whose last entry another key store
  // signed (before this check existed) still belongs to the key store that started it.
  const pages = storage.chainTable
    .listEntities<Record<string, unknown>>({
      queryOptions: {
        filter: odata`PartitionKey eq ${chainName} and RowKey ge 'seq-' and RowKey lt 'seq.'`,
      },
    })
    .byPage({ maxPageSize: 1 });
  for await (const page of pages) {
    for (const row of page) {
      const keyId = (parseBody(row) as ChainedRecord | undefined)?.signature?.keyId;
      if (typeof keyId === 'string') {
        if (!known) {
          known = new Map();
          chainSignerKeyIds.set(storage, known);
        }
        known.set(chainName, keyId);
        return keyId;
      }
    }
  }
  return undefined;
}

async function assertChainSigner(
  storage: Storage,
  verifyKeys: Record<string, KeyObject>,
  chainName: string,
): Promise<void> {
  assertHeldKey(verifyKeys, chainName, await getChainSignerKeyId(storage, chainName));
}

function assertHeldKey(
  verifyKeys: Record<string, KeyObject>,
  chainName: string,
  keyId: string | undefined,
): void {
  if (keyId === undefined || verifyKeys[keyId]) {
    return;
  }
  // A key id is a hash of a public key: it names the key without revealing anything.
  throw new PipelineError(
    'KEY_STORE_MISMATCH',
    `The key store does not hold the key that signed this storage's chains ` +
      `(chain ${chainName}, signing key ${keyId}); check PHI_INGEST_KEY_FILE (default: keys.json ` +
      `in --home or PHI_INGEST_HOME): it must name the key file this storage was written with`,
  );
}

function seqRowKey(seq: number): string {
  return `seq-${String(seq).padStart(12, '0')}`;
}

function refRowKey(refKey: string): string {
  return `ref-${refKey}`;
}

/**
 * Throws `CHAIN_RECORD_TOO_LARGE` for a record that could not be chained, before anything is
 * written for it. The chain's own fields (sequence, hashes, signature) are allowed for.
 *
 * @param record - the record as it will be appended, without its chain fields
 */
export function assertChainable(record: object): void {
  checkChainableLength(canonicalJson(record).length + CHAIN_FIELDS_CHARS);
}

// More than the chain's fields and signature add to a record.
const CHAIN_FIELDS_CHARS = 4096;

// Limitation: a record over ~900 KB of JSON cannot be chained; such a manifest would need
// thousands of parts, and fails its batch with this code instead.
function checkChainableLength(chars: number): void {
  if (chars > BODY_PROPERTY_CHARS * MAX_BODY_PROPERTIES) {
    throw new PipelineError('CHAIN_RECORD_TOO_LARGE', 'The record is too large to chain');
  }
}

function bodyProperties(record: ChainedRecord): Record<string, string | number> {
  const text = canonicalJson(record);
  checkChainableLength(text.length);
  const count = Math.ceil(text.length / BODY_PROPERTY_CHARS);
  const properties: Record<string, string | number> = { bodyParts: count };
  for (let index = 0; index < count; index++) {
    properties[`body${index}`] = text.slice(
      index * BODY_PROPERTY_CHARS,
      (index + 1) * BODY_PROPERTY_CHARS,
    );
  }
  return properties;
}

function parseBody(row: Record<string, unknown>): unknown {
  const count = Number(row.bodyParts);
  if (!Number.isInteger(count) || count < 1) {
    return undefined;
  }
  let text = '';
  for (let index = 0; index < count; index++) {
    text += String(row[`body${index}`] ?? '');
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function getRow<T extends object>(
  storage: Storage,
  partitionKey: string,
  rowKey: string,
): Promise<TableEntityResult<T> | undefined> {
  return getEntityIfExists<T>(storage.chainTable, partitionKey, rowKey);
}
