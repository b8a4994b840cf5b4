import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createOrchestrator } from '../../pipeline/app.js';
import { dropFiles } from '../../pipeline/drop.js';
import type { BatchManifest } from '../../pipeline/manifest.js';
import { decryptStored } from '../../pipeline/read-part.js';
import { SAMPLE_CITY } from '../../samples/people.js';
import { writeSampleFiles } from '../helpers/samples.js';
import { startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

describe('de-identification presets chosen per feed, through the pipeline', () => {
  let env: TestEnvironment;
  const outputs = new Map<string, string>();

  beforeAll(async () => {
    env = await startTestEnvironment();
    writeFileSync(
      env.app.config.feedsFile,
      JSON.stringify({
        feeds: {
          'care-ops': { deidentification: { preset: 'none' } },
          research: { deidentification: { preset: 'limited-data-set' } },
        },
      }),
    );
    const samples = writeSampleFiles(join(env.homeDir, 'samples'));
    const bundle = samples.get('fhir-feed/patients-bundle.json')!;
    for (const feed of ['care-ops', 'research', 'default-feed']) {
      await dropFiles(env.app.storage, feed, [bundle]);
    }
    const report = await createOrchestrator(env.app, true).run();
    for (const result of report.results) {
      const manifest = (result as { manifest: BatchManifest }).manifest;
      const patients = manifest.parts.find((part) => part.recordType === 'Patient')!;
      outputs.set(manifest.feedId, await decryptStored(env.app, `output/${patients.path}`));
    }
  });

  afterAll(async () => {
    await env?.close();
  });

  const firstPatient = (feed: string): Record<string, unknown> =>
    JSON.parse(outputs.get(feed)!.split('\n')[0]) as Record<string, unknown>;

  it('keeps identified data for a feed set to none, still encrypted at rest', () => {
    const patient = firstPatient('care-ops');
    expect(patient.name).toBeDefined();
    expect(String(patient.birthDate)).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(outputs.get('care-ops')).toContain(SAMPLE_CITY);
  });

  it('keeps dates, town and five-digit ZIP for a limited data set, but no names', () => {
    const patient = firstPatient('research') as {
      name?: unknown;
      birthDate?: string;
      address?: Array<{ city?: string; postalCode?: string }>;
    };
    expect(patient.name).toBeUndefined();
    expect(patient.birthDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(patient.address?.[0]).toMatchObject({ city: SAMPLE_CITY, postalCode: '00000' });
  });

  it('applies Safe Harbor to a feed with no setting', () => {
    const patient = firstPatient('default-feed') as {
      name?: unknown;
      birthDate?: string;
      address?: Array<{ city?: string; postalCode?: string }>;
    };
    expect(patient.name).toBeUndefined();
    expect(patient.birthDate).toMatch(/^\d{4}$/);
    expect(patient.address?.[0]?.city).toBeUndefined();
    expect(patient.address?.[0]?.postalCode).toBe('000');
  });
});
