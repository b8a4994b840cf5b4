import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { drain } from '../../pipeline/app.js';
import { lockBatch } from '../../pipeline/batch-lock.js';
import { PipelineError } from '../../pipeline/errors.js';
import { dropFiles } from '../../pipeline/drop.js';
import { verifyStorage } from '../../pipeline/verify.js';
import { writeSampleFiles } from '../helpers/samples.js';
import { listBlobs, startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

describe('one batch is written by one worker at a time', () => {
  let env: TestEnvironment;

  beforeEach(async () => {
    env = await startTestEnvironment({ queueVisibilityTimeoutSec: 5 });
  });

  afterEach(async () => {
    await env?.close();
  });

  it('commits a file announced twice once, and verify finds every part as its manifest says', async () => {
    const samples = writeSampleFiles(join(env.homeDir, 'samples'));
    const file = samples.get('adt-feed/adt-batch.hl7')!;
    // The second drop rewrites the same blob with the same bytes: two queue messages, one
    // version of the blob, one batch id. The orchestrator takes both messages at once.
    await dropFiles(env.app.storage, 'adt-feed', [file]);
    await dropFiles(env.app.storage, 'adt-feed', [file]);

    const report = await drain(env.app);

    const kinds = report.results.map((result) => result.kind).sort();
    expect(kinds).toEqual(['already-done', 'committed']);
    expect((await listBlobs(env, 'manifests')).size).toBe(1);
    expect((await listBlobs(env, 'locks')).size).toBe(0);
    const verified = await verifyStorage(env.app);
    expect(verified.findings).toEqual([]);
    expect(verified.manifests).toBe(1);
    expect((await env.app.storage.inboundQueue.getProperties()).approximateMessagesCount).toBe(0);
    expect(report.poisoned).toEqual([]);
  });

  it('refuses a second holder with the retryable BATCH_IN_PROGRESS until the first releases', async () => {
    const first = await lockBatch(env.app.storage, 'adt-feed', 'batch-a');
    const refused = await lockBatch(env.app.storage, 'adt-feed', 'batch-a').catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(PipelineError);
    expect(refused).toMatchObject({ code: 'BATCH_IN_PROGRESS', retryable: true });
    // Another batch is not held up.
    const other = await lockBatch(env.app.storage, 'adt-feed', 'batch-b');

    await first.release();
    const second = await lockBatch(env.app.storage, 'adt-feed', 'batch-a');
    await second.release();
    await other.release();
    // Released locks leave nothing behind.
    expect((await listBlobs(env, 'locks')).size).toBe(0);
  });
});
