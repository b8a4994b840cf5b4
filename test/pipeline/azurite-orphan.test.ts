import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, describe, expect, it } from 'vitest';

import { azuriteConnectionString } from '../../pipeline/azurite.js';

const AZURITE_MODULE = fileURLToPath(new URL('../../pipeline/azurite.ts', import.meta.url));

describe('the embedded Azurite after the command that started it is killed', () => {
  const home = mkdtempSync(join(tmpdir(), 'phi-ingest-orphan-'));
  let azuritePid = 0;

  afterAll(() => {
    if (azuritePid > 0) {
      try {
        process.kill(azuritePid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    rmSync(home, { recursive: true, force: true });
  });

  it('keeps serving the next command', async () => {
    const script = join(home, 'start.mts');
    writeFileSync(
      script,
      `const { ensureEmbeddedAzurite } = await import(${JSON.stringify(AZURITE_MODULE)});\n` +
        `await ensureEmbeddedAzurite(${JSON.stringify(home)});\n` +
        `console.log('ready');\nsetInterval(() => {}, 1000);\n`,
    );
    const parent = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      parent.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString('utf8').includes('ready')) {
          resolve();
        }
      });
      parent.once('exit', () => reject(new Error('the starting process exited early')));
    });
    const exited = new Promise((resolve) => parent.once('exit', resolve));
    parent.kill('SIGKILL');
    await exited;

    const state = JSON.parse(readFileSync(join(home, 'azurite.json'), 'utf8')) as {
      pid: number;
      blob: number;
      queue: number;
      table: number;
    };
    azuritePid = state.pid;
    const blobs = BlobServiceClient.fromConnectionString(azuriteConnectionString(state));
    // Before --silent, the first request made Azurite log to the closed pipe and die.
    for (let round = 0; round < 3; round++) {
      await blobs.getContainerClient(`round-${round}`).createIfNotExists();
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const names: string[] = [];
    for await (const container of blobs.listContainers()) {
      names.push(container.name);
    }
    expect(names).toEqual(['round-0', 'round-1', 'round-2']);
    expect(() => process.kill(state.pid, 0)).not.toThrow();
  });
});
