import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startPrivateAzurite, type AzuriteHandle } from '../../pipeline/azurite.js';
import { runCliInProcess, type CliResult } from '../helpers/cli.js';
import { writeSampleFiles } from '../helpers/samples.js';

describe('keys, shred, audit and verify from the command line', () => {
  let azurite: AzuriteHandle;
  let homeDir: string;

  // In-process, through the same `main` the bin script calls: a subprocess per command would
  // cost seconds of tsx start-up each.
  const cli = (...args: string[]): Promise<CliResult> =>
    runCliInProcess(
      {
        PHI_INGEST_STORAGE_CONNECTION_STRING: azurite.connectionString,
        PHI_INGEST_HOME: homeDir,
        PHI_INGEST_MAX_THREADS: '1',
        PHI_INGEST_POLL_INTERVAL_MS: '100',
        PHI_INGEST_OPERATOR: 'test-operator',
      },
      args,
    );

  beforeAll(async () => {
    azurite = await startPrivateAzurite();
    homeDir = mkdtempSync(join(tmpdir(), 'phi-ingest-trail-'));
    writeSampleFiles(join(homeDir, 'samples'));
  });

  afterAll(async () => {
    await azurite?.stop();
    rmSync(homeDir, { recursive: true, force: true });
  });

  it('creates keys, ingests, shreds, lists the trail and verifies it', async () => {
    const init = await cli('keys', 'init');
    expect(init.stderr).toBe('');
    expect(init.stdout).toMatch(
      /^key file created \(mode 600\): KEK local-[0-9a-f]{8} version 1, signing key [0-9a-f]{16}\n$/,
    );
    expect(statSync(join(homeDir, 'keys.json')).mode & 0o777).toBe(0o600);

    const ingest = await cli('ingest', '--feed', 'lab-feed', join(homeDir, 'samples', 'lab-feed'));
    expect(ingest.code).toBe(0);
    const partPath = /output\/feed=lab-feed\/\S+part-00000\.ndjson\.gz\.enc/.exec(
      ingest.stdout,
    )![0];
    const batchId = /batch=([0-9a-f]{32})/.exec(partPath)![1];

    const decrypted = await cli('decrypt', partPath);
    expect(decrypted.code).toBe(0);
    expect(decrypted.stdout.trimEnd().split('\n')).toHaveLength(5);

    const shred = await cli('batch', 'shred', batchId, '--yes');
    expect(shred.stdout).toBe(
      `batch ${batchId} shredded: its key is destroyed and its data can no longer be read\n`,
    );
    const refused = await cli('decrypt', partPath);
    expect([refused.code, refused.stdout, refused.stderr]).toEqual([
      1,
      '',
      'phi-ingest: BATCH_KEY_SHREDDED: The batch was shredded; its data cannot be read\n',
    ]);

    const audit = await cli('audit', '--json', '--feed', 'lab-feed');
    const events = audit.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(
      events.map((event) => [
        event.action,
        event.outcome,
        event.errorCode ?? '',
        (event.actor as { name: string }).name,
      ]),
    ).toEqual([
      ['ingest', 'succeeded', '', 'test-operator'],
      ['decrypt', 'started', '', 'test-operator'],
      ['decrypt', 'succeeded', '', 'test-operator'],
      ['decrypt', 'started', '', 'test-operator'],
      ['decrypt', 'failed', 'BATCH_KEY_SHREDDED', 'test-operator'],
    ]);
    expect(events[2]).toMatchObject({
      batchId,
      target: partPath,
      chain: { name: 'audit', seq: 4 },
    });
    const all = await cli('audit');
    expect(
      all.stdout.split('\n').filter((line) => / batch-shred +succeeded/.test(line)),
    ).toHaveLength(1);

    const clean = await cli('verify');
    expect([clean.code, clean.stdout.trimEnd().split('\n').at(-1)]).toEqual([
      0,
      'OK: 2 chains, 1 manifest, 2 parts (2 of a shredded batch: hashed only), 7 audit events checked; 0 problems',
    ]);

    const blobService = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const manifestPath = `feed=lab-feed/date=${/date=([0-9-]{10})/.exec(partPath)![1]}/batch=${batchId}/manifest.json`;
    await blobService.getContainerClient('manifests').getBlobClient(manifestPath).delete();
    const tampered = await cli('verify');
    expect(tampered.code).toBe(1);
    expect(tampered.stdout.split('\n')[0]).toBe(
      `FAIL MANIFEST_MISSING chain=manifests.lab-feed seq=1 batch=${batchId} manifests/${manifestPath}: The manifest blob was deleted`,
    );
    expect(tampered.stderr).toBe('phi-ingest: VERIFY_FAILED: 1 problem found\n');
  });

  it('refuses a key file other users can read', async () => {
    chmodSync(join(homeDir, 'keys.json'), 0o644);
    const rotate = await cli('keys', 'rotate');
    expect([rotate.code, rotate.stderr]).toEqual([
      1,
      'phi-ingest: KEY_FILE_PERMISSIONS: Key file permissions are 644; they must be 600 (chmod 600 the key file)\n',
    ]);
    chmodSync(join(homeDir, 'keys.json'), 0o600);
    const again = await cli('keys', 'init');
    expect(again.stderr).toBe(
      'phi-ingest: KEY_FILE_EXISTS: A key file already exists; it is never replaced\n',
    );
  });
});
