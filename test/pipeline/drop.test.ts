import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { listInputFiles } from '../../pipeline/drop.js';
import { runCliInProcess, type CliResult } from '../helpers/cli.js';
import { writeSampleFiles } from '../helpers/samples.js';
import { startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

// Hidden names as editors and file managers leave them; one carries a (made-up) patient's name.
const LOCK_FILE = '.~lock.DOE_JANE_results.hl7#';

describe('listInputFiles', () => {
  let homeDir: string;

  beforeAll(() => {
    homeDir = mkdtempSync(join(tmpdir(), 'phi-ingest-inputs-'));
  });

  afterAll(() => {
    rmSync(homeDir, { recursive: true, force: true });
  });

  it('counts hidden entries it skips in folders and takes a hidden file named on its own', () => {
    const dir = join(homeDir, 'mixed');
    mkdirSync(join(dir, '.git'), { recursive: true });
    mkdirSync(join(dir, 'nested'));
    writeFileSync(join(dir, '.DS_Store'), 'litter');
    writeFileSync(join(dir, LOCK_FILE), 'litter');
    writeFileSync(join(dir, '.git', 'config'), 'litter');
    writeFileSync(join(dir, 'b.hl7'), 'MSH|');
    writeFileSync(join(dir, 'nested', 'a.hl7'), 'MSH|');
    writeFileSync(join(dir, 'nested', '.swp'), 'litter');

    expect(listInputFiles([dir])).toEqual({
      files: [join(dir, 'b.hl7'), join(dir, 'nested', 'a.hl7')],
      hiddenSkipped: 4,
      otherSkipped: 0,
    });
    expect(listInputFiles([join(dir, '.DS_Store')])).toEqual({
      files: [join(dir, '.DS_Store')],
      hiddenSkipped: 0,
      otherSkipped: 0,
    });
  });

  it('fails with NO_INPUT_FILES when nothing is left, saying what it skipped and not its name', () => {
    const dir = join(homeDir, 'only-hidden');
    mkdirSync(dir);
    writeFileSync(join(dir, LOCK_FILE), 'litter');

    expect(() => listInputFiles([dir])).toThrow(
      expect.objectContaining({
        code: 'NO_INPUT_FILES',
        message:
          'No file to drop in the 1 path given; 1 hidden entry skipped (names starting with a dot)',
      }),
    );
  });

  it('names a missing path or an unreadable entry by position, never by name', () => {
    const dir = join(homeDir, 'dangling');
    mkdirSync(dir);
    writeFileSync(join(dir, 'ok.hl7'), 'MSH|');
    symlinkSync(join(dir, 'gone'), join(dir, 'DOE_JANE.hl7'));
    const other = join(homeDir, 'other.hl7');
    writeFileSync(other, 'MSH|');

    expect(() => listInputFiles([other, join(homeDir, 'DOE_JANE.hl7')])).toThrow(
      expect.objectContaining({
        code: 'INPUT_NOT_FOUND',
        message: 'Input path 2 of 2 does not exist',
      }),
    );
    expect(() => listInputFiles([other, dir])).toThrow(
      expect.objectContaining({
        code: 'INPUT_NOT_FOUND',
        message: 'An entry under input path 2 of 2 cannot be read',
      }),
    );
  });
});

describe('drop and ingest of folders with nothing to drop', () => {
  let env: TestEnvironment;
  let samples: Map<string, string>;

  const cli = (...args: string[]): Promise<CliResult> =>
    runCliInProcess(
      {
        PHI_INGEST_STORAGE_CONNECTION_STRING: env.azurite.connectionString,
        PHI_INGEST_HOME: env.homeDir,
        PHI_INGEST_MAX_THREADS: '1',
        PHI_INGEST_POLL_INTERVAL_MS: '100',
      },
      args,
    );

  const inboundBlobs = async (feedId: string): Promise<string[]> => {
    const names: string[] = [];
    for await (const blob of env.app.storage.inbound.listBlobsFlat({ prefix: `${feedId}/` })) {
      names.push(blob.name);
    }
    return names;
  };

  beforeAll(async () => {
    env = await startTestEnvironment();
    samples = writeSampleFiles(join(env.homeDir, 'samples'));
  });

  afterAll(async () => {
    await env?.close();
  });

  it('refuses a folder holding only hidden files with NO_INPUT_FILES and exit 1', async () => {
    const dir = join(env.homeDir, 'only-hidden');
    mkdirSync(dir);
    writeFileSync(join(dir, LOCK_FILE), readFileSync(samples.get('lab-feed/oru-results.hl7')!));

    const drop = await cli('drop', '--feed', 'hidden-feed', dir);

    expect([drop.code, drop.stdout, drop.stderr]).toEqual([
      1,
      '',
      'phi-ingest: NO_INPUT_FILES: No file to drop in the 1 path given; ' +
        '1 hidden entry skipped (names starting with a dot)\n',
    ]);
    expect(await inboundBlobs('hidden-feed')).toEqual([]);
  });

  it('refuses to ingest an empty folder with NO_INPUT_FILES and exit 1', async () => {
    const dir = join(env.homeDir, 'empty');
    mkdirSync(dir);

    const ingest = await cli('ingest', '--feed', 'empty-feed', dir);

    expect([ingest.code, ingest.stdout, ingest.stderr]).toEqual([
      1,
      '',
      'phi-ingest: NO_INPUT_FILES: No file to drop in the 1 path given\n',
    ]);
  });

  it('drops the files of a folder and says how many hidden entries it skipped', async () => {
    const dir = join(env.homeDir, 'with-litter');
    mkdirSync(dir);
    writeFileSync(join(dir, 'results.hl7'), readFileSync(samples.get('lab-feed/oru-results.hl7')!));
    writeFileSync(join(dir, '.DS_Store'), 'litter');
    writeFileSync(join(dir, LOCK_FILE), 'litter');

    const drop = await cli('drop', '--feed', 'litter-feed', dir);

    expect(drop.stderr).toBe('');
    expect(drop.code).toBe(0);
    const [blobName] = await inboundBlobs('litter-feed');
    expect(drop.stdout).toBe(
      `inbound/${blobName}\n` +
        '1 file dropped for feed litter-feed; 2 hidden entries skipped (names starting with a dot)\n',
    );
    expect(drop.stdout).not.toContain('DOE');
  });

  it('counts skipped hidden entries in the ingest summary', async () => {
    const dir = join(env.homeDir, 'ingest-litter');
    mkdirSync(dir);
    writeFileSync(join(dir, 'adt.hl7'), readFileSync(samples.get('adt-feed/adt-batch.hl7')!));
    writeFileSync(join(dir, LOCK_FILE), 'litter');

    const ingest = await cli('ingest', '--feed', 'ingest-litter-feed', dir);

    expect(ingest.stderr).toBe('');
    expect(ingest.code).toBe(0);
    expect(ingest.stdout).toContain(
      ', 1 file given, 1 distinct, 1 hidden entry skipped (names starting with a dot), ',
    );
    expect(ingest.stdout).not.toContain('DOE');
  });
});
