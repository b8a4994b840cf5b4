import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startPrivateAzurite, type AzuriteHandle } from '../../pipeline/azurite.js';
import { writeSampleFiles } from '../helpers/samples.js';

const CLI = fileURLToPath(new URL('../../bin/phi-ingest.js', import.meta.url));

describe('phi-ingest ingest summary', () => {
  let azurite: AzuriteHandle;
  let homeDir: string;
  let samples: Map<string, string>;

  const ingest = (...paths: string[]): Promise<{ code: number | null; stdout: string }> => {
    const child = spawn(process.execPath, [CLI, 'ingest', '--feed', 'trial-feed', ...paths], {
      env: {
        PATH: process.env.PATH,
        PHI_INGEST_STORAGE_CONNECTION_STRING: azurite.connectionString,
        PHI_INGEST_HOME: homeDir,
        PHI_INGEST_MAX_THREADS: '2',
        PHI_INGEST_POLL_INTERVAL_MS: '100',
      },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.resume();
    return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout })));
  };

  const contentHashOf = (path: string): string =>
    createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 32);

  beforeAll(async () => {
    azurite = await startPrivateAzurite();
    homeDir = mkdtempSync(join(tmpdir(), 'phi-ingest-summary-'));
    samples = writeSampleFiles(join(homeDir, 'samples'));
  });

  afterAll(async () => {
    await azurite?.stop();
    rmSync(homeDir, { recursive: true, force: true });
  });

  it('tells an input whose records were all or partly rejected from one fully written', async () => {
    const inputs = join(homeDir, 'inputs');
    mkdirSync(inputs);
    const written = join(inputs, 'written.hl7');
    writeFileSync(written, readFileSync(samples.get('lab-feed/oru-results.hl7')!));
    // The sample's fifteen observations and one line that is not JSON.
    const partly = join(inputs, 'partly.ndjson');
    writeFileSync(
      partly,
      readFileSync(samples.get('fhir-feed/observations.ndjson')!, 'utf8').trimEnd() + '\n{oops\n',
    );
    // JSON lines, none of them a FHIR resource.
    const none = join(inputs, 'none.ndjson');
    writeFileSync(none, '{"a":1}\n{"b":2}\n{"c":3}\n');

    const result = await ingest(written, partly, none);

    const outcomeOf = (path: string) =>
      new RegExp(`^  ${contentHashOf(path)}  batch [0-9a-f]{12}  (.+)$`, 'm').exec(
        result.stdout,
      )?.[1];
    expect(result.stdout).not.toMatch(/written\.hl7|partly\.ndjson|none\.ndjson/);
    expect(outcomeOf(written)).toBe('ok');
    expect(outcomeOf(partly)).toBe('partly rejected');
    expect(outcomeOf(none)).toBe('all rejected');
    const tableStatuses = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('trial-feed  '))
      .map((line) => line.split(/\s{2,}/).slice(3, 7));
    expect(tableStatuses.sort()).toEqual([
      ['all rejected', '3', '0', '3 (NDJSON_NOT_A_RESOURCE:3)'],
      ['ok', '5', '5', '0'],
      ['partly rejected', '16', '15', '1 (NDJSON_INVALID_JSON:1)'],
    ]);
    expect(result.stdout).toMatch(/3 batches: 24 in, 20 written, 4 rejected, 0 files quarantined/);
  });
});
