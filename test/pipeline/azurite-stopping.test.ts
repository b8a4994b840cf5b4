import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, describe, expect, it } from 'vitest';

import { ensureEmbeddedAzurite } from '../../pipeline/azurite.js';
import { processAlive, processExited } from '../helpers/processes.js';

const AZURITE_MODULE = fileURLToPath(new URL('../../pipeline/azurite.ts', import.meta.url));

interface Owner {
  child: ChildProcess;
  azuritePid: number;
  /** Asks the owner to stop its Azurite and exit, as a command does when it ends. */
  stop(): void;
}

/** Starts a process that starts the home's embedded Azurite and stops it when told to. */
async function startOwner(home: string): Promise<Owner> {
  const script = join(home, 'owner.mts');
  writeFileSync(
    script,
    `const { ensureEmbeddedAzurite } = await import(${JSON.stringify(AZURITE_MODULE)});\n` +
      `const handle = await ensureEmbeddedAzurite(${JSON.stringify(home)});\n` +
      "console.log('azurite ' + handle.pid);\n" +
      "process.stdin.once('data', async () => { await handle.stop(); process.exit(0); });\n",
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const azuritePid = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /azurite (\d+)/.exec(output);
      if (match) {
        resolve(Number(match[1]));
      }
    });
    child.once('exit', () => reject(new Error('the owner exited before Azurite was up')));
  });
  return { child, azuritePid, stop: () => child.stdin?.write('stop\n') };
}

/** Waits until the owner holds the start lock to stop its Azurite. */
async function stopStarted(home: string, ownerPid: number): Promise<void> {
  for (let waitedMs = 0; waitedMs < 10_000; waitedMs += 50) {
    try {
      if (readFileSync(join(home, 'azurite.lock'), 'utf8') === String(ownerPid)) {
        return;
      }
    } catch {
      // Not taken yet.
    }
    await sleep(50);
  }
  throw new Error('the owner did not take the start lock to stop Azurite');
}

describe('an embedded Azurite that its owner is stopping', () => {
  const homes: string[] = [];
  const azuritePids = new Set<number>();
  const owners = new Set<ChildProcess>();
  const newHome = (): string => {
    const home = mkdtempSync(join(tmpdir(), 'phi-ingest-stopping-'));
    homes.push(home);
    return home;
  };

  afterAll(() => {
    for (const owner of owners) {
      owner.kill('SIGKILL');
    }
    for (const pid of azuritePids) {
      if (processAlive(pid)) {
        process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGKILL');
      }
    }
    for (const home of homes) {
      rmSync(home, { recursive: true, force: true });
    }
  });

  // A suspended Azurite holds its SIGTERM until it is continued: the stop lasts as long as the
  // test needs, as a slow save of a large data folder would.
  it('is not used by a command started during the stop, which gets a fresh one', async () => {
    const home = newHome();
    const owner = await startOwner(home);
    owners.add(owner.child);
    azuritePids.add(owner.azuritePid);
    process.kill(owner.azuritePid, 'SIGSTOP');
    const ownerExited = new Promise((resolve) => owner.child.once('exit', resolve));
    owner.stop();
    await stopStarted(home, owner.child.pid!);

    const opening = ensureEmbeddedAzurite(home);
    await sleep(1000);
    process.kill(owner.azuritePid, 'SIGCONT');
    const handle = await opening;
    azuritePids.add(handle.pid);
    await ownerExited;

    expect(handle).toMatchObject({ owned: true });
    expect(handle.pid).not.toBe(owner.azuritePid);
    expect(await processExited(owner.azuritePid)).toBe(true);
    const blobs = BlobServiceClient.fromConnectionString(handle.connectionString);
    await blobs.getContainerClient('after-stop').createIfNotExists();
    await handle.stop();
  });

  it('is waited for, not adopted, when its owner dies while stopping it', async () => {
    const home = newHome();
    const owner = await startOwner(home);
    owners.add(owner.child);
    azuritePids.add(owner.azuritePid);
    process.kill(owner.azuritePid, 'SIGSTOP');
    owner.stop();
    await stopStarted(home, owner.child.pid!);
    expect(JSON.parse(readFileSync(join(home, 'azurite.json'), 'utf8'))).toMatchObject({
      stopping: true,
    });
    const ownerExited = new Promise((resolve) => owner.child.once('exit', resolve));
    owner.child.kill('SIGKILL');
    await ownerExited;

    const opening = ensureEmbeddedAzurite(home);
    await sleep(1000);
    process.kill(owner.azuritePid, 'SIGCONT');
    const handle = await opening;
    azuritePids.add(handle.pid);

    expect(handle.pid).not.toBe(owner.azuritePid);
    expect(await processExited(owner.azuritePid)).toBe(true);
    const blobs = BlobServiceClient.fromConnectionString(handle.connectionString);
    await blobs.getContainerClient('after-stop').createIfNotExists();
    await handle.stop();
  });
});
