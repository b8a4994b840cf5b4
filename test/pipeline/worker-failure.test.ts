import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createOrchestrator } from '../../pipeline/app.js';
import { dropFiles } from '../../pipeline/drop.js';
import type { BatchManifest } from '../../pipeline/manifest.js';
import type { RunReport } from '../../pipeline/orchestrator.js';
import { startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

// One NDJSON line far beyond what a capped worker heap (96 MB) holds once parsed: its task runs
// out of memory on every attempt. Two small lines around it show the file is not half-written.
const hugeLine = JSON.stringify({
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'Panel' },
  note: [{ text: 'Seen with Quokkafakename, MRN-FAKE-4411' }],
  component: Array.from({ length: 600_000 }, (_, index) => ({
    code: { text: `c${index}` },
    valueQuantity: { value: index, unit: 'mg' },
  })),
});
const small = JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'A' } });
const file = `${small}\n${hugeLine}\n${small}\n`;

describe('a worker that runs out of heap', () => {
  let env: TestEnvironment;
  let report: RunReport;

  beforeAll(async () => {
    env = await startTestEnvironment({ maxAttempts: 2 });
    const path = join(env.homeDir, 'huge-line.ndjson');
    writeFileSync(path, file);
    await dropFiles(env.app.storage, 'huge-line', [path]);
    report = await createOrchestrator(env.app, true).run();
  }, 180_000);

  afterAll(async () => {
    await env?.close();
  });

  it('retries, then quarantines the file with a code, and the process carries on', () => {
    expect(file.length).toBeGreaterThan(40_000_000);
    expect(report.retried).toBe(1);
    expect(report.results).toHaveLength(1);
    const manifest = (report.results[0] as { manifest: BatchManifest }).manifest;
    expect(manifest).toMatchObject({
      status: 'quarantined',
      reasonCode: 'MAX_ATTEMPTS_EXCEEDED',
      attempt: 2,
    });
    expect(report.poisoned.map((item) => item.reasonCode)).toEqual(['MAX_ATTEMPTS_EXCEEDED']);
  });

  it('logs the failures by code only', () => {
    const text = env.logText();
    expect(text).toContain('WORKER_OUT_OF_MEMORY');
    expect(text).not.toContain('Quokkafakename');
    expect(text).not.toContain('MRN-FAKE-4411');
  });
});
