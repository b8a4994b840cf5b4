import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { drain } from '../../pipeline/app.js';
import { dropFiles } from '../../pipeline/drop.js';
import type { BatchManifest } from '../../pipeline/manifest.js';
import { assertChainable } from '../../pipeline/signed-chain.js';
import { verifyStorage } from '../../pipeline/verify.js';
import { writeSampleFiles } from '../helpers/samples.js';
import { listBlobs, startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

describe('a batch whose manifest cannot be committed', () => {
  let env: TestEnvironment | undefined;

  afterEach(async () => {
    delete process.env.PHI_INGEST_TEST_FAILPOINT;
    await env?.close();
  });

  it('leaves no parts, rejects or archive behind, and is quarantined with a reason', async () => {
    env = await startTestEnvironment({ maxAttempts: 1, queueVisibilityTimeoutSec: 2 });
    const samples = writeSampleFiles(join(env.homeDir, 'samples'));
    await dropFiles(env.app.storage, 'adt-feed', [samples.get('adt-feed/adt-batch.hl7')!]);
    // Fails after every part is stored and before the manifest is chained, as a manifest too
    // large to chain (CHAIN_RECORD_TOO_LARGE, thousands of parts) does.
    process.env.PHI_INGEST_TEST_FAILPOINT = 'before-manifest-commit:throw';

    const report = await drain(env.app);

    expect(report.results.map((result) => result.kind)).toEqual(['quarantined']);
    const manifest = (report.results[0] as { manifest: BatchManifest }).manifest;
    expect(manifest.reasonCode).toBe('MAX_ATTEMPTS_EXCEEDED');
    expect(manifest.parts).toEqual([]);
    expect((await listBlobs(env, 'output')).size).toBe(0);
    expect((await listBlobs(env, 'rejects')).size).toBe(0);
    expect((await listBlobs(env, 'archive')).size).toBe(0);
    expect([...(await listBlobs(env, 'quarantine')).keys()]).toEqual([manifest.quarantine?.path]);
    const verified = await verifyStorage(env.app);
    expect(verified.findings).toEqual([]);
  });
});

describe('assertChainable', () => {
  it('refuses, before anything is written, a record the chain could not hold', () => {
    expect(() => assertChainable({ parts: 'x'.repeat(897_000) })).toThrow(
      expect.objectContaining({ code: 'CHAIN_RECORD_TOO_LARGE' }),
    );
    expect(() => assertChainable({ parts: 'x'.repeat(880_000) })).not.toThrow();
  });
});
