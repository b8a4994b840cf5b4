import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { drain } from '../../pipeline/app.js';
import { listAuditEvents } from '../../pipeline/audit.js';
import { resolveBatchId } from '../../pipeline/batch-id.js';
import { getBatchKeyRow } from '../../pipeline/batch-keys.js';
import { dropFiles } from '../../pipeline/drop.js';
import { getBatchRow, type BatchRow } from '../../pipeline/manifest.js';
import { runCliInProcess, type CliResult } from '../helpers/cli.js';
import { writeSampleFiles } from '../helpers/samples.js';
import { startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

// Two ids that share their first 12 digits, as two real batches would once in 2^48 pairs.
const TWIN_A = 'abcdef012345' + '0'.repeat(19) + '1';
const TWIN_B = 'abcdef012345' + '1'.repeat(19) + '2';

describe('batch ids as the CLI prints them', () => {
  let env: TestEnvironment;
  let labBatchId: string;

  const cli = (...args: string[]): Promise<CliResult> =>
    runCliInProcess(
      {
        PHI_INGEST_STORAGE_CONNECTION_STRING: env.azurite.connectionString,
        PHI_INGEST_HOME: env.homeDir,
        PHI_INGEST_MAX_THREADS: '1',
        PHI_INGEST_OPERATOR: 'test-operator',
      },
      args,
    );

  beforeAll(async () => {
    env = await startTestEnvironment();
    const samples = writeSampleFiles(join(env.homeDir, 'samples'));
    await dropFiles(env.app.storage, 'lab-feed', [samples.get('lab-feed/oru-results.hl7')!]);
    await dropFiles(env.app.storage, 'adt-feed', [samples.get('adt-feed/adt-batch.hl7')!]);
    await drain(env.app);
    for await (const row of env.app.storage.batchesTable.listEntities<BatchRow>()) {
      if (row.partitionKey === 'lab-feed') {
        labBatchId = row.rowKey;
      }
    }
    const labRow = (await getBatchRow(env.app.storage, 'lab-feed', labBatchId))!;
    for (const rowKey of [TWIN_A, TWIN_B]) {
      const twin: BatchRow = { ...labRow, partitionKey: 'twin-feed', rowKey };
      await env.app.storage.batchesTable.createEntity(twin);
    }
  });

  afterAll(async () => {
    await env?.close();
  });

  it('resolves the 12 digits status prints to the full batch id', async () => {
    const status = await cli('status');
    expect(status.code).toBe(0);
    const short = /\blab-feed +([0-9a-f]+) /.exec(status.stdout)?.[1];
    expect(short).toBe(labBatchId.slice(0, 12));

    const options = { optionName: '--batch' };
    expect(await resolveBatchId(env.app.storage, short!, options)).toBe(labBatchId);
    expect(await resolveBatchId(env.app.storage, short!.toUpperCase(), options)).toBe(labBatchId);
    expect(await resolveBatchId(env.app.storage, labBatchId.slice(0, 31), options)).toBe(
      labBatchId,
    );
    expect(await resolveBatchId(env.app.storage, short!, { ...options, feedId: 'lab-feed' })).toBe(
      labBatchId,
    );
    // A full id is taken as given: each command answers for an id without a row itself.
    expect(await resolveBatchId(env.app.storage, '0'.repeat(32), options)).toBe('0'.repeat(32));
  });

  it('refuses an id shorter than the printed 12 digits, longer than 32, or not hex', async () => {
    const options = { optionName: '--batch' };
    for (const text of [labBatchId.slice(0, 11), 'z'.repeat(12), '']) {
      await expect(resolveBatchId(env.app.storage, text, options)).rejects.toMatchObject({
        code: 'BATCH_ID_INVALID',
        message: '--batch takes a batch id: its 32 hex digits, or at least the first 12',
      });
    }
    await expect(resolveBatchId(env.app.storage, `${labBatchId}0`, options)).rejects.toMatchObject({
      code: 'BATCH_ID_INVALID',
      message: '--batch takes a batch id: at most 32 hex digits',
    });
  });

  it('says how many batches an ambiguous prefix matches, and names none', async () => {
    const options = { optionName: '--batch' };
    await expect(
      resolveBatchId(env.app.storage, TWIN_A.slice(0, 12), options),
    ).rejects.toMatchObject({
      code: 'BATCH_ID_AMBIGUOUS',
      message: '2 batches have ids starting with the 12 digits given; give more digits',
    });
    expect(await resolveBatchId(env.app.storage, TWIN_A.slice(0, 13), options)).toBe(TWIN_A);
    expect(await resolveBatchId(env.app.storage, TWIN_B.slice(0, 13), options)).toBe(TWIN_B);

    await expect(resolveBatchId(env.app.storage, 'fedcba987654', options)).rejects.toMatchObject({
      code: 'BATCH_NOT_FOUND',
      message: 'No batch in the batches table has an id starting with the 12 digits given',
    });
    await expect(
      resolveBatchId(env.app.storage, labBatchId.slice(0, 12), {
        ...options,
        feedId: 'adt-feed',
      }),
    ).rejects.toMatchObject({
      code: 'BATCH_NOT_FOUND',
      message:
        'No batch of feed adt-feed in the batches table has an id starting with the 12 digits given',
    });

    const refused = await cli('reprocess', '--batch', TWIN_A.slice(0, 12), '--dry-run');
    expect([refused.code, refused.stdout, refused.stderr]).toEqual([
      1,
      '',
      'phi-ingest: BATCH_ID_AMBIGUOUS: 2 batches have ids starting with the 12 digits given; ' +
        'give more digits\n',
    ]);
  });

  it('takes the printed prefix in reprocess --batch, verify --batch and batch shred', async () => {
    const short = labBatchId.slice(0, 12);

    const plan = await cli('reprocess', '--batch', short, '--dry-run');
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(
      new RegExp(`^lab-feed  ${labBatchId}  \\S+  v1 -> v2  archive`, 'm'),
    );
    expect(plan.stdout).toContain('would reprocess 1 batch,');
    // --feed narrows the lookup of --batch; it is no second selection.
    const inFeed = await cli('reprocess', '--batch', short, '--feed', 'lab-feed', '--dry-run');
    expect([inFeed.code, inFeed.stderr]).toEqual([0, '']);
    expect(inFeed.stdout).toMatch(new RegExp(`^lab-feed  ${labBatchId}  `, 'm'));

    const verified = await cli('verify', '--batch', short);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    const verifyEvent = (await listAuditEvents(env.app.storage)).at(-1)!;
    expect([verifyEvent.action, verifyEvent.outcome, verifyEvent.batchId]).toEqual([
      'verify',
      'succeeded',
      labBatchId,
    ]);

    const shred = await cli('batch', 'shred', short, '--yes');
    expect([shred.code, shred.stdout]).toEqual([
      0,
      `batch ${labBatchId} shredded: its key is destroyed and its data can no longer be read\n`,
    ]);
    expect((await getBatchKeyRow(env.app.storage, labBatchId))?.state).toBe('shredded');
    const shredEvent = (await listAuditEvents(env.app.storage)).at(-1)!;
    expect([shredEvent.action, shredEvent.batchId]).toEqual(['batch-shred', labBatchId]);
  });
});
