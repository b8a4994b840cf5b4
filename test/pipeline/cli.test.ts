import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { listAuditEvents } from '../../pipeline/audit.js';
import { startPrivateAzurite, type AzuriteHandle } from '../../pipeline/azurite.js';
import { fromConnectionString } from '../../pipeline/storage.js';
import { generateSamples, listSampleIdentifiers } from '../../samples/generate.js';
import { writeSampleFiles } from '../helpers/samples.js';

const CLI = fileURLToPath(new URL('../../bin/phi-ingest.js', import.meta.url));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('the phi-ingest CLI, as a user runs it', () => {
  let azurite: AzuriteHandle;
  let homeDir: string;
  let samples: Map<string, string>;

  const cli = (...args: string[]): Promise<CliResult> => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH,
        PHI_INGEST_STORAGE_CONNECTION_STRING: azurite.connectionString,
        PHI_INGEST_HOME: homeDir,
        PHI_INGEST_MAX_THREADS: '2',
        PHI_INGEST_POLL_INTERVAL_MS: '100',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    return new Promise((resolve) =>
      child.once('close', (code) => resolve({ code, stdout, stderr })),
    );
  };

  /**
   * Runs the CLI with its standard output closed by the reader: after the first chunk, as `head`
   * does, or (`closeAtStart`) before anything is written. Killed after 20 s if it has not ended.
   */
  const cliClosedEarly = (
    args: string[],
    closeAtStart = false,
  ): Promise<{ code: number | null; received: number; stderr: string }> => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH,
        PHI_INGEST_STORAGE_CONNECTION_STRING: azurite.connectionString,
        PHI_INGEST_HOME: homeDir,
        PHI_INGEST_LOG_LEVEL: 'silent',
      },
    });
    let received = 0;
    let stderr = '';
    if (closeAtStart) {
      child.stdout.destroy();
    } else {
      child.stdout.once('data', (chunk: Buffer) => {
        received = chunk.length;
        child.stdout.destroy();
      });
    }
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    return new Promise((resolve) =>
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, received, stderr });
      }),
    );
  };

  beforeAll(async () => {
    azurite = await startPrivateAzurite();
    homeDir = mkdtempSync(join(tmpdir(), 'phi-ingest-cli-'));
    samples = writeSampleFiles(join(homeDir, 'samples'));
  });

  afterAll(async () => {
    await azurite?.stop();
    rmSync(homeDir, { recursive: true, force: true });
  });

  it('ingests a folder, reports it in status, and decrypts a part', async () => {
    const ingest = await cli('ingest', '--feed', 'lab-feed', join(homeDir, 'samples', 'lab-feed'));
    expect(ingest.stderr).not.toContain('phi-ingest:');
    expect(ingest.code).toBe(0);
    expect(ingest.stdout).toMatch(/1 batch: 5 in, 5 written, 0 rejected, 0 files quarantined/);
    const partPath = /output\/feed=lab-feed\/type=ORU_R01\/\S+part-00000\.ndjson\.gz\.enc/.exec(
      ingest.stdout,
    )?.[0];
    expect(partPath).toBeDefined();

    const status = await cli('status', '--json');
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as {
      queues: Record<string, number>;
      batches: Array<{ partitionKey: string; messagesIn: number; written: number; status: string }>;
    };
    expect(parsed.queues).toEqual({ inbound: 0, 'inbound-poison': 0 });
    expect(parsed.batches).toHaveLength(1);
    expect(parsed.batches[0]).toMatchObject({
      partitionKey: 'lab-feed',
      messagesIn: 5,
      written: 5,
      status: 'committed',
    });

    const decrypted = await cli('decrypt', partPath!);
    expect(decrypted.code).toBe(0);
    const lines = decrypted.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { messageType: string });
    expect(lines.map((line) => line.messageType)).toEqual([
      'ORU^R01',
      'ORU^R01',
      'ORU^R01',
      'ORU^R01',
      'ORU^R01',
    ]);

    for (const identifier of listSampleIdentifiers()) {
      expect(ingest.stdout + ingest.stderr + status.stdout + decrypted.stdout).not.toContain(
        identifier,
      );
    }
  });

  it('exits 1 when a file it ingests is quarantined, and still prints the summary', async () => {
    const empty = join(homeDir, 'empty.hl7');
    writeFileSync(empty, '');
    const ingest = await cli('ingest', '--feed', 'lab-feed', empty);
    expect(ingest.code).toBe(1);
    expect(ingest.stdout).toMatch(/1 batch: 0 in, 0 written, 0 rejected, 1 file quarantined/);
    // The input is named by its content hash (the empty file's), never by its local name.
    const batch = /batch=([0-9a-f]{12})/.exec(ingest.stdout)?.[1];
    expect(ingest.stdout).toContain(
      `  e3b0c44298fc1c149afbf4c8996fb924  batch ${batch}  quarantined FILE_EMPTY\n`,
    );
    expect(ingest.stdout).not.toContain('empty.hl7');
  });

  it('drops files that a running orchestrator picks up, and stops cleanly on SIGTERM', async () => {
    const drop = await cli('drop', '--feed', 'adt-feed', samples.get('adt-feed/adt-batch.hl7')!);
    expect(drop.code).toBe(0);
    expect(drop.stdout).toContain('1 file dropped for feed adt-feed\n');

    const child = spawn(process.execPath, [CLI, 'run'], {
      env: {
        PATH: process.env.PATH,
        PHI_INGEST_STORAGE_CONNECTION_STRING: azurite.connectionString,
        PHI_INGEST_HOME: homeDir,
        PHI_INGEST_POLL_INTERVAL_MS: '100',
      },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const closed = new Promise<number | null>((resolve) =>
      child.once('close', (code) => resolve(code)),
    );
    await waitFor(() => stderr.includes('"msg":"Batch committed"'), 30_000);
    child.kill('SIGTERM');
    expect(await closed).toBe(0);
    expect(stderr).toContain('"msg":"Stop requested"');
    expect(stderr).toContain('"msg":"Orchestrator stopped"');
  });

  it('fails with a code and no stack trace on a missing part or input', async () => {
    const missing = await cli('decrypt', 'output/feed=x/nothing.ndjson.gz.enc');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(
      'phi-ingest: PART_NOT_FOUND: No such part in container output; ' +
        "phi-ingest batch show <batch id> lists a batch's parts",
    );
    const traversal = await cli('decrypt', '../../etc/passwd');
    expect(traversal.code).toBe(1);
    expect(traversal.stderr.trim()).toBe(
      'phi-ingest: PART_PATH_INVALID: A part path is <container>/<path ending in .enc>, ' +
        'with container one of output, rejects, archive, quarantine; ' +
        "phi-ingest batch show <batch id> lists a batch's parts",
    );
    const badConnection = spawnSync(process.execPath, [CLI, 'status'], {
      env: {
        PATH: process.env.PATH,
        PHI_INGEST_HOME: homeDir,
        PHI_INGEST_STORAGE_CONNECTION_STRING: 'AccountKey=c2VjcmV0;nonsense',
      },
      encoding: 'utf8',
    });
    expect(badConnection.status).toBe(1);
    expect(badConnection.stderr).toContain('CONFIG_INVALID');
    expect(badConnection.stderr).not.toContain('c2VjcmV0');
    const noInput = await cli('drop', '--feed', 'adt-feed', join(homeDir, 'does-not-exist.hl7'));
    expect(noInput.code).toBe(1);
    expect(noInput.stderr.trim()).toBe(
      'phi-ingest: INPUT_NOT_FOUND: Input path 1 of 1 does not exist',
    );
  });

  it('ends quietly with status 0 when the reader of its output closes the pipe early', async () => {
    // A part far larger than a pipe's buffer, so the reader closes it mid-stream, as `head` does.
    const big = generateSamples({ hl7Messages: 800 }).find(
      (sample) => sample.fileName === 'adt-batch.hl7',
    )!;
    const bigFile = join(homeDir, 'big-adt.hl7');
    writeFileSync(bigFile, big.bytes);
    const ingest = await cli('ingest', '--feed', 'big-feed', bigFile);
    expect(ingest.code).toBe(0);
    const partPath = /output\/feed=big-feed\/type=ADT_A08\/\S+part-00000\.ndjson\.gz\.enc/.exec(
      ingest.stdout,
    )![0];

    const decrypt = await cliClosedEarly(['decrypt', partPath]);
    expect(decrypt.received).toBeGreaterThan(0);
    expect(decrypt.stderr).toBe('');
    expect(decrypt.code).toBe(0);
    const events = (await listAuditEvents(fromConnectionString(azurite.connectionString))).filter(
      (event) => event.target === partPath,
    );
    expect(events.map((event) => [event.action, event.outcome, event.errorCode])).toEqual([
      ['decrypt', 'started', undefined],
      ['decrypt', 'closed-by-reader', undefined],
    ]);

    // Readers gone before the first byte: the command's first write fails.
    for (const args of [
      ['audit'],
      ['status', '--json'],
      ['status', '--watch', '--interval', '1'],
    ]) {
      const closed = await cliClosedEarly(args, true);
      expect([args, closed.code, closed.stderr]).toEqual([args, 0, '']);
    }
  });

  it('refuses to ingest under a bad feeds file before uploading anything', async () => {
    const feedsFile = join(homeDir, 'feeds.json');
    writeFileSync(feedsFile, JSON.stringify({ feeds: { 'cfg-feed': { compression: 'zip' } } }));
    try {
      const ingest = await cli(
        'ingest',
        '--feed',
        'cfg-feed',
        samples.get('lab-feed/oru-results.hl7')!,
      );
      expect(ingest.code).toBe(1);
      expect(ingest.stderr).toContain('phi-ingest: CONFIG_INVALID: Feeds file is invalid');
      const inbound = fromConnectionString(azurite.connectionString).inbound;
      const names: string[] = [];
      for await (const blob of inbound.listBlobsFlat({ prefix: 'cfg-feed/' })) {
        names.push(blob.name);
      }
      expect(names).toEqual([]);
    } finally {
      rmSync(feedsFile, { force: true });
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error('Condition not met in time');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
