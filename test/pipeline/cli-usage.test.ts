import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCliInProcess, type CliResult } from '../helpers/cli.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

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

  it("prints commander's own errors as CLI_USAGE with exit code 2", async () => {
    const unknown = await cli('stauts');
    expect([unknown.code, unknown.stdout]).toEqual([2, '']);
    expect(unknown.stderr).toBe(
      "phi-ingest: CLI_USAGE: unknown command 'stauts'\n(Did you mean status?)\n" +
        '(add --help for usage)\n',
    );

    const missing = await cli('drop', 'file.hl7');
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([
      2,
      '',
      "phi-ingest: CLI_USAGE: required option '--feed <name>' not specified\n" +
        '(add --help for usage)\n',
    ]);

    const unknownOption = await cli('status', '--limt', '3');
    expect([unknownOption.code, unknownOption.stderr.split('\n')[0]]).toEqual([
      2,
      "phi-ingest: CLI_USAGE: unknown option '--limt'",
    ]);
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
        "option '--limit <n>' argument '-3' is invalid. --limit takes a whole number from 1 to 1000",
      ],
      [
        ['status', '--limit', '2.5'],
        "option '--limit <n>' argument '2.5' is invalid. --limit takes a whole number from 1 to 1000",
      ],
      [
        ['status', '--watch', '--interval', '0'],
        "option '--interval <sec>' argument '0' is invalid. --interval takes a whole number from 1 to 3600",
      ],
      [
        ['run', '--metrics-port', '70000'],
        "option '--metrics-port <port>' argument '70000' is invalid. --metrics-port takes a whole number from 0 to 65535",
      ],
      [
        ['batch', 'show', '0123456789ab', '--batch-version', 'two'],
        "option '--batch-version <n>' argument 'two' is invalid. --batch-version takes a whole number, 1 or more",
      ],
    ];
    for (const [args, message] of cases) {
      const result = await cli(...args);
      expect([args, result.code, result.stdout, result.stderr]).toEqual([
        args,
        2,
        '',
        `phi-ingest: CLI_USAGE: ${message}\n(add --help for usage)\n`,
      ]);
    }
  });

  it('refuses verify --all with --feed or --batch', async () => {
    const result = await cli('verify', '--all', '--feed', 'lab-feed');
    expect([result.code, result.stderr.split('\n')[0]]).toEqual([
      2,
      "phi-ingest: CLI_USAGE: option '--all' cannot be used with option '--feed <name>'",
    ]);
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
