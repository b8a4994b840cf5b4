import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { drain } from '../../pipeline/app.js';
import { shredBatchKey } from '../../pipeline/batch-keys.js';
import { dropFiles } from '../../pipeline/drop.js';
import { getBatchRow, getManifest, type BatchManifest } from '../../pipeline/manifest.js';
import { reprocess } from '../../pipeline/reprocess.js';
import { listSampleIdentifiers } from '../../samples/generate.js';
import { runCliInProcess, type CliResult } from '../helpers/cli.js';
import { writeSampleFiles } from '../helpers/samples.js';
import { startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

describe('batch show', () => {
  let env: TestEnvironment;
  let lab: BatchManifest;
  let labV2: BatchManifest;
  let quarantined: BatchManifest;
  let adt: BatchManifest;

  const cli = (...args: string[]): Promise<CliResult> =>
    runCliInProcess(
      {
        PHI_INGEST_STORAGE_CONNECTION_STRING: env.azurite.connectionString,
        PHI_INGEST_HOME: env.homeDir,
        PHI_INGEST_MAX_THREADS: '1',
      },
      args,
    );

  beforeAll(async () => {
    env = await startTestEnvironment();
    const samples = writeSampleFiles(join(env.homeDir, 'samples'));
    await dropFiles(env.app.storage, 'lab-feed', [samples.get('lab-feed/oru-results.hl7')!]);
    await dropFiles(env.app.storage, 'adt-feed', [samples.get('adt-feed/adt-batch.hl7')!]);
    await dropFiles(env.app.storage, 'bad-feed', [samples.get('bad-feed/unknown.bin')!]);
    const report = await drain(env.app);
    const manifests = report.results.map(
      (result) => (result as { manifest: BatchManifest }).manifest,
    );
    lab = manifests.find((manifest) => manifest.feedId === 'lab-feed')!;
    adt = manifests.find((manifest) => manifest.feedId === 'adt-feed')!;
    quarantined = manifests.find((manifest) => manifest.feedId === 'bad-feed')!;
    expect(quarantined.status).toBe('quarantined');

    await reprocess(env.app, { selection: { batchId: lab.batchId } });
    const row = (await getBatchRow(env.app.storage, 'lab-feed', lab.batchId))!;
    labV2 = await getManifest(env.app.storage, row.manifestPath);
    expect(labV2.version).toBe(2);
  });

  afterAll(async () => {
    await env?.close();
  });

  it('lists the current version by the printed prefix, and decrypt takes a listed part', async () => {
    const shown = await cli('batch', 'show', lab.batchId.slice(0, 12));

    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    const lines = shown.stdout.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      'feed         lab-feed',
      `batch        ${lab.batchId}`,
      'version      2 (current)',
      'status       committed',
      'format       hl7v2',
    ]);
    expect(lines).toContain(`ingest date  ${lab.ingestDate}`);
    expect(lines).toContain(
      `source       ${lab.source.sizeBytes} bytes, SHA-256 ${lab.source.sha256.slice(0, 32)}…`,
    );
    expect(lines).toContain('records      5 in, 5 written, 0 rejected');
    expect(lines).toContain(
      `reprocessed  run ${labV2.reprocess!.runId} from archive, supersedes version 1`,
    );
    expect(lines).toContain(
      `KEK          ${lab.encryption.encryptionKeyId} version 1 when written`,
    );
    expect(lines).toContain('batch key    active');
    expect(lines).toContain(
      `manifest     manifests/feed=lab-feed/date=${lab.ingestDate}/batch=${lab.batchId}.v2/` +
        `manifest.json (chain seq ${labV2.chain!.seq})`,
    );
    const part = labV2.parts[0];
    expect(shown.stdout).toContain(
      `\nparts:\n  output/${part.path}  (5 records, ${part.sizeBytes} bytes)\n` +
        `\narchive:\n  archive/${labV2.archive!.path}  (${labV2.archive!.sizeBytes} bytes)\n` +
        '\ndecrypt one with: phi-ingest decrypt <path>\n',
    );
    expect(shown.stdout).not.toContain('reject parts:');

    const listed = /^ {2}(output\/\S+)/m.exec(shown.stdout)![1];
    const decrypted = await cli('decrypt', listed);
    expect(decrypted.code).toBe(0);
    expect(decrypted.stdout.trimEnd().split('\n')).toHaveLength(5);
    for (const identifier of listSampleIdentifiers()) {
      expect(shown.stdout).not.toContain(identifier);
    }
  });

  it('shows an older version with --batch-version, and a quarantined batch by its copy', async () => {
    const v1 = await cli('batch', 'show', lab.batchId, '--batch-version', '1');
    expect(v1.code).toBe(0);
    expect(v1.stdout).toContain('\nversion      1 (current is 2)\n');
    expect(v1.stdout).toContain(`  output/${lab.parts[0].path}  (5 records, `);
    expect(v1.stdout).not.toContain('.v2/');

    const bad = await cli('batch', 'show', quarantined.batchId.slice(0, 16), '--feed', 'bad-feed');
    expect(bad.code).toBe(0);
    expect(bad.stdout).toContain('\nstatus       quarantined FORMAT_UNKNOWN\n');
    expect(bad.stdout).toContain(
      `\nquarantine:\n  quarantine/${quarantined.quarantine!.path}  ` +
        `(${quarantined.quarantine!.sizeBytes} bytes)\n`,
    );
    expect(bad.stdout).not.toContain('\nparts:');
  });

  it('prints the same facts as JSON, without the inbound blob name or etag', async () => {
    const shown = await cli('batch', 'show', adt.batchId, '--json');

    expect(shown.code).toBe(0);
    const parsed = JSON.parse(shown.stdout) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      feedId: 'adt-feed',
      batchId: adt.batchId,
      version: 1,
      currentVersion: 1,
      status: 'committed',
      format: adt.format,
      ingestDate: adt.ingestDate,
      source: { sizeBytes: adt.source.sizeBytes, sha256: adt.source.sha256.slice(0, 32) },
      counts: adt.counts,
      manifestPath: `manifests/feed=adt-feed/date=${adt.ingestDate}/batch=${adt.batchId}/manifest.json`,
      encryption: { encryptionKeyId: adt.encryption.encryptionKeyId, keyVersion: 1 },
      batchKeyState: 'active',
    });
    expect(parsed.parts).toEqual(
      adt.parts.map((part) => ({
        path: `output/${part.path}`,
        recordType: part.recordType,
        recordCount: part.recordCount,
        sizeBytes: part.sizeBytes,
      })),
    );
    expect((parsed.parts as unknown[]).length).toBeGreaterThan(0);
    expect(shown.stdout).not.toContain(adt.source.blobName);
    expect(shown.stdout).not.toContain(adt.source.etag);
  });

  it('says when the key is shredded, and fails with a code for an unknown batch or version', async () => {
    await shredBatchKey(env.app.storage, adt.batchId, 'test-operator');
    const shredded = await cli('batch', 'show', adt.batchId);
    expect(shredded.code).toBe(0);
    expect(shredded.stdout).toContain(
      '\nbatch key    shredded: none of its objects can be decrypted\n',
    );
    expect(shredded.stdout).not.toContain('decrypt one with');

    const unknown = await cli('batch', 'show', '0123456789ab');
    expect([unknown.code, unknown.stderr]).toEqual([
      1,
      'phi-ingest: BATCH_NOT_FOUND: No batch in the batches table has an id starting with the 12 ' +
        'digits given\n',
    ]);
    const noVersion = await cli('batch', 'show', lab.batchId, '--batch-version', '3');
    expect([noVersion.code, noVersion.stderr]).toEqual([
      1,
      "phi-ingest: CONFIG_INVALID: --batch-version must be a whole number from 1 to 2, the batch's versions\n",
    ]);
  });

  it('points decrypt of a manifest path at batch show', async () => {
    const refused = await cli(
      'decrypt',
      `manifests/feed=lab-feed/date=${lab.ingestDate}/batch=${lab.batchId}/manifest.json`,
    );
    expect([refused.code, refused.stdout, refused.stderr]).toEqual([
      1,
      '',
      'phi-ingest: PART_PATH_INVALID: A part path is <container>/<path ending in .enc>, with ' +
        'container one of output, rejects, archive, quarantine; ' +
        "phi-ingest batch show <batch id> lists a batch's parts\n",
    ]);
  });
});

describe('batch show of a file too large to read', () => {
  let env: TestEnvironment;
  let tooLarge: BatchManifest;

  beforeAll(async () => {
    env = await startTestEnvironment({ maxFileBytes: 1024 });
    const samples = writeSampleFiles(join(env.homeDir, 'samples'));
    await dropFiles(env.app.storage, 'big-feed', [samples.get('lab-feed/oru-results.hl7')!]);
    const report = await drain(env.app);
    tooLarge = (report.results[0] as { manifest: BatchManifest }).manifest;
    expect([tooLarge.status, tooLarge.reasonCode]).toEqual(['quarantined', 'FILE_TOO_LARGE']);
  });

  afterAll(async () => {
    await env?.close();
  });

  it('says the file was not read and the batch never had a key, instead of an empty hash and a missing key', async () => {
    const shown = await runCliInProcess(
      {
        PHI_INGEST_STORAGE_CONNECTION_STRING: env.azurite.connectionString,
        PHI_INGEST_HOME: env.homeDir,
      },
      ['batch', 'show', tooLarge.batchId.slice(0, 12)],
    );

    expect([shown.code, shown.stderr]).toEqual([0, '']);
    const lines = shown.stdout.split('\n');
    expect(lines).toContain('status       quarantined FILE_TOO_LARGE');
    expect(lines).toContain(
      `source       ${tooLarge.source.sizeBytes} bytes, not read (file too large)`,
    );
    expect(lines).toContain('batch key    no batch key (nothing was written)');
    expect(shown.stdout).not.toContain('SHA-256');
    expect(shown.stdout).not.toContain('missing');

    const json = await runCliInProcess(
      {
        PHI_INGEST_STORAGE_CONNECTION_STRING: env.azurite.connectionString,
        PHI_INGEST_HOME: env.homeDir,
      },
      ['batch', 'show', tooLarge.batchId, '--json'],
    );
    expect(JSON.parse(json.stdout)).toMatchObject({
      source: { sizeBytes: tooLarge.source.sizeBytes },
      batchKeyState: 'none',
    });
    expect((JSON.parse(json.stdout) as { source: object }).source).not.toHaveProperty('sha256');
  });
});
