import { Writable } from 'node:stream';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { drain } from '../../pipeline/app.js';
import {
  getBatchKey,
  getBatchKeyRow,
  rewrapBatchKeys,
  shredBatchKey,
} from '../../pipeline/batch-keys.js';
import { dropFiles } from '../../pipeline/drop.js';
import { loadOrCreateKeyRing, rotateKeyFile } from '../../pipeline/key-store.js';
import type { BatchManifest } from '../../pipeline/manifest.js';
import { decryptStored, readSealedPart, streamSealedPart } from '../../pipeline/read-part.js';
import { verifyStorage } from '../../pipeline/verify.js';
import { decryptEnvelope, readEnvelopeHeader } from '../../transforms/crypto/index.js';
import { writeSampleFiles } from '../helpers/samples.js';
import { startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

describe('key rotation, rewrap and crypto-shredding', () => {
  let env: TestEnvironment;
  let before: BatchManifest;
  let after: BatchManifest;
  let beforeText: string;

  const ingest = async (feedId: string, sample: string): Promise<BatchManifest> => {
    const samples = writeSampleFiles(join(env.homeDir, 'samples'));
    await dropFiles(env.app.storage, feedId, [samples.get(sample)!]);
    const report = await drain(env.app);
    return (report.results[0] as { manifest: BatchManifest }).manifest;
  };
  const etagOf = async (container: string, path: string) =>
    (
      await env.app.storage.blobService
        .getContainerClient(container)
        .getBlobClient(path)
        .getProperties()
    ).etag;

  beforeAll(async () => {
    env = await startTestEnvironment();
    before = await ingest('lab-feed', 'lab-feed/oru-results.hl7');
    beforeText = await decryptStored(env.app, `output/${before.parts[0].path}`);

    rotateKeyFile(env.app.config.keyFile);
    env.app.keyRing = loadOrCreateKeyRing(env.app.config.keyFile);
    after = await ingest('adt-feed', 'adt-feed/adt-batch.hl7');
  });

  afterAll(async () => {
    await env?.close();
  });

  it('wraps batch keys under the KEK version current when each batch was made', async () => {
    const kekId = env.app.keyRing!.encryptionKeyId;
    expect(await getBatchKeyRow(env.app.storage, before.batchId)).toMatchObject({
      state: 'active',
      kekId,
      kekVersion: '1',
      wrapAlg: 'A256GCM',
    });
    expect(await getBatchKeyRow(env.app.storage, after.batchId)).toMatchObject({
      state: 'active',
      kekId,
      kekVersion: '2',
      wrapAlg: 'A256GCM',
    });

    const header = readEnvelopeHeader(
      await env.app.storage.output.getBlobClient(before.parts[0].path).downloadToBuffer(),
    ).header;
    expect([header.kekId, header.kekVersion, header.batchId]).toEqual([
      `batch:${before.batchId}`,
      1,
      before.batchId,
    ]);
  });

  it('decrypts batches from before and after a rotation', async () => {
    expect(beforeText.trimEnd().split('\n')).toHaveLength(5);
    expect(await decryptStored(env.app, `output/${before.parts[0].path}`)).toBe(beforeText);
    const afterText = await decryptStored(env.app, `output/${after.parts[0].path}`);
    expect(afterText.trimEnd().split('\n').length).toBe(after.parts[0].recordCount);
  });

  it('streams the same plaintext as the buffered read', async () => {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    });
    await streamSealedPart(env.app, `output/${before.parts[0].path}`, sink);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(beforeText);
  });

  it('rewraps stored batch keys under the current version without touching the data', async () => {
    const etags = await Promise.all(before.parts.map((part) => etagOf('output', part.path)));
    const keyBefore = await getBatchKey(env.app.storage, env.app.keyRing!, before.batchId);

    expect(await rewrapBatchKeys(env.app.storage, env.app.keyRing!)).toEqual({
      rewrapped: 1,
      alreadyCurrent: 1,
      shredded: 0,
    });
    expect((await getBatchKeyRow(env.app.storage, before.batchId))?.kekVersion).toBe('2');
    expect(await getBatchKey(env.app.storage, env.app.keyRing!, before.batchId)).toEqual(keyBefore);
    expect(await Promise.all(before.parts.map((part) => etagOf('output', part.path)))).toEqual(
      etags,
    );
    expect(await decryptStored(env.app, `output/${before.parts[0].path}`)).toBe(beforeText);
    expect(await rewrapBatchKeys(env.app.storage, env.app.keyRing!)).toEqual({
      rewrapped: 0,
      alreadyCurrent: 2,
      shredded: 0,
    });
  });

  it('makes a shredded batch unreadable, even with every other key there is', async () => {
    const sealed = await env.app.storage.output
      .getBlobClient(before.parts[0].path)
      .downloadToBuffer();
    const archive = `archive/${before.archive!.path}`;
    expect(await shredBatchKey(env.app.storage, before.batchId, 'test-operator')).toBe('shredded');
    expect(await shredBatchKey(env.app.storage, before.batchId, 'test-operator')).toBe(
      'already-shredded',
    );

    const row = await getBatchKeyRow(env.app.storage, before.batchId);
    const { partitionKey, rowKey, state, kekId, kekVersion, wrapAlg, wrappedKey, shreddedBy } =
      row!;
    expect({
      partitionKey,
      rowKey,
      state,
      kekId,
      kekVersion,
      wrapAlg,
      wrappedKey,
      shreddedBy,
    }).toEqual({
      partitionKey: before.batchId,
      rowKey: 'key',
      state: 'shredded',
      kekId: '',
      kekVersion: '',
      wrapAlg: '',
      wrappedKey: '',
      shreddedBy: 'test-operator',
    });
    // Nothing else of the old row survives: no property holds key material.
    expect(Object.keys(row!).sort()).toEqual([
      'createdAt',
      'etag',
      'kekId',
      'kekVersion',
      'odata.metadata',
      'partitionKey',
      'rowKey',
      'shreddedAt',
      'shreddedBy',
      'state',
      'timestamp',
      'wrapAlg',
      'wrappedKey',
    ]);
    await expect(readSealedPart(env.app, `output/${before.parts[0].path}`)).rejects.toMatchObject({
      code: 'BATCH_KEY_SHREDDED',
    });
    await expect(readSealedPart(env.app, archive)).rejects.toMatchObject({
      code: 'BATCH_KEY_SHREDDED',
    });

    // Every key that still exists: each KEK version, the pseudonym key, every other batch key.
    const keyRing = env.app.keyRing!;
    const candidates = [
      ...Object.values(keyRing.keyEncryptionKeys),
      keyRing.pseudonymKey,
      await getBatchKey(env.app.storage, keyRing, after.batchId),
    ];
    expect(candidates).toHaveLength(4);
    for (const candidate of candidates) {
      expect(() => decryptEnvelope(sealed, () => candidate)).toThrow(
        expect.objectContaining({ code: 'ENVELOPE_AUTH_FAILED' }),
      );
    }

    const report = await verifyStorage(env.app);
    expect(report.findings).toEqual([]);
    expect(report.partsShredded).toBe(before.parts.length + 1);
    expect(await rewrapBatchKeys(env.app.storage, keyRing)).toEqual({
      rewrapped: 0,
      alreadyCurrent: 1,
      shredded: 1,
    });
  });
});
