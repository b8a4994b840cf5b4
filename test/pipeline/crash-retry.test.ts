import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { drain } from '../../pipeline/app.js';
import { decryptStored } from '../../pipeline/read-part.js';
import { dropFiles } from '../../pipeline/drop.js';
import type { BatchManifest } from '../../pipeline/manifest.js';
import { verifyStorage } from '../../pipeline/verify.js';
import { writeSampleFiles } from '../helpers/samples.js';
import { listBlobs, startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

const CLI = fileURLToPath(new URL('../../bin/phi-ingest.js', import.meta.url));

/** Runs `phi-ingest run --until-drained` in its own process, crashing at a failpoint. */
function runOrchestratorUntilCrash(
  env: TestEnvironment,
  failpoint: string,
): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, [CLI, 'run', '--until-drained'], {
    env: {
      PATH: process.env.PATH,
      PHI_INGEST_STORAGE_CONNECTION_STRING: env.azurite.connectionString,
      PHI_INGEST_HOME: env.homeDir,
      PHI_INGEST_TEST_FAILPOINT: failpoint,
      PHI_INGEST_QUEUE_VISIBILITY_TIMEOUT_SEC: '2',
      PHI_INGEST_MAX_THREADS: '1',
      PHI_INGEST_LOG_LEVEL: 'silent',
    },
    stdio: 'ignore',
  });
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
}

describe('a crash, then a retry, gives the same result as no crash', () => {
  let env: TestEnvironment;

  beforeEach(async () => {
    env = await startTestEnvironment({ queueVisibilityTimeoutSec: 2 });
    const samples = writeSampleFiles(join(env.homeDir, 'samples'));
    await dropFiles(env.app.storage, 'adt-feed', [samples.get('adt-feed/adt-batch.hl7')!]);
  });

  afterEach(async () => {
    await env?.close();
  });

  it('rewrites the same paths and commits one manifest after a kill between outputs and commit', async () => {
    expect(await runOrchestratorUntilCrash(env, 'after-outputs-written')).toBe('SIGKILL');
    const outputBefore = await listBlobs(env, 'output');
    expect(outputBefore.size).toBeGreaterThan(0);
    expect((await listBlobs(env, 'manifests')).size).toBe(0);
    expect((await env.app.storage.inboundQueue.getProperties()).approximateMessagesCount).toBe(1);

    const report = await drain(env.app);
    expect(report.results.map((result) => result.kind)).toEqual(['committed']);
    const manifest = (report.results[0] as { manifest: BatchManifest }).manifest;
    // The killed worker's batch lock outlives it by up to 15 s, longer than this test's 2 s
    // visibility timeout: the second attempt finds the batch locked and waits, the third writes.
    expect(manifest.attempt).toBe(3);

    const outputAfter = await listBlobs(env, 'output');
    expect([...outputAfter.keys()]).toEqual([...outputBefore.keys()]);
    expect((await listBlobs(env, 'manifests')).size).toBe(1);

    const indexes: number[] = [];
    for (const part of manifest.parts) {
      const text = await decryptStored(env.app, `output/${part.path}`);
      for (const line of text.trimEnd().split('\n')) {
        indexes.push((JSON.parse(line) as { messageIndex: number }).messageIndex);
      }
    }
    expect(indexes.length).toBe(manifest.counts.messagesIn);
    expect(new Set(indexes).size).toBe(indexes.length);
    expect((await env.app.storage.inboundQueue.getProperties()).approximateMessagesCount).toBe(0);
  });

  it('finishes the commit from the chain after a kill between chaining the manifest and its rows', async () => {
    expect(await runOrchestratorUntilCrash(env, 'after-manifest-chained')).toBe('SIGKILL');
    const outputBefore = await listBlobs(env, 'output');
    expect(outputBefore.size).toBeGreaterThan(0);
    expect((await listBlobs(env, 'inbound')).size).toBe(1);

    const report = await drain(env.app);
    expect(report.results.map((result) => result.kind)).toEqual(['committed']);
    // The chained manifest stands: it is the first attempt's, with that attempt's parts.
    const manifest = (report.results[0] as { manifest: BatchManifest }).manifest;
    expect(manifest.attempt).toBe(1);
    expect(await listBlobs(env, 'output')).toEqual(outputBefore);
    expect((await listBlobs(env, 'manifests')).size).toBe(1);
    expect((await verifyStorage(env.app)).findings).toEqual([]);
    expect((await listBlobs(env, 'inbound')).size).toBe(0);
    expect((await env.app.storage.inboundQueue.getProperties()).approximateMessagesCount).toBe(0);
  });

  it('acknowledges without reprocessing after a kill between commit and queue delete', async () => {
    expect(await runOrchestratorUntilCrash(env, 'after-manifest-committed')).toBe('SIGKILL');
    const manifestsBefore = await listBlobs(env, 'manifests');
    const outputBefore = await listBlobs(env, 'output');
    expect(manifestsBefore.size).toBe(1);

    const report = await drain(env.app);
    expect(report.results.map((result) => result.kind)).toEqual(['already-done']);
    // Same blobs, untouched: the etags did not change.
    expect(await listBlobs(env, 'manifests')).toEqual(manifestsBefore);
    expect(await listBlobs(env, 'output')).toEqual(outputBefore);
    expect((await listBlobs(env, 'inbound')).size).toBe(0);
    expect((await env.app.storage.inboundQueue.getProperties()).approximateMessagesCount).toBe(0);
  });
});
