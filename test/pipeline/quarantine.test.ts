import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createOrchestrator, drain } from '../../pipeline/app.js';
import { decryptStored } from '../../pipeline/read-part.js';
import { dropFiles } from '../../pipeline/drop.js';
import type { BatchManifest } from '../../pipeline/manifest.js';
import type { PoisonMessage, RunReport } from '../../pipeline/orchestrator.js';
import { writeSampleFiles } from '../helpers/samples.js';
import { startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

async function poisonMessages(env: TestEnvironment): Promise<PoisonMessage[]> {
  const peeked = await env.app.storage.poisonQueue.peekMessages({ numberOfMessages: 32 });
  return peeked.peekedMessageItems.map(
    (item) => JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8')) as PoisonMessage,
  );
}

describe('bad input ends in quarantine and the poison queue, with reason codes', () => {
  let env: TestEnvironment;
  let report: RunReport;

  beforeAll(async () => {
    env = await startTestEnvironment();
    const samples = writeSampleFiles(join(env.homeDir, 'samples'));
    const empty = join(env.homeDir, 'empty.hl7');
    writeFileSync(empty, '');
    await dropFiles(env.app.storage, 'bad-feed', [
      samples.get('bad-feed/corrupt.hl7')!,
      samples.get('bad-feed/unknown.bin')!,
      empty,
    ]);
    await env.app.storage.inboundQueue.sendMessage('MSH|^~\\&|not a queue message|PID|||DOE^JANE');
    // A queue message for a blob nobody uploaded.
    await env.app.storage.inboundQueue.sendMessage(
      Buffer.from(
        JSON.stringify({
          type: 'phi-ingest.file-dropped',
          version: 1,
          feedId: 'bad-feed',
          blobName: 'bad-feed/missing.hl7',
        }),
      ).toString('base64'),
    );
    await dropFiles(env.app.storage, 'lab-feed', [samples.get('lab-feed/oru-results.hl7')!]);
    report = await drain(env.app);
  });

  afterAll(async () => {
    await env?.close();
  });

  const quarantined = (): BatchManifest[] =>
    report.results.flatMap((result) => (result.kind === 'quarantined' ? [result.manifest] : []));

  it('quarantines each bad file with its reason code and keeps processing good ones', () => {
    expect(
      quarantined()
        .map((manifest) => manifest.reasonCode)
        .sort(),
    ).toEqual(['FILE_EMPTY', 'FORMAT_UNKNOWN', 'HL7_BATCH_COUNT_MISMATCH']);
    const committed = report.results.filter((result) => result.kind === 'committed');
    expect(committed).toHaveLength(1);
  });

  it('moves every bad queue message to the poison queue with a reason and ids only', async () => {
    const poison = await poisonMessages(env);
    expect(poison.map((message) => message.reasonCode).sort()).toEqual([
      'BLOB_NOT_FOUND',
      'FILE_EMPTY',
      'FORMAT_UNKNOWN',
      'HL7_BATCH_COUNT_MISMATCH',
      'QUEUE_MESSAGE_INVALID',
    ]);
    expect(JSON.stringify(poison)).not.toContain('DOE');
    expect((await env.app.storage.inboundQueue.getProperties()).approximateMessagesCount).toBe(0);
  });

  it('stores quarantined files encrypted, and they decrypt back to the input', async () => {
    const corrupt = quarantined().find(
      (manifest) => manifest.reasonCode === 'HL7_BATCH_COUNT_MISMATCH',
    )!;
    expect(corrupt.quarantine?.container).toBe('quarantine');
    const sealed = await env.app.storage.quarantine
      .getBlobClient(corrupt.quarantine!.path)
      .downloadToBuffer();
    expect(sealed.subarray(0, 4).toString('latin1')).toBe('PHIE');
    expect(sealed.toString('latin1')).not.toContain('MSH|');
    const plain = await decryptStored(env.app, `quarantine/${corrupt.quarantine!.path}`);
    expect(plain.startsWith('FHS|') || plain.startsWith('MSH|') || plain.startsWith('BHS|')).toBe(
      true,
    );
  });

  it('poisons a file after the configured number of failed attempts', async () => {
    const samples = writeSampleFiles(join(env.homeDir, 'samples-2'));
    await dropFiles(env.app.storage, 'retry-feed', [samples.get('lab-feed/oru-results.hl7')!]);
    const config = { ...env.app.config, maxAttempts: 2 };
    // Every attempt fails after writing its outputs, as a storage outage at commit time would.
    process.env.PHI_INGEST_TEST_FAILPOINT = 'after-outputs-written:throw';
    let result: RunReport;
    try {
      result = await createOrchestrator({ ...env.app, config }, true).run();
    } finally {
      delete process.env.PHI_INGEST_TEST_FAILPOINT;
    }

    expect(result.retried).toBe(1);
    expect(result.results).toHaveLength(1);
    const manifest = (result.results[0] as { manifest: BatchManifest }).manifest;
    expect(manifest).toMatchObject({
      status: 'quarantined',
      reasonCode: 'MAX_ATTEMPTS_EXCEEDED',
      attempt: 2,
    });
    const poison = await poisonMessages(env);
    expect(poison.filter((message) => message.reasonCode === 'MAX_ATTEMPTS_EXCEEDED')).toHaveLength(
      1,
    );
  });

  it('accepts a batch trailer count mismatch when the feed says so, and records it', async () => {
    writeFileSync(
      env.app.config.feedsFile,
      JSON.stringify({ feeds: { 'legacy-lab': { acceptBatchCountMismatch: true } } }),
    );
    const samples = writeSampleFiles(join(env.homeDir, 'samples-3'));
    await dropFiles(env.app.storage, 'legacy-lab', [samples.get('bad-feed/corrupt.hl7')!]);
    const result = await createOrchestrator(env.app, true).run();

    expect(result.results.map((item) => item.kind)).toEqual(['committed']);
    const manifest = (result.results[0] as { manifest: BatchManifest }).manifest;
    expect(manifest.batchCountMismatch).toMatchObject({
      declared: expect.any(Number),
      found: expect.any(Number),
    });
    expect(manifest.batchCountMismatch!.declared).not.toBe(manifest.batchCountMismatch!.found);
    expect(manifest.counts.messagesIn).toBe(manifest.batchCountMismatch!.found);
  });

  it('quarantines absurdly nested JSON at once instead of retrying a crash', async () => {
    const deep = join(env.homeDir, 'deep.json');
    writeFileSync(
      deep,
      // Extensions nest legally, so the walk goes down them (an element R4 does not define
      // would be removed without being walked).
      `{"resourceType":"Patient","extension":${'[{"url":"u","extension":'.repeat(100_000)}[]${'}]'.repeat(100_000)}}`,
    );
    await dropFiles(env.app.storage, 'deep-feed', [deep]);
    const result = await createOrchestrator(env.app, true).run();

    expect(result.retried).toBe(0);
    const manifest = (result.results[0] as { manifest: BatchManifest }).manifest;
    expect(manifest).toMatchObject({
      status: 'quarantined',
      reasonCode: 'TRANSFORM_EXCEPTION',
      attempt: 1,
    });
  });

  it('skips a file whose identical bytes were ingested already, and says so', async () => {
    const samples = writeSampleFiles(join(env.homeDir, 'samples-4'));
    const file = samples.get('lab-feed/oru-results.hl7')!;
    await dropFiles(env.app.storage, 'dup-feed', [file, file]);
    const first = await createOrchestrator(env.app, true).run();
    expect(first.results.map((item) => item.kind)).toEqual(['committed']);

    await dropFiles(env.app.storage, 'dup-feed', [file]);
    const second = await createOrchestrator(env.app, true).run();
    const committed = (first.results[0] as { manifest: BatchManifest }).manifest;
    expect(second.results).toEqual([
      { kind: 'already-done', batchId: committed.batchId, status: 'duplicate' },
    ]);
    const rows: string[] = [];
    for await (const row of env.app.storage.batchesTable.listEntities({
      queryOptions: { filter: "PartitionKey eq 'dup-feed'" },
    })) {
      rows.push(row.rowKey!);
    }
    expect(rows).toEqual([committed.batchId]);
  });
});
