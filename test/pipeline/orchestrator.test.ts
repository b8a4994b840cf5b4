import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { drain } from '../../pipeline/app.js';
import { dropFiles } from '../../pipeline/drop.js';
import { writeSampleFiles } from '../helpers/samples.js';
import { startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

describe('Orchestrator with untilDrained', () => {
  let env: TestEnvironment;
  let samples: Map<string, string>;

  beforeAll(async () => {
    env = await startTestEnvironment();
    samples = writeSampleFiles(join(env.homeDir, 'samples'));
  });

  afterAll(async () => {
    await env?.close();
  });

  it('says once that it waits for a queue message another worker holds, then takes it', async () => {
    await dropFiles(env.app.storage, 'held-feed', [samples.get('lab-feed/oru-results.hl7')!]);
    // A worker that claimed the message and was killed: it stays invisible for its timeout.
    const claimed = await env.app.storage.inboundQueue.receiveMessages({
      numberOfMessages: 1,
      visibilityTimeout: 2,
    });
    expect(claimed.receivedMessageItems).toHaveLength(1);

    const report = await drain(env.app);

    expect(
      report.results.map((result) => [
        result.kind,
        (result as { manifest: { counts: { written: number } } }).manifest.counts.written,
      ]),
    ).toEqual([['committed', 5]]);
    const waiting = env
      .logText()
      .split('\n')
      .filter((line) => line.includes('"msg":"Waiting for queue messages held by another worker"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toMatchObject({ level: 30, queueName: 'inbound', messageCount: 1 });
  });

  it('does not blame another worker for a queue message it put back for a retry itself', async () => {
    const before = env.logText().length;
    await dropFiles(env.app.storage, 'retry-feed', [samples.get('adt-feed/adt-batch.hl7')!]);
    // The first attempt fails with a retryable error; the retry, about 2 s later, succeeds.
    process.env.PHI_INGEST_TEST_FAILPOINT = 'after-outputs-written:throw';
    try {
      const drained = drain(env.app);
      await waitFor(() => env.logText().slice(before).includes('"msg":"Batch will be retried"'));
      delete process.env.PHI_INGEST_TEST_FAILPOINT;
      const report = await drained;
      expect(report.retried).toBe(1);
      expect(report.results.map((result) => result.kind)).toEqual(['committed']);
    } finally {
      delete process.env.PHI_INGEST_TEST_FAILPOINT;
    }

    expect(env.logText().slice(before)).not.toContain('Waiting for queue messages');
  });

  it('does not say it waits when the queue is empty', async () => {
    const before = env.logText().length;

    await drain(env.app);

    expect(env.logText().slice(before)).not.toContain('Waiting for queue messages');
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error('Condition not met in time');
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
