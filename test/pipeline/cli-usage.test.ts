import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createCli } from '../../pipeline/cli.js';
import { usageErrorText } from '../../pipeline/commands/usage-errors.js';
import { runCliInProcess, type CliResult } from '../helpers/cli.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** A made-up local file name of the kind that can carry a patient's name and MRN. */
const TYPED = 'Testperson_Fake_MRN0001.hl7';

// Every refusal here comes before storage opens: the connection string points at nothing, so a
// command that reached storage would fail with another code.
describe('command lines the CLI refuses', () => {
  let homeDir: string;

  const cli = (...args: string[]): Promise<CliResult> =>
    runCliInProcess(
      {
        PHI_INGEST_HOME: homeDir,
        PHI_INGEST_STORAGE_CONNECTION_STRING:
          'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
          'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
          'BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:1/devstoreaccount1;' +
          'TableEndpoint=http://127.0.0.1:1/devstoreaccount1;',
      },
      args,
    );

  beforeAll(() => {
    homeDir = mkdtempSync(join(tmpdir(), 'phi-ingest-usage-'));
  });

  afterAll(() => {
    rmSync(homeDir, { recursive: true, force: true });
  });

  it('names the command and the declared option, never what was typed, with exit code 2', async () => {
    const cases: Array<[string[], string]> = [
      [[TYPED], 'Unknown command for phi-ingest: not one of its commands; see phi-ingest --help'],
      [
        ['batch', TYPED],
        'Unknown command for phi-ingest batch: not one of its commands; see phi-ingest batch --help',
      ],
      [
        ['status', `--${TYPED}`],
        'Unknown option for phi-ingest status: an option this command does not take; ' +
          'see phi-ingest status --help',
      ],
      [['drop', TYPED], 'phi-ingest drop requires --feed; see phi-ingest drop --help'],
      [
        ['status', '--limit'],
        '--limit of phi-ingest status needs a value; see phi-ingest status --help',
      ],
      [['--home'], '--home of phi-ingest needs a value; see phi-ingest --help'],
      [
        ['batch', 'show'],
        'phi-ingest batch show requires the argument <batchId>; see phi-ingest batch show --help',
      ],
      [
        ['status', TYPED],
        'Too many arguments for phi-ingest status: it takes no arguments; ' +
          'see phi-ingest status --help',
      ],
      [
        ['decrypt', 'output/part-00000.ndjson.gz.enc', TYPED],
        'Too many arguments for phi-ingest decrypt: it takes 1 argument; ' +
          'see phi-ingest decrypt --help',
      ],
      [
        ['status', `--limit=${TYPED}`],
        '--limit takes a whole number from 1 to 1000; see phi-ingest status --help',
      ],
      [
        ['verify', '--all', '--feed', TYPED],
        '--all cannot be used with --feed in phi-ingest verify; see phi-ingest verify --help',
      ],
    ];
    for (const [args, message] of cases) {
      const result = await cli(...args);
      expect([args, result.code, result.stdout, result.stderr]).toEqual([
        args,
        2,
        '',
        `phi-ingest: CLI_USAGE: ${message}\n`,
      ]);
      expect(result.stderr).not.toContain('Testperson');
    }
  });

  it('gives a fixed text for any other refusal commander reports', () => {
    const program = createCli();
    expect(usageErrorText(program, 'commander.error', `error: '${TYPED}'`)).toBe(
      'phi-ingest cannot run this command line; see phi-ingest --help',
    );
    expect(
      usageErrorText(program, 'commander.invalidArgument', `error: value '${TYPED}' is invalid`),
    ).toBe('phi-ingest was given a value it does not take; see phi-ingest --help');
  });

  it('still prints --help and --version on standard output with exit code 0', async () => {
    const help = await cli('--help');
    expect([help.code, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toMatch(/^Usage: phi-ingest \[options\] \[command\]\n/);

    const statusHelp = await cli('status', '--help');
    expect([statusHelp.code, statusHelp.stderr]).toEqual([0, '']);
    expect(statusHelp.stdout).toContain('--limit <n>');

    const version = await cli('--version');
    expect([version.code, version.stdout, version.stderr]).toEqual([0, `${VERSION}\n`, '']);
  });

  it('refuses numeric options outside their range instead of a default or a clamp', async () => {
    const cases: Array<[string[], string]> = [
      [
        ['status', '--limit', '-3'],
        '--limit takes a whole number from 1 to 1000; see phi-ingest status --help',
      ],
      [
        ['status', '--limit', '2.5'],
        '--limit takes a whole number from 1 to 1000; see phi-ingest status --help',
      ],
      [
        ['status', '--watch', '--interval', '0'],
        '--interval takes a whole number from 1 to 3600; see phi-ingest status --help',
      ],
      [
        ['run', '--metrics-port', '70000'],
        '--metrics-port takes a whole number from 0 to 65535; see phi-ingest run --help',
      ],
      [
        ['batch', 'show', '0123456789ab', '--batch-version', 'two'],
        '--batch-version takes a whole number, 1 or more; see phi-ingest batch show --help',
      ],
    ];
    for (const [args, message] of cases) {
      const result = await cli(...args);
      expect([args, result.code, result.stdout, result.stderr]).toEqual([
        args,
        2,
        '',
        `phi-ingest: CLI_USAGE: ${message}\n`,
      ]);
      expect(result.stderr).not.toContain(`'${args.at(-1)}'`);
    }
  });

  it('refuses reprocess with --batch and a date range, before looking the id up', async () => {
    for (const batch of ['0123456789ab', '0123456789abcdef0123456789abcdef']) {
      const result = await cli(
        'reprocess',
        '--batch',
        batch,
        '--feed',
        'lab-feed',
        '--from',
        '2026-12-01',
        '--to',
        '2026-12-02',
        '--dry-run',
      );
      expect([result.code, result.stdout, result.stderr]).toEqual([
        1,
        '',
        'phi-ingest: REPROCESS_SELECTION_INVALID: Give exactly one of --batch ID, ' +
          '--feed NAME --from DATE --to DATE, or --poison\n',
      ]);
    }
  });

  it('asks for --yes before shredding, with CONFIRMATION_REQUIRED', async () => {
    const result = await cli('batch', 'shred', '0123456789ab');
    expect([result.code, result.stdout, result.stderr]).toEqual([
      1,
      '',
      'phi-ingest: CONFIRMATION_REQUIRED: Shredding destroys the batch key and cannot be undone; ' +
        'add --yes to confirm\n',
    ]);
  });
});
