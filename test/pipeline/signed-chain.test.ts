import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AuditEvent } from '../../pipeline/audit.js';
import { startPrivateAzurite, type AzuriteHandle } from '../../pipeline/azurite.js';
import { PipelineError } from '../../pipeline/errors.js';
import { initKeyFile, loadOrCreateKeyRing, signingKeyIdOf } from '../../pipeline/key-store.js';
import {
  appendToChain,
  assertKeyStoreOwnsChains,
  getChainSignerKeyId,
  readChain,
  type ChainedRecord,
  type RecordSigner,
} from '../../pipeline/signed-chain.js';
import { ensureStorageLayout, fromConnectionString, type Storage } from '../../pipeline/storage.js';
import { runCliInProcess, type CliResult } from '../helpers/cli.js';
import { writeSampleFiles } from '../helpers/samples.js';

function newSigner(): RecordSigner & { verifyKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { signingKey: privateKey, signingKeyId: signingKeyIdOf(publicKey), verifyKey: publicKey };
}

async function errorOf(work: Promise<unknown>): Promise<PipelineError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof PipelineError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a PipelineError');
}

const mismatch = (chain: string, keyId: string): string =>
  `The key store does not hold the key that signed this storage's chains (chain ${chain}, ` +
  `signing key ${keyId}); check PHI_INGEST_KEY_FILE (default: keys.json in --home or ` +
  `PHI_INGEST_HOME): it must name the key file this storage was written with`;

describe('appendToChain', () => {
  let azurite: AzuriteHandle;
  let storage: Storage;

  const append = (signer: RecordSigner, chainName: string) =>
    appendToChain<ChainedRecord & { note: string }>(
      storage,
      signer,
      chainName,
      randomUUID(),
      (chain) => ({
        note: 'test',
        chain,
      }),
    );

  beforeAll(async () => {
    azurite = await startPrivateAzurite();
    storage = fromConnectionString(azurite.connectionString);
    await ensureStorageLayout(storage);
  });

  afterAll(async () => {
    await storage?.close();
    await azurite?.stop();
  });

  it('starts an empty chain with any key, then refuses a key store without that key', async () => {
    const owner = newSigner();
    const stranger = newSigner();
    await append(owner, 'manifests.owned');

    const error = await errorOf(append(stranger, 'manifests.owned'));
    expect([error.code, error.message]).toEqual([
      'KEY_STORE_MISMATCH',
      mismatch('manifests.owned', owner.signingKeyId),
    ]);
    const chain = await readChain(storage, 'manifests.owned');
    expect([chain.head?.seq, [...chain.entries.keys()]]).toEqual([1, [1]]);
    await expect(
      assertKeyStoreOwnsChains(storage, { [stranger.signingKeyId]: stranger.verifyKey }),
    ).rejects.toThrow(mismatch('manifests.owned', owner.signingKeyId));
  });

  it('lets a key store whose current key is new append while it holds the key that started the chain', async () => {
    const first = newSigner();
    const second = newSigner();
    await append(first, 'manifests.rotated');
    const rotated: RecordSigner = {
      signingKey: second.signingKey,
      signingKeyId: second.signingKeyId,
      verifyKeys: {
        [first.signingKeyId]: first.verifyKey,
        [second.signingKeyId]: second.verifyKey,
      },
    };

    const { record } = await append(rotated, 'manifests.rotated');
    expect([record.chain?.seq, record.signature?.keyId]).toEqual([2, second.signingKeyId]);
    expect(await getChainSignerKeyId(storage, 'manifests.rotated')).toBe(first.signingKeyId);
  });

  it('takes the signer from the oldest entry left when the first was deleted', async () => {
    const first = newSigner();
    const second = newSigner();
    await append(first, 'manifests.pruned');
    await append(
      { ...second, verifyKeys: { [first.signingKeyId]: first.verifyKey } },
      'manifests.pruned',
    );
    await storage.chainTable.deleteEntity('manifests.pruned', 'seq-000000000001');

    // A fresh storage object: the signer of a chain is remembered per storage.
    const reopened = fromConnectionString(azurite.connectionString);
    try {
      expect(await getChainSignerKeyId(reopened, 'manifests.pruned')).toBe(second.signingKeyId);
      expect(await getChainSignerKeyId(reopened, 'manifests.empty')).toBeUndefined();
    } finally {
      await reopened.close();
    }
  });
});

describe('a key file of another home', () => {
  let azurite: AzuriteHandle;
  let homeDir: string;
  let otherHome: string;
  let partPath: string;
  let ownKeyId: string;

  const cli = (env: Record<string, string>, ...args: string[]): Promise<CliResult> =>
    runCliInProcess(
      {
        PHI_INGEST_STORAGE_CONNECTION_STRING: azurite.connectionString,
        PHI_INGEST_HOME: homeDir,
        PHI_INGEST_MAX_THREADS: '1',
        PHI_INGEST_POLL_INTERVAL_MS: '100',
        PHI_INGEST_OPERATOR: 'test-operator',
        ...env,
      },
      args,
    );
  const own = (...args: string[]) => cli({}, ...args);
  const other = (...args: string[]) =>
    cli({ PHI_INGEST_KEY_FILE: join(otherHome, 'keys.json') }, ...args);
  const auditEvents = async (): Promise<AuditEvent[]> =>
    (await own('audit', '--json')).stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditEvent);
  const blobNames = async (): Promise<string[]> => {
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const names: string[] = [];
    for await (const container of service.listContainers()) {
      for await (const blob of service.getContainerClient(container.name).listBlobsFlat()) {
        names.push(`${container.name}/${blob.name}`);
      }
    }
    return names.sort();
  };

  beforeAll(async () => {
    azurite = await startPrivateAzurite();
    homeDir = mkdtempSync(join(tmpdir(), 'phi-ingest-own-'));
    otherHome = mkdtempSync(join(tmpdir(), 'phi-ingest-other-'));
    writeSampleFiles(join(homeDir, 'samples'));
    ownKeyId = /signing key ([0-9a-f]{16})/.exec((await own('keys', 'init')).stdout)![1];
    const ingest = await own('ingest', '--feed', 'lab-feed', join(homeDir, 'samples', 'lab-feed'));
    expect(ingest.code).toBe(0);
    partPath = /output\/feed=lab-feed\/\S+part-00000\.ndjson\.gz\.enc/.exec(ingest.stdout)![0];
    initKeyFile(join(otherHome, 'keys.json'));
  });

  afterAll(async () => {
    await azurite?.stop();
    rmSync(homeDir, { recursive: true, force: true });
    rmSync(otherHome, { recursive: true, force: true });
  });

  it('refuses decrypt and verify before anything is read or recorded, and the trail still verifies', async () => {
    const before = await auditEvents();

    const decrypt = await other('decrypt', partPath);
    expect([decrypt.code, decrypt.stdout, decrypt.stderr]).toEqual([
      1,
      '',
      `phi-ingest: KEY_STORE_MISMATCH: ${mismatch('audit', ownKeyId)}\n`,
    ]);
    const verify = await other('verify');
    expect([verify.code, verify.stdout, verify.stderr]).toEqual([
      1,
      '',
      `phi-ingest: KEY_STORE_MISMATCH: ${mismatch('audit', ownKeyId)}\n`,
    ]);
    expect(await auditEvents()).toEqual(before);

    const clean = await own('verify');
    expect([clean.code, clean.stdout, clean.stderr]).toEqual([
      0,
      `OK: 2 chains, 1 manifest, 2 parts, ${before.length} audit events checked; 0 problems\n`,
      '',
    ]);
  });

  it('refuses to ingest with a key file path that names no file yet, writing nothing', async () => {
    const blobs = await blobNames();
    const events = await auditEvents();
    const typo = join(otherHome, 'keys-typo.json');

    const ingest = await cli(
      { PHI_INGEST_KEY_FILE: typo },
      'ingest',
      '--feed',
      'lab-feed',
      join(homeDir, 'samples', 'lab-feed'),
    );
    const created = loadOrCreateKeyRing(typo, { create: false });
    expect([ingest.code, ingest.stderr]).toEqual([
      1,
      `phi-ingest: KEY_STORE_MISMATCH: ${mismatch('audit', ownKeyId)}\n`,
    ]);
    expect(created.signingKeyId).not.toBe(ownKeyId);
    expect(await blobNames()).toEqual(blobs);
    expect(await auditEvents()).toEqual(events);
  });

  it('still verifies with the own keys after another key signed the last audit event', async () => {
    // What a build without the check did: the other home's key signed a failed decrypt's event.
    const storage = fromConnectionString(azurite.connectionString);
    const ownRing = loadOrCreateKeyRing(join(homeDir, 'keys.json'), { create: false });
    const otherRing = loadOrCreateKeyRing(join(otherHome, 'keys.json'), { create: false });
    const eventId = randomUUID();
    try {
      await appendToChain<AuditEvent>(
        storage,
        { ...otherRing, verifyKeys: ownRing.verifyKeys },
        'audit',
        eventId,
        (chain) => ({
          eventVersion: 1,
          eventId,
          at: new Date().toISOString(),
          actor: { name: 'test-operator', source: 'PHI_INGEST_OPERATOR' },
          action: 'decrypt',
          outcome: 'failed',
          errorCode: 'KEY_UNKNOWN',
          chain,
        }),
      );
    } finally {
      await storage.close();
    }
    const foreignSeq = (await auditEvents()).at(-1)!.chain!.seq;

    const verify = await own('verify');
    expect([verify.code, verify.stdout, verify.stderr]).toEqual([
      1,
      `FAIL SIGNATURE_INVALID chain=audit seq=${foreignSeq}: The entry is not signed by a key in the key store\n` +
        `FAILED: 2 chains, 1 manifest, 2 parts, ${foreignSeq - 1} audit events checked; 1 problem\n`,
      'phi-ingest: VERIFY_FAILED: 1 problem found\n',
    ]);
    const recorded = (await auditEvents()).at(-1)!;
    expect([
      recorded.action,
      recorded.outcome,
      recorded.errorCode,
      recorded.chain?.seq,
      recorded.signature?.keyId,
    ]).toEqual(['verify', 'failed', 'VERIFY_FAILED', foreignSeq + 1, ownKeyId]);

    const decrypt = await other('decrypt', partPath);
    expect(decrypt.stderr).toBe(`phi-ingest: KEY_STORE_MISMATCH: ${mismatch('audit', ownKeyId)}\n`);
  });
});
