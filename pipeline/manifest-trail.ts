import { createHash } from 'node:crypto';

import type { BatchManifest } from './manifest.js';
import {
  appendToChain,
  canonicalJson,
  getChainedByRef,
  recordHash,
  type RecordSigner,
} from './signed-chain.js';
import type { Storage } from './storage.js';

/**
 * Returns the name of a feed's manifest chain.
 *
 * @param feedId - the feed
 */
export function manifestChainName(feedId: string): string {
  return `manifests.${feedId}`;
}

/**
 * Returns the chain reference key of a manifest path: every batch version has its own path, so
 * each version is chained once.
 *
 * @param path - the manifest's path in the manifests container
 */
export function manifestRefKey(path: string): string {
  return createHash('sha256').update(path).digest('hex').slice(0, 40);
}

/**
 * Signs a manifest, appends it to its feed's chain and uploads the blob. Idempotent: a manifest
 * path already in the chain (a retry after a crash) keeps the chained version, and the blob is
 * rewritten only when it is missing or differs from that version.
 *
 * @param storage - the opened storage
 * @param signer - the key store's signing key
 * @param manifest - the finished manifest, without chain or signature
 * @param path - where the manifest blob goes
 * @returns the manifest as chained: with `chain` and `signature`
 */
export async function chainManifest(
  storage: Storage,
  signer: RecordSigner,
  manifest: BatchManifest,
  path: string,
): Promise<BatchManifest> {
  const { record, alreadyChained } = await appendToChain<BatchManifest>(
    storage,
    signer,
    manifestChainName(manifest.feedId),
    manifestRefKey(path),
    (chain) => ({ ...manifest, chain, signature: undefined }),
  );

  const blob = storage.manifests.getBlockBlobClient(path);
  if (alreadyChained && (await blobMatches(storage, path, record))) {
    return record;
  }
  const body = JSON.stringify(record, null, 2);
  await blob.upload(body, Buffer.byteLength(body), {
    blobHTTPHeaders: { blobContentType: 'application/json' },
  });
  return record;
}

/**
 * Returns the manifest chained at a path, if that version is in its feed's chain.
 *
 * @param storage - the opened storage
 * @param feedId - the feed
 * @param path - the manifest's path in the manifests container
 */
export async function chainedManifestAt(
  storage: Storage,
  feedId: string,
  path: string,
): Promise<BatchManifest | undefined> {
  return getChainedByRef<BatchManifest>(storage, manifestChainName(feedId), manifestRefKey(path));
}

async function blobMatches(
  storage: Storage,
  path: string,
  record: BatchManifest,
): Promise<boolean> {
  try {
    const stored = await storage.manifests.getBlockBlobClient(path).downloadToBuffer();
    return canonicalJson(JSON.parse(stored.toString('utf8'))) === canonicalJson(record);
  } catch {
    // Missing or not JSON: either way the chained version is written again.
    return false;
  }
}

/**
 * Whether a parsed manifest blob is exactly the chained record (its canonical hash matches).
 *
 * @param stored - the parsed blob
 * @param chainedHash - the hash in its chain entry
 */
export function manifestMatchesChain(stored: BatchManifest, chainedHash: string): boolean {
  return recordHash(stored) === chainedHash;
}
