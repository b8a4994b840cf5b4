import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createOrchestrator } from '../../pipeline/app.js';
import { dropFiles, type DroppedFile } from '../../pipeline/drop.js';
import {
  createPipelineMetrics,
  startMetricsServer,
  type MetricsServer,
} from '../../pipeline/metrics.js';
import { writeSampleFiles } from '../helpers/samples.js';
import { startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

/** Parses Prometheus text format into `name{labels}` -> value, labels sorted by name. */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) {
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) {
      throw new Error(`Not a Prometheus sample line: ${line}`);
    }
    const labels = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, name, value]) => `${name}="${value}"`)
      .sort()
      .join(',');
    values.set(labels ? `${match[1]}{${labels}}` : match[1], Number(match[3]));
  }
  return values;
}

describe('metrics', () => {
  let env: TestEnvironment;
  let server: MetricsServer;
  let ready = false;
  let dropped: DroppedFile[];
  let beforeRun: Map<string, number>;
  const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);

  beforeAll(async () => {
    env = await startTestEnvironment();
    const samples = writeSampleFiles(join(env.homeDir, 'samples'));
    const metrics = createPipelineMetrics(env.app.storage, env.app.pool);
    server = await startMetricsServer(metrics, env.app.storage, {
      port: 0,
      isReady: () => ready,
      log: env.app.log,
    });

    dropped = [
      ...(await dropFiles(env.app.storage, 'lab-feed', [samples.get('lab-feed/oru-results.hl7')!])),
      ...(await dropFiles(env.app.storage, 'adt-feed', [samples.get('adt-feed/adt-batch.hl7')!])),
      ...(await dropFiles(env.app.storage, 'bad-feed', [
        samples.get('bad-feed/corrupt.hl7')!,
        samples.get('bad-feed/unknown.bin')!,
      ])),
    ];
    beforeRun = parseMetrics(await (await get('/metrics')).text());
    await createOrchestrator(env.app, true, metrics.observer).run();
  });

  afterAll(async () => {
    await server?.close();
    await env?.close();
  });

  it('reports queue depth before the run and counts batches, messages and reasons after', async () => {
    expect(beforeRun.get('phi_ingest_queue_depth{queue="inbound"}')).toBe(4);
    expect(beforeRun.get('phi_ingest_queue_depth{queue="inbound-poison"}')).toBe(0);
    expect(
      beforeRun.get('phi_ingest_queue_oldest_message_age_seconds{queue="inbound"}'),
    ).toBeGreaterThanOrEqual(0);

    const response = await get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    const values = parseMetrics(text);

    expect(values.get('phi_ingest_queue_depth{queue="inbound"}')).toBe(0);
    expect(values.get('phi_ingest_queue_depth{queue="inbound-poison"}')).toBe(2);
    expect(values.get('phi_ingest_queue_oldest_message_age_seconds{queue="inbound"}')).toBe(0);
    expect(values.get('phi_ingest_batches_total{feed="lab-feed",status="committed"}')).toBe(1);
    expect(values.get('phi_ingest_batches_total{feed="adt-feed",status="committed"}')).toBe(1);
    expect(values.get('phi_ingest_batches_total{feed="bad-feed",status="quarantined"}')).toBe(2);
    expect(values.get('phi_ingest_messages_total{feed="lab-feed"}')).toBe(5);
    expect(values.get('phi_ingest_records_written_total{feed="lab-feed"}')).toBe(5);
    expect(
      values.get('phi_ingest_quarantined_total{feed="bad-feed",reason="FORMAT_UNKNOWN"}'),
    ).toBe(1);
    expect(
      values.get('phi_ingest_quarantined_total{feed="bad-feed",reason="HL7_BATCH_COUNT_MISMATCH"}'),
    ).toBe(1);
    expect(values.get('phi_ingest_poisoned_total{feed="bad-feed",reason="FORMAT_UNKNOWN"}')).toBe(
      1,
    );
    expect(values.get('phi_ingest_worker_pool_threads')).toBe(2);
    const utilization = values.get('phi_ingest_worker_pool_utilization')!;
    expect(utilization >= 0 && utilization <= 1).toBe(true);

    // Every committed or quarantined file went through prepare once; the good ones through commit.
    expect(values.get('phi_ingest_stage_duration_seconds_count{stage="prepare"}')).toBe(4);
    expect(values.get('phi_ingest_stage_duration_seconds_count{stage="download"}')).toBe(4);
    expect(values.get('phi_ingest_stage_duration_seconds_count{stage="commit"}')).toBe(2);

    // Labels carry feed ids and codes, never blob names.
    for (const file of dropped) {
      expect(text).not.toContain(file.blobName.split('/').pop()!.slice(0, 16));
    }
    const labelValues = [...text.matchAll(/="([^"]*)"/g)].map((match) => match[1]);
    expect(labelValues.every((value) => /^[A-Za-z0-9_.+\-]*$/.test(value))).toBe(true);
  });

  it('answers /healthz always and /readyz only while the orchestrator is receiving', async () => {
    expect((await get('/healthz')).status).toBe(200);
    ready = false;
    expect((await get('/readyz')).status).toBe(503);
    ready = true;
    expect((await get('/readyz')).status).toBe(200);
    expect((await get('/nothing')).status).toBe(404);
  });
});
