import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, describe, expect, it } from 'vitest';

import { azuriteConnectionString, ensureEmbeddedAzurite } from '../../pipeline/azurite.js';
import { processAlive, processExited } from '../helpers/processes.js';

const AZURITE_MODULE = fileURLToPath(new URL('../../pipeline/azurite.ts', import.meta.url));

interface State {
  pid: number;
  blob: number;
  queue: number;
  table: number;
}

/**
 * Starts a process that opens the home's embedded Azurite, as a phi-ingest command does, and
 * stays up; resolves with it and the Azurite pid it was given.
 */
async function startCommand(home: string): Promise<{ kill(): Promise<void>; azuritePid: number }> {
  const script = join(home, 'command.mts');
  writeFileSync(
    script,
    `const { ensureEmbeddedAzurite } = await import(${JSON.stringify(AZURITE_MODULE)});\n` +
      `const handle = await ensureEmbeddedAzurite(${JSON.stringify(home)});\n` +
      "console.log('azurite ' + handle.pid);\nsetInterval(() => {}, 1000);\n",
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const azuritePid = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /azurite (\d+)/.exec(output);
      if (match) {
        resolve(Number(match[1]));
      }
    });
    child.once('exit', () => reject(new Error('the command exited before Azurite was up')));
  });
  return {
    azuritePid,
    kill: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('the embedded Azurite of a home folder', () => {
  const homes: string[] = [];
  const azuritePids = new Set<number>();
  const newHome = (): string => {
    const home = mkdtempSync(join(tmpdir(), 'phi-ingest-azurite-'));
    homes.push(home);
    return home;
  };

  afterAll(() => {
    for (const pid of azuritePids) {
      if (processAlive(pid)) {
        process.kill(pid, 'SIGKILL');
      }
    }
    for (const home of homes) {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('keeps serving after its command is killed, and the next command takes it over', async () => {
    const home = newHome();
    const command = await startCommand(home);
    azuritePids.add(command.azuritePid);
    await command.kill();

    const state = JSON.parse(readFileSync(join(home, 'azurite.json'), 'utf8')) as State;
    expect(state.pid).toBe(command.azuritePid);
    const blobs = BlobServiceClient.fromConnectionString(azuriteConnectionString(state));
    // Its output goes to a log file, not to a pipe to the killed command.
    for (let round = 0; round < 3; round++) {
      await blobs.getContainerClient(`round-${round}`).createIfNotExists();
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const names: string[] = [];
    for await (const container of blobs.listContainers()) {
      names.push(container.name);
    }
    expect(names).toEqual(['round-0', 'round-1', 'round-2']);

    // Its owner is gone: this process adopts it, and stops it like one it started.
    const adopted = await ensureEmbeddedAzurite(home);
    expect(adopted).toMatchObject({ pid: state.pid, owned: true });
    await adopted.stop();
    expect(await processExited(state.pid)).toBe(true);
  });

  it('fails the stop of an adopted Azurite that did not shut down cleanly', async () => {
    const home = newHome();
    const command = await startCommand(home);
    azuritePids.add(command.azuritePid);
    await command.kill();

    const adopted = await ensureEmbeddedAzurite(home);
    process.kill(adopted.pid, 'SIGKILL');
    expect(await processExited(adopted.pid)).toBe(true);
    await expect(adopted.stop()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(existsSync(join(home, 'azurite.json'))).toBe(false);
  });

  it('is started once when two commands open it at the same moment', async () => {
    const home = newHome();
    const [first, second] = await Promise.all([startCommand(home), startCommand(home)]);
    azuritePids.add(first.azuritePid).add(second.azuritePid);
    expect(second.azuritePid).toBe(first.azuritePid);
    await Promise.all([first.kill(), second.kill()]);
  });
});
