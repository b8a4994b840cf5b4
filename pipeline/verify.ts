import { createHash } from 'node:crypto';

import { EnvelopeOpener, readEnvelopeHeader } from '../transforms/crypto/index.js';
import type { App } from './app.js';
import { AUDIT_CHAIN } from './audit.js';
import { resolveEnvelopeKeys } from './batch-keys.js';
import { errorCodeOf } from './errors.js';
import type { KeyRing } from './key-store.js';
import { manifestPath, type BatchManifest, type StoredPart } from './manifest.js';
import { manifestChainName, manifestRefKey } from './manifest-trail.js';
import { countText } from './summary.js';
import {
  GENESIS_HASH,
  listChainNames,
  readChain,
  recordHash,
  verifyRecordSignature,
  type ChainEntry,
  type ChainedRecord,
} from './signed-chain.js';

/** What `verify` can find wrong; each names exactly one kind of damage. */
export type VerifyCode =
  | 'CHAIN_HEAD_MISSING'
  | 'CHAIN_HEAD_MISMATCH'
  | 'CHAIN_ENTRY_MISSING'
  | 'CHAIN_ENTRY_UNREADABLE'
  | 'CHAIN_ENTRY_ALTERED'
  | 'CHAIN_LINK_BROKEN'
  | 'SIGNATURE_INVALID'
  | 'MANIFEST_MISSING'
  | 'MANIFEST_MISPLACED'
  | 'MANIFEST_ALTERED'
  | 'MANIFEST_UNCHAINED'
  | 'BATCH_NOT_FOUND'
  | 'PART_MISSING'
  | 'PART_SIZE_MISMATCH'
  | 'PART_HASH_MISMATCH'
  | 'PART_AUTH_FAILED'
  | 'PART_TRUNCATED'
  | 'PART_UNREADABLE';

/** One problem, with where it is: chain and seq, batch, stored path. Never a value. */
export interface VerifyFinding {
  code: VerifyCode;
  chain?: string;
  seq?: number;
  batchId?: string;
  path?: string;
  message: string;
}

export interface VerifyReport {
  findings: VerifyFinding[];
  chains: number;
  manifests: number;
  parts: number;
  /** Parts whose batch was shredded: hashed, but their GCM tags cannot be checked. */
  partsShredded: number;
  auditEvents: number;
}

/** Which stored data to check. Nothing set means everything, as `all`. */
export interface VerifyOptions {
  feedId?: string;
  batchId?: string;
  all?: boolean;
}

/**
 * Checks the manifest chains, the manifests, every part's size, SHA-256 and GCM tags, and the
 * audit chain. Reads every byte of every part it checks, one chunk at a time.
 *
 * @param app - an app opened with keys
 * @param options - which feed or batch; all by default
 */
export async function verifyStorage(app: App, options: VerifyOptions = {}): Promise<VerifyReport> {
  if (!app.keyRing) {
    throw new Error('verifyStorage needs an app opened with keys');
  }
  const keyRing = app.keyRing;
  const report: VerifyReport = {
    findings: [],
    chains: 0,
    manifests: 0,
    parts: 0,
    partsShredded: 0,
    auditEvents: 0,
  };
  const everything = options.all || (!options.feedId && !options.batchId);
  const parts = new PartChecker(app, keyRing, report);

  const feeds = options.feedId ? [options.feedId] : await listFeeds(app);
  let batchSeen = false;
  for (const feedId of feeds) {
    const chainName = manifestChainName(feedId);
    const entries = await verifyChain<BatchManifest>(app, keyRing, chainName, report);
    report.chains++;

    const replacedBelow = replacedVersions(entries);
    for (const entry of entries) {
      if (options.batchId && entry.record.batchId !== options.batchId) {
        continue;
      }
      batchSeen = true;
      await verifyManifestBlob(app, chainName, entry, report);
      // `reprocess --replace` deletes the older versions' parts on purpose; their manifests stay
      // as the record, and the archive they share with the newer version is still checked.
      const replaced = (entry.record.version ?? 1) < (replacedBelow.get(entry.record.batchId) ?? 0);
      for (const part of partsOf(entry.record)) {
        if (!replaced || part === entry.record.archive) {
          await parts.check(part, entry.record.batchId);
        }
      }
    }
    if (!options.batchId) {
      await findUnchainedManifests(app, feedId, entries, report);
    }
  }
  if (options.batchId && !batchSeen) {
    report.findings.push({
      code: 'BATCH_NOT_FOUND',
      batchId: options.batchId,
      message: 'No chained manifest names this batch',
    });
  }

  if (everything) {
    report.auditEvents = (await verifyChain(app, keyRing, AUDIT_CHAIN, report)).length;
    report.chains++;
  }
  return report;
}

/**
 * Formats a report: one `FAIL` line per finding, then a summary line.
 *
 * @param report - from `verifyStorage`
 */
export function formatVerifyReport(report: VerifyReport): string {
  const lines = report.findings.map((finding) => {
    const where = [
      finding.chain ? `chain=${finding.chain}` : '',
      finding.seq !== undefined ? `seq=${finding.seq}` : '',
      finding.batchId ? `batch=${finding.batchId}` : '',
      finding.path ?? '',
    ].filter((part) => part !== '');
    return `FAIL ${finding.code} ${where.join(' ')}: ${finding.message}`;
  });
  const shredded =
    report.partsShredded > 0 ? ` (${report.partsShredded} of a shredded batch: hashed only)` : '';
  lines.push(
    `${report.findings.length === 0 ? 'OK' : 'FAILED'}: ${countText(report.chains, 'chain')}, ` +
      `${countText(report.manifests, 'manifest')}, ${countText(report.parts, 'part')}${shredded}, ` +
      `${countText(report.auditEvents, 'audit event')} checked; ` +
      countText(report.findings.length, 'problem'),
  );
  return lines.join('\n');
}

/** Checks one chain's rows: continuity, hashes, signatures and head. Returns the good entries. */
async function verifyChain<T extends ChainedRecord>(
  app: App,
  keyRing: KeyRing,
  chainName: string,
  report: VerifyReport,
): Promise<Array<ChainEntry<T>>> {
  const snapshot = await readChain<T>(app.storage, chainName);
  const fail = (code: VerifyCode, seq: number | undefined, message: string) =>
    report.findings.push({ code, chain: chainName, seq, message });

  const lastSeq = Math.max(
    snapshot.head?.seq ?? 0,
    ...snapshot.entries.keys(),
    ...snapshot.unreadable,
  );
  const good: Array<ChainEntry<T>> = [];
  for (let seq = 1; seq <= lastSeq; seq++) {
    const entry = snapshot.entries.get(seq);
    if (!entry) {
      fail(
        snapshot.unreadable.includes(seq) ? 'CHAIN_ENTRY_UNREADABLE' : 'CHAIN_ENTRY_MISSING',
        seq,
        snapshot.unreadable.includes(seq)
          ? 'The chain entry cannot be parsed'
          : 'The chain entry was removed',
      );
      continue;
    }

    let intact = true;
    if (recordHash(entry.record) !== entry.hash) {
      fail('CHAIN_ENTRY_ALTERED', seq, 'The entry does not hash to the hash recorded with it');
      intact = false;
    }
    if (!verifyRecordSignature(entry.record, keyRing.verifyKeys)) {
      fail('SIGNATURE_INVALID', seq, 'The entry is not signed by a key in the key store');
      intact = false;
    }
    const link = entry.record.chain;
    const previous = seq === 1 ? { hash: GENESIS_HASH } : snapshot.entries.get(seq - 1);
    if (!link || link.name !== chainName || link.seq !== seq) {
      fail('CHAIN_LINK_BROKEN', seq, 'The entry names another chain or position');
      intact = false;
    } else if (previous && link.previousHash !== previous.hash) {
      fail('CHAIN_LINK_BROKEN', seq, 'previousHash is not the hash of the entry before');
      intact = false;
    }
    if (intact) {
      good.push(entry);
    }
  }

  if (lastSeq > 0 && !snapshot.head) {
    fail('CHAIN_HEAD_MISSING', undefined, 'The chain has entries but no head row');
  } else if (
    snapshot.head &&
    (snapshot.head.seq !== lastSeq || snapshot.entries.get(lastSeq)?.hash !== snapshot.head.hash)
  ) {
    fail('CHAIN_HEAD_MISMATCH', snapshot.head.seq, 'The head does not point at the last entry');
  }
  return good;
}

async function verifyManifestBlob(
  app: App,
  chainName: string,
  entry: ChainEntry<BatchManifest>,
  report: VerifyReport,
): Promise<void> {
  const manifest = entry.record;
  const path = pathOf(manifest);
  const fail = (code: VerifyCode, message: string) =>
    report.findings.push({
      code,
      chain: chainName,
      seq: entry.seq,
      batchId: manifest.batchId,
      path: `manifests/${path}`,
      message,
    });
  report.manifests++;

  let stored: BatchManifest;
  try {
    const bytes = await app.storage.manifests.getBlockBlobClient(path).downloadToBuffer();
    stored = JSON.parse(bytes.toString('utf8')) as BatchManifest;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) {
      fail('MANIFEST_MISSING', 'The manifest blob was deleted');
    } else {
      fail('MANIFEST_ALTERED', 'The manifest blob is not JSON');
    }
    return;
  }

  if (recordHash(stored) === entry.hash) {
    return;
  }
  let storedPath: string | undefined;
  try {
    storedPath = pathOf(stored);
  } catch {
    storedPath = undefined;
  }
  if (storedPath !== undefined && storedPath !== path) {
    fail('MANIFEST_MISPLACED', `The blob holds the manifest of batch ${safeId(stored.batchId)}`);
    return;
  }
  fail('MANIFEST_ALTERED', 'The manifest blob differs from its chained, signed version');
}

async function findUnchainedManifests(
  app: App,
  feedId: string,
  entries: Array<ChainEntry<BatchManifest>>,
  report: VerifyReport,
): Promise<void> {
  const chained = new Set(entries.map((entry) => entry.refKey));
  for await (const blob of app.storage.manifests.listBlobsFlat({ prefix: `feed=${feedId}/` })) {
    if (!chained.has(manifestRefKey(blob.name))) {
      report.findings.push({
        code: 'MANIFEST_UNCHAINED',
        chain: manifestChainName(feedId),
        path: `manifests/${blob.name}`,
        message: 'The manifest blob is in no intact chain entry',
      });
    }
  }
}

/** Streams each part once: size, SHA-256 and every GCM tag together. Caches batch keys. */
class PartChecker {
  private readonly keys = new Map<string, Promise<Record<number, Uint8Array> | 'shredded'>>();

  private readonly seen = new Set<string>();

  constructor(
    private readonly app: App,
    private readonly keyRing: KeyRing,
    private readonly report: VerifyReport,
  ) {}

  async check(part: StoredPart, batchId: string): Promise<void> {
    const target = `${part.container}/${part.path}`;
    if (this.seen.has(target)) {
      return;
    }
    this.seen.add(target);
    this.report.parts++;
    const fail = (code: VerifyCode, message: string) =>
      this.report.findings.push({ code, batchId, path: target, message });

    const client = this.app.storage.blobService
      .getContainerClient(part.container)
      .getBlobClient(part.path);
    let body: NodeJS.ReadableStream | undefined;
    try {
      body = (await client.download()).readableStreamBody;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) {
        fail('PART_MISSING', 'The part was deleted');
        return;
      }
      throw error;
    }

    const hash = createHash('sha256');
    let sizeBytes = 0;
    let opener: EnvelopeOpener | undefined;
    let envelopeCode: string | undefined;
    let shredded = false;
    let pending: Buffer[] = [];
    for await (const chunk of body ?? []) {
      const bytes = Buffer.from(chunk as Buffer);
      hash.update(bytes);
      sizeBytes += bytes.length;
      if (envelopeCode || shredded) {
        continue;
      }
      if (!opener) {
        // The header comes first; the key it names is looked up once it is complete.
        pending.push(bytes);
        const started = await this.startOpener(Buffer.concat(pending));
        if (started === 'incomplete') {
          continue;
        }
        if (started === 'shredded') {
          shredded = true;
          continue;
        }
        if (typeof started === 'string') {
          envelopeCode = started;
          continue;
        }
        opener = started;
        envelopeCode = feed(opener, Buffer.concat(pending));
        pending = [];
        continue;
      }
      envelopeCode = feed(opener, bytes);
    }
    if (!opener && !envelopeCode && !shredded) {
      envelopeCode = 'ENVELOPE_TRUNCATED';
    } else if (opener && !envelopeCode) {
      try {
        opener.end();
      } catch (error) {
        envelopeCode = errorCodeOf(error);
      }
    }

    if (sizeBytes !== part.sizeBytes) {
      fail(
        'PART_SIZE_MISMATCH',
        `The part has ${sizeBytes} bytes; the manifest says ${part.sizeBytes}`,
      );
    }
    if (hash.digest('hex') !== part.sha256) {
      fail('PART_HASH_MISMATCH', 'The SHA-256 of the part differs from the manifest');
    }
    if (shredded) {
      this.report.partsShredded++;
    } else if (envelopeCode === 'ENVELOPE_AUTH_FAILED') {
      fail('PART_AUTH_FAILED', 'A GCM tag did not authenticate');
    } else if (envelopeCode === 'ENVELOPE_TRUNCATED') {
      fail('PART_TRUNCATED', 'The envelope ends before its final chunk');
    } else if (envelopeCode) {
      fail('PART_UNREADABLE', `The envelope could not be opened (${envelopeCode})`);
    }
  }

  /** Returns an opener once the header is complete, or why there is none. */
  private async startOpener(
    start: Buffer,
  ): Promise<EnvelopeOpener | 'incomplete' | 'shredded' | string> {
    let kekId: string;
    try {
      kekId = readEnvelopeHeader(start).header.kekId;
    } catch (error) {
      const code = errorCodeOf(error);
      return code === 'ENVELOPE_TRUNCATED' ? 'incomplete' : code;
    }

    let keys = this.keys.get(kekId);
    if (!keys) {
      const header = readEnvelopeHeader(start).header;
      keys = resolveEnvelopeKeys(this.app.storage, this.keyRing, header).then(
        (resolved) => resolved.keyEncryptionKeys,
        (error: unknown) => {
          if (errorCodeOf(error) === 'BATCH_KEY_SHREDDED') {
            return 'shredded' as const;
          }
          throw error;
        },
      );
      this.keys.set(kekId, keys);
    }
    let resolved: Record<number, Uint8Array> | 'shredded';
    try {
      resolved = await keys;
    } catch (error) {
      return errorCodeOf(error);
    }
    if (resolved === 'shredded') {
      return 'shredded';
    }
    return new EnvelopeOpener((id, version) => (id === kekId ? resolved[version] : undefined));
  }
}

function feed(opener: EnvelopeOpener, bytes: Uint8Array): string | undefined {
  try {
    opener.push(bytes);
    return undefined;
  } catch (error) {
    return errorCodeOf(error);
  }
}

/** For each batch, the newest version made with `--replace`: older versions' parts are gone. */
function replacedVersions(entries: Array<ChainEntry<BatchManifest>>): Map<string, number> {
  const replacedBelow = new Map<string, number>();
  for (const { record } of entries) {
    if (record.reprocess?.replace) {
      const version = record.version ?? 1;
      replacedBelow.set(record.batchId, Math.max(version, replacedBelow.get(record.batchId) ?? 0));
    }
  }
  return replacedBelow;
}

function partsOf(manifest: BatchManifest): StoredPart[] {
  return [
    ...(manifest.parts ?? []),
    ...(manifest.rejectParts ?? []),
    ...(manifest.archive ? [manifest.archive] : []),
    ...(manifest.quarantine ? [manifest.quarantine] : []),
  ];
}

function pathOf(manifest: BatchManifest): string {
  return manifestPath(manifest.feedId, manifest.ingestDate, manifest.batchId, manifest.version);
}

/** Batch ids are hex; anything else read from a tampered blob is not repeated. */
function safeId(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : '(invalid id)';
}

async function listFeeds(app: App): Promise<string[]> {
  const feeds = new Set<string>();
  for (const name of await listChainNames(app.storage, 'manifests.')) {
    feeds.add(name.slice('manifests.'.length));
  }
  // Feeds whose chain rows are all gone still have manifest blobs to report.
  for await (const item of app.storage.manifests.listBlobsByHierarchy('/')) {
    const match = item.kind === 'prefix' ? /^feed=([a-z0-9-]{1,63})\/$/.exec(item.name) : null;
    if (match) {
      feeds.add(match[1]);
    }
  }
  return [...feeds].sort();
}
