import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { drain } from '../../pipeline/app.js';
import { dropFiles } from '../../pipeline/drop.js';
import {
  formatPipelineStatus,
  getPipelineStatus,
  type PipelineStatus,
} from '../../pipeline/status.js';
import { listSampleIdentifiers } from '../../samples/generate.js';
import { writeSampleFiles } from '../helpers/samples.js';
import { startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

const CLI = fileURLToPath(new URL('../../bin/phi-ingest.js', import.meta.url));

function cliStatus(env: TestEnvironment): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [CLI, 'status', '--json'], {
    env: {
      PATH: process.env.PATH,
      PHI_INGEST_STORAGE_CONNECTION_STRING: env.azurite.connectionString,
      // A home with no key file: status must not need one.
      PHI_INGEST_HOME: join(env.homeDir, 'keyless-home'),
      PHI_INGEST_LOG_LEVEL: 'silent',
    },
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout })));
}

describe('status', () => {
  let env: TestEnvironment;
  let before: PipelineStatus;

  beforeAll(async () => {
    env = await startTestEnvironment();
    const samples = writeSampleFiles(join(env.homeDir, 'samples'));
    // Three good observations and two bad lines: two rejects with different reasons.
    const observations = readFileSync(samples.get('fhir-feed/observations.ndjson')!, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .slice(0, 3);
    const mixed = join(env.homeDir, 'mixed.ndjson');
    writeFileSync(mixed, [...observations, '{"resourceType": ', '[1, 2]', ''].join('\n'));

    await dropFiles(env.app.storage, 'lab-feed', [samples.get('lab-feed/oru-results.hl7')!]);
    await dropFiles(env.app.storage, 'fhir-feed', [mixed]);
    await dropFiles(env.app.storage, 'bad-feed', [
      samples.get('bad-feed/corrupt.hl7')!,
      samples.get('bad-feed/unknown.bin')!,
    ]);
    // Pretend it is 90 s later, so the oldest queue message has a known least age.
    before = await getPipelineStatus(env.app.storage, { now: new Date(Date.now() + 90_000) });
    await drain(env.app);
  });

  afterAll(async () => {
    await env?.close();
  });

  it('shows the backlog and the age of the oldest message before processing', () => {
    expect(before.queues).toEqual({ inbound: 4, 'inbound-poison': 0 });
    expect(before.queueDetails[0].oldestMessageAgeSec).toBeGreaterThanOrEqual(90);
    expect(before.poison).toMatchObject({
      approximateDepth: 0,
      oldestMessageAgeSec: null,
      byReason: {},
    });
    expect(before.lastHour.batches).toBe(0);
  });

  it('reports, as JSON and without a key, what was dropped and processed', async () => {
    const result = await cliStatus(env);
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout) as PipelineStatus;

    expect(status.queues).toEqual({ inbound: 0, 'inbound-poison': 2 });
    expect(status.queueDetails[0]).toEqual({
      name: 'inbound',
      approximateDepth: 0,
      oldestMessageAgeSec: null,
    });
    expect(status.poison).toMatchObject({
      approximateDepth: 2,
      byReason: { FORMAT_UNKNOWN: 1, HL7_BATCH_COUNT_MISMATCH: 1 },
      sampledMessages: 2,
    });
    expect(status.poison.oldestMessageAgeSec).toEqual(expect.any(Number));
    const expected = {
      batches: 4,
      committed: 2,
      quarantined: 2,
      reprocessed: 0,
      messagesIn: 5 + 5,
      written: 5 + 3,
      rejected: 2,
      rejectsByReason: { NDJSON_INVALID_JSON: 1, NDJSON_NOT_A_RESOURCE: 1 },
      quarantinedByReason: { FORMAT_UNKNOWN: 1, HL7_BATCH_COUNT_MISMATCH: 1 },
    };
    expect(status.lastHour).toMatchObject({ ...expected, windowSec: 3600 });
    expect(status.lastHour.messagesPerSecond).toBe(Math.round((10 / 3600) * 1000) / 1000);
    expect(status.lastDay).toMatchObject({ ...expected, windowSec: 86400 });
    expect(status.batches.map((row) => row.partitionKey).sort()).toEqual([
      'bad-feed',
      'bad-feed',
      'fhir-feed',
      'lab-feed',
    ]);

    for (const identifier of listSampleIdentifiers()) {
      expect(result.stdout).not.toContain(identifier);
    }
    expect(result.stdout).not.toContain('.hl7');
  });

  it('leaves batches older than the window out of the last hour', async () => {
    const later = await getPipelineStatus(env.app.storage, {
      now: new Date(Date.now() + 2 * 3600 * 1000),
    });
    expect(later.lastHour.batches).toBe(0);
    expect(later.lastDay.batches).toBe(4);
  });

  it('lines each count of the window table up under its heading', async () => {
    const status = await getPipelineStatus(env.app.storage);
    const text = formatPipelineStatus(status);
    const [heading, hour, day] = text
      .split('\n')
      .filter((line) => /^(window|last hour|last day) /.test(line));
    const starts = (line: string): number[] =>
      [...line.matchAll(/\S+/g)].map((match) => match.index);
    // `last hour` and `last day` are two words, so each row's first two starts are its name.
    expect(starts(hour).slice(2)).toEqual(starts(heading).slice(1));
    expect(starts(day).slice(2)).toEqual(starts(heading).slice(1));
    expect(hour.trim().split(/\s+/).slice(2, 5)).toEqual(['4', '2', '0']);
    expect(day.trim().split(/\s+/).slice(5, 8)).toEqual([
      String(status.lastDay.messagesIn),
      String(status.lastDay.written),
      String(status.lastDay.rejected),
    ]);
  });
});
