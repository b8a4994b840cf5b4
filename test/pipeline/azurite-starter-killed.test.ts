import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { writeSampleFiles } from '../helpers/samples.js';
import { processAlive, processExited } from '../helpers/processes.js';

const CLI = fileURLToPath(new URL('../../bin/phi-ingest.js', import.meta.url));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('the embedded Azurite after the command that started it is killed', () => {
  let homeDir: string;
  const azuritePids = new Set<number>();
  const children = new Set<ChildProcess>();

  const spawnCli = (args: string[]): ChildProcess => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH,
        PHI_INGEST_HOME: homeDir,
        PHI_INGEST_MAX_THREADS: '1',
        PHI_INGEST_POLL_INTERVAL_MS: '100',
      },
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  const cli = (...args: string[]): Promise<CliResult> => {
    const child = spawnCli(args);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    return new Promise((resolve) =>
      child.once('close', (code) => resolve({ code, stdout, stderr })),
    );
  };

  const recordAzuritePid = (): void => {
    const statePath = join(homeDir, 'azurite.json');
    if (existsSync(statePath)) {
      azuritePids.add((JSON.parse(readFileSync(statePath, 'utf8')) as { pid: number }).pid);
    }
  };

  afterAll(() => {
    if (homeDir) {
      recordAzuritePid();
    }
    for (const child of children) {
      child.kill('SIGKILL');
    }
    for (const pid of azuritePids) {
      if (processAlive(pid)) {
        process.kill(pid, 'SIGKILL');
      }
    }
    if (homeDir) {
      rmSync(homeDir, { recursive: true, force: true });
    }
  });

  it('keeps the blobs written before and after the kill once the next command has stopped it', async () => {
    homeDir = mkdtempSync(join(tmpdir(), 'phi-ingest-starter-killed-'));
    const samples = writeSampleFiles(join(homeDir, 'samples'));
    expect((await cli('keys', 'init')).code).toBe(0);

    // The starter: a run that commits one dropped file, then is killed within Azurite's 5 s
    // autosave interval, so the batch's blobs are held in Azurite's memory only.
    const run = spawnCli(['run']);
    let runOutput = '';
    // The CLI logs to standard error.
    run.stderr?.on('data', (chunk: Buffer) => (runOutput += chunk.toString('utf8')));
    const runSaw = async (text: string): Promise<void> => {
      for (let waitedMs = 0; !runOutput.includes(text); waitedMs += 50) {
        if (run.exitCode !== null || waitedMs > 45_000) {
          throw new Error(`run did not log ${text} (exit code ${run.exitCode})`);
        }
        await sleep(50);
      }
    };
    await runSaw('Orchestrator started');
    recordAzuritePid();

    const drop = await cli('drop', '--feed', 'lab-feed', samples.get('lab-feed/oru-results.hl7')!);
    expect(drop.code).toBe(0);
    await runSaw('Batch committed');
    const runExited = new Promise((resolve) => run.once('exit', resolve));
    run.kill('SIGKILL');
    await runExited;

    // The next command takes the orphan over and stops it when it exits.
    const ingest = await cli(
      'ingest',
      '--feed',
      'adt-feed',
      samples.get('adt-feed/adt-batch.hl7')!,
    );
    expect(ingest.stderr).not.toContain('phi-ingest:');
    expect(ingest.code).toBe(0);
    expect(existsSync(join(homeDir, 'azurite.json'))).toBe(false);
    for (const pid of azuritePids) {
      expect(await processExited(pid)).toBe(true);
    }

    // A fresh Azurite on the same data folder still has every part, archive and manifest.
    const verify = await cli('verify');
    recordAzuritePid();
    expect(verify.stdout).not.toContain('FAIL');
    expect(verify.stderr).not.toContain('phi-ingest:');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/2 manifests/);

    expect(statSync(join(homeDir, 'azurite')).mode & 0o777).toBe(0o700);
    expect(statSync(join(homeDir, 'azurite.log')).mode & 0o777).toBe(0o600);
    // Five CLI processes one after another, each starting node and tsx: on a loaded 2-core
    // machine that alone has taken most of a minute.
  }, 150_000);
});
