import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { drain } from '../../pipeline/app.js';
import { dropFiles } from '../../pipeline/drop.js';
import type { RunReport } from '../../pipeline/orchestrator.js';
import { generateFhirNdjson } from '../../samples/index.js';
import { startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

// A Bundle well past what the capped worker heaps hold (about 16 MB of JSON at 96 MB of heap):
// it must go to the document thread, whose heap is sized for whole documents.
const corpus = generateFhirNdjson({ seed: 31, approxBytes: 30_000_000 });
const resources = new TextDecoder()
  .decode(corpus.bytes)
  .split('\n')
  .filter((line) => line.length > 0)
  .map((line) => JSON.parse(line) as unknown);
const bundle = new TextEncoder().encode(
  JSON.stringify({
    resourceType: 'Bundle',
    type: 'collection',
    entry: resources.map((resource) => ({ resource })),
  }),
);

describe('a FHIR Bundle larger than a capped worker heap', () => {
  let env: TestEnvironment;
  let report: RunReport;

  beforeAll(async () => {
    env = await startTestEnvironment();
    const path = join(env.homeDir, 'large-bundle.json');
    writeFileSync(path, bundle);
    await dropFiles(env.app.storage, 'large-bundle', [path]);
    report = await drain(env.app);
  }, 180_000);

  afterAll(async () => {
    await env?.close();
  });

  it('is committed whole, every entry written', () => {
    expect(bundle.length).toBeGreaterThan(30_000_000);
    expect(report.results).toHaveLength(1);
    const result = report.results[0];
    expect(result.kind).toBe('committed');
    const manifest = (result as { manifest: { counts: { messagesIn: number; written: number } } })
      .manifest;
    expect(manifest.counts.messagesIn).toBe(resources.length);
    expect(manifest.counts.written).toBe(resources.length);
  });
});
