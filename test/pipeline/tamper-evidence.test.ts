import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { drain } from '../../pipeline/app.js';
import { listAuditEvents, recordAuditEvent } from '../../pipeline/audit.js';
import { dropFiles } from '../../pipeline/drop.js';
import { manifestPath, type BatchManifest } from '../../pipeline/manifest.js';
import { verifyStorage, type VerifyFinding } from '../../pipeline/verify.js';
import { readEnvelopeHeader } from '../../transforms/crypto/index.js';
import { writeSampleFiles } from '../helpers/samples.js';
import { startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

/** Findings without their messages, which are prose; code and place are what verify promises. */
function where(findings: VerifyFinding[]): Array<Omit<VerifyFinding, 'message'>> {
  return findings.map(({ message: _message, ...rest }) => rest);
}

describe('verify names each kind of tampering', () => {
  let env: TestEnvironment;
  let manifests: BatchManifest[];

  const blob = (container: string, path: string) =>
    env.app.storage.blobService.getContainerClient(container).getBlockBlobClient(path);
  const download = (container: string, path: string) => blob(container, path).downloadToBuffer();
  const upload = (container: string, path: string, bytes: Uint8Array) =>
    blob(container, path).uploadData(bytes);
  const pathOf = (manifest: BatchManifest) =>
    manifestPath(manifest.feedId, manifest.ingestDate, manifest.batchId, manifest.version);

  beforeAll(async () => {
    env = await startTestEnvironment();
    const samples = writeSampleFiles(join(env.homeDir, 'samples'));
    await dropFiles(env.app.storage, 'fhir-feed', [
      samples.get('fhir-feed/patients-bundle.json')!,
      samples.get('fhir-feed/observations.ndjson')!,
    ]);
    await dropFiles(env.app.storage, 'lab-feed', [samples.get('lab-feed/oru-results.hl7')!]);
    const report = await drain(env.app);
    // The committed versions, with their chain links, as the manifest blobs hold them.
    manifests = await Promise.all(
      report.results.map(async (result) => {
        const manifest = (result as { manifest: BatchManifest }).manifest;
        return JSON.parse(
          (await download('manifests', pathOf(manifest))).toString('utf8'),
        ) as BatchManifest;
      }),
    );
    manifests.sort((a, b) => a.feedId.localeCompare(b.feedId) || a.chain!.seq - b.chain!.seq);
    for (const action of ['decrypt', 'keys-rotate', 'verify'] as const) {
      await recordAuditEvent(env.app, { action, outcome: 'succeeded' });
    }
  });

  afterAll(async () => {
    await env?.close();
  });

  it('finds nothing wrong in untouched storage and counts what it checked', async () => {
    const report = await verifyStorage(env.app);
    expect(report.findings).toEqual([]);
    const partCount = manifests.reduce(
      (sum, manifest) =>
        sum + manifest.parts.length + manifest.rejectParts.length + (manifest.archive ? 1 : 0),
      0,
    );
    expect(report).toMatchObject({
      chains: 3,
      manifests: 3,
      parts: partCount,
      partsShredded: 0,
      auditEvents: 3,
    });
  });

  it('names a flipped byte in an output part: its hash and its GCM tag', async () => {
    const part = manifests[0].parts[0];
    const original = await download('output', part.path);
    const flipped = Buffer.from(original);
    flipped[flipped.length - 20] ^= 0x01;
    await upload('output', part.path, flipped);

    const report = await verifyStorage(env.app);
    expect(where(report.findings)).toEqual([
      { code: 'PART_HASH_MISMATCH', batchId: manifests[0].batchId, path: `output/${part.path}` },
      { code: 'PART_AUTH_FAILED', batchId: manifests[0].batchId, path: `output/${part.path}` },
    ]);
    await upload('output', part.path, original);
  });

  it('names a deleted part', async () => {
    const part = manifests[2].parts[0];
    const original = await download('output', part.path);
    await blob('output', part.path).delete();

    const report = await verifyStorage(env.app, { feedId: manifests[2].feedId });
    expect(where(report.findings)).toEqual([
      { code: 'PART_MISSING', batchId: manifests[2].batchId, path: `output/${part.path}` },
    ]);
    await upload('output', part.path, original);
  });

  it('names a truncated part: size, hash and the missing final chunk', async () => {
    const archive = manifests[1].archive!;
    const original = await download('archive', archive.path);
    const headerBytes = readEnvelopeHeader(original).bytes.length;
    await upload('archive', archive.path, original.subarray(0, headerBytes));

    const report = await verifyStorage(env.app, { batchId: manifests[1].batchId });
    expect(where(report.findings)).toEqual([
      {
        code: 'PART_SIZE_MISMATCH',
        batchId: manifests[1].batchId,
        path: `archive/${archive.path}`,
      },
      {
        code: 'PART_HASH_MISMATCH',
        batchId: manifests[1].batchId,
        path: `archive/${archive.path}`,
      },
      { code: 'PART_TRUNCATED', batchId: manifests[1].batchId, path: `archive/${archive.path}` },
    ]);
    await upload('archive', archive.path, original);
  });

  it('names a deleted manifest', async () => {
    const path = pathOf(manifests[2]);
    const original = await download('manifests', path);
    await blob('manifests', path).delete();

    const report = await verifyStorage(env.app);
    expect(where(report.findings)).toEqual([
      {
        code: 'MANIFEST_MISSING',
        chain: `manifests.${manifests[2].feedId}`,
        seq: 1,
        batchId: manifests[2].batchId,
        path: `manifests/${path}`,
      },
    ]);
    await upload('manifests', path, original);
  });

  it('names a manifest that was edited and uploaded again', async () => {
    const path = pathOf(manifests[0]);
    const original = await download('manifests', path);
    const edited = JSON.parse(original.toString('utf8')) as BatchManifest;
    edited.counts.written += 1;
    await upload('manifests', path, Buffer.from(JSON.stringify(edited, null, 2)));

    const report = await verifyStorage(env.app);
    expect(where(report.findings)).toEqual([
      {
        code: 'MANIFEST_ALTERED',
        chain: `manifests.${manifests[0].feedId}`,
        seq: 1,
        batchId: manifests[0].batchId,
        path: `manifests/${path}`,
      },
    ]);
    await upload('manifests', path, original);
  });

  it('names two manifests swapped with each other', async () => {
    const [first, second] = manifests.filter((manifest) => manifest.feedId === 'fhir-feed');
    const firstBytes = await download('manifests', pathOf(first));
    const secondBytes = await download('manifests', pathOf(second));
    await upload('manifests', pathOf(first), secondBytes);
    await upload('manifests', pathOf(second), firstBytes);

    const report = await verifyStorage(env.app, { feedId: 'fhir-feed' });
    expect(where(report.findings)).toEqual(
      [first, second].map((manifest) => ({
        code: 'MANIFEST_MISPLACED',
        chain: 'manifests.fhir-feed',
        seq: manifest.chain!.seq,
        batchId: manifest.batchId,
        path: `manifests/${pathOf(manifest)}`,
      })),
    );
    expect(report.findings.map((finding) => finding.message).sort()).toEqual(
      [
        `The blob holds the manifest of batch ${first.batchId}`,
        `The blob holds the manifest of batch ${second.batchId}`,
      ].sort(),
    );
    await upload('manifests', pathOf(first), firstBytes);
    await upload('manifests', pathOf(second), secondBytes);
  });

  it('names an audit event that was removed from the chain', async () => {
    const table = env.app.storage.chainTable;
    const removed = await table.getEntity('audit', 'seq-000000000002');
    await table.deleteEntity('audit', 'seq-000000000002');

    const report = await verifyStorage(env.app);
    expect(where(report.findings)).toEqual([
      { code: 'CHAIN_ENTRY_MISSING', chain: 'audit', seq: 2 },
    ]);
    expect((await listAuditEvents(env.app.storage)).map((event) => event.action)).toEqual([
      'decrypt',
      'verify',
    ]);

    const { etag: _etag, timestamp: _timestamp, ...entity } = removed;
    await table.createEntity({ ...entity, partitionKey: 'audit', rowKey: 'seq-000000000002' });
    expect((await verifyStorage(env.app)).findings).toEqual([]);
  });
});
