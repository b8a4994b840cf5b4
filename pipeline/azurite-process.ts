import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { PipelineError } from './errors.js';

/*
 * The Azurite process itself: starting it on free loopback ports, reading its ports from its
 * output, and stopping it so that it saves its metadata. Which Azurite a home folder uses, and
 * who stops it, is `azurite.ts`.
 */

/** Azurite's well-known development account; it is public and grants nothing off this machine. */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export const START_TIMEOUT_MS = 30_000;

/**
 * How long a stopped Azurite gets to close its servers and save its metadata before it is killed.
 * Shorter than a start lock's wait, so a command waiting for the lock never takes it mid-save.
 */
const STOP_TIMEOUT_MS = 20_000;

/**
 * Azurite keeps blob, queue and table metadata in LokiJS databases in memory and saves the ones
 * that changed every 5 s (`autosaveInterval` in its Loki*MetadataStore) and when it shuts down
 * cleanly: a killed Azurite loses what changed since the last save.
 */
export const AZURITE_AUTOSAVE_INTERVAL_MS = 5000;

/** What Azurite prints once each service has closed and saved its metadata. */
export const CLOSED_LINES = ['Blob', 'Queue', 'Table'].map(
  (service) => `Azurite ${service} service successfully closed`,
);

export interface StartAzuriteOptions {
  /** Data folder; omitted means in-memory persistence (tests). */
  location?: string;
  /**
   * File for Azurite's standard output and error, created 0600. Omitted, they are pipes to this
   * process, and Azurite cannot outlive it: its next write to them would end it.
   */
  logPath?: string;
}

/** Builds the connection string for Azurite's development account on the given ports. */
export function azuriteConnectionString(ports: {
  blob: number;
  queue: number;
  table: number;
}): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${DEV_ACCOUNT}`,
    `AccountKey=${DEV_KEY}`,
    `BlobEndpoint=http://127.0.0.1:${ports.blob}/${DEV_ACCOUNT}`,
    `QueueEndpoint=http://127.0.0.1:${ports.queue}/${DEV_ACCOUNT}`,
    `TableEndpoint=http://127.0.0.1:${ports.table}/${DEV_ACCOUNT}`,
  ].join(';');
}

export async function startAzurite(
  options: StartAzuriteOptions,
): Promise<{ child: ChildProcess; ports: { blob: number; queue: number; table: number } }> {
  const require = createRequire(import.meta.url);
  const entry = join(dirname(require.resolve('azurite/package.json')), 'dist/src/azurite.js');
  const args = [
    entry,
    '--blobPort',
    '0',
    '--queuePort',
    '0',
    '--tablePort',
    '0',
    '--blobHost',
    '127.0.0.1',
    '--queueHost',
    '127.0.0.1',
    '--tableHost',
    '127.0.0.1',
    // Azurite would otherwise send telemetry off the machine, and reject the SDKs' API version.
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
    // No access log: it would name every blob, and blob names carry content hashes.
    '--silent',
  ];
  if (options.location) {
    args.push('--location', options.location);
  } else {
    args.push('--inMemoryPersistence');
  }

  // Azurite writes its start and shutdown lines to standard output. Given pipes to this process,
  // it would outlive a kill of this process only until its next write: on SIGTERM it prints
  // before it saves, gets EPIPE, and dies with the changes since its last autosave unsaved.
  let logFd: number | undefined;
  if (options.logPath) {
    logFd = openSync(options.logPath, 'w', 0o600);
    chmodSync(options.logPath, 0o600);
  }

  // Spawned with node directly: killing an npx wrapper would orphan the real server.
  // Its own process group: Ctrl-C in a terminal signals the whole foreground group, and the
  // orchestrator must be able to finish its work in flight before it stops Azurite itself.
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, args, {
      stdio: logFd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', logFd, logFd],
      detached: true,
    });
  } finally {
    if (logFd !== undefined) {
      closeSync(logFd);
    }
  }

  let piped = '';
  const onData = (chunk: Buffer): void => {
    piped += chunk.toString('utf8');
  };
  child.stdout?.on('data', onData);
  const readOutput = (): string =>
    options.logPath ? readFileSync(options.logPath, 'utf8') : piped;

  let exitCode: number | null | undefined;
  child.once('exit', (code) => (exitCode = code));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const ports = portsIn(readOutput());
    if (ports) {
      child.stdout?.off('data', onData);
      // Keep draining so a full pipe never blocks Azurite; its output is not kept.
      child.stdout?.resume();
      child.stderr?.resume();
      return { child, ports };
    }
    if (exitCode !== undefined) {
      throw new PipelineError(
        'AZURITE_START_FAILED',
        `Azurite exited with code ${exitCode} while starting`,
      );
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new PipelineError('AZURITE_START_FAILED', 'Azurite did not start within 30 s');
    }
    await sleep(50);
  }
}

function portsIn(output: string): { blob: number; queue: number; table: number } | undefined {
  const ports: Partial<Record<'blob' | 'queue' | 'table', number>> = {};
  const pattern = /Azurite (Blob|Queue|Table) service is successfully listening at \S+:(\d+)/g;
  for (const match of output.matchAll(pattern)) {
    ports[match[1].toLowerCase() as 'blob' | 'queue' | 'table'] = Number(match[2]);
  }
  if (ports.blob && ports.queue && ports.table) {
    return { blob: ports.blob, queue: ports.queue, table: ports.table };
  }
  return undefined;
}

/**
 * Stops a child Azurite with SIGTERM, which makes it close its servers and save its metadata,
 * and kills it if it has not exited after `STOP_TIMEOUT_MS`.
 *
 * @returns whether it exited on its own with code 0, having saved everything
 */
export async function stopChild(child: ChildProcess): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return child.exitCode === 0;
  }
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  const code = await exited;
  clearTimeout(timer);
  return code === 0;
}

/**
 * Waits for an Azurite whose owner died while stopping it. It already has its SIGTERM and is
 * saving; a second one would end it at once (it handles only the first), so it is only killed
 * if it has not exited after `STOP_TIMEOUT_MS`.
 */
export async function waitForStopped(pid: number): Promise<void> {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (!hasExited(pid) && Date.now() < deadline) {
    await sleep(50);
  }
  if (hasExited(pid)) {
    return;
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Exited since the check.
  }
  while (!hasExited(pid) && Date.now() < deadline + 5000) {
    await sleep(50);
  }
}

/**
 * Stops a process that is not this one's child with SIGTERM, and kills it if it has not exited
 * after `STOP_TIMEOUT_MS`.
 *
 * @returns whether it exited before it had to be killed
 */
export async function stopProcess(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return true;
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (!hasExited(pid) && Date.now() < deadline) {
    await sleep(50);
  }
  if (hasExited(pid)) {
    return true;
  }
  process.kill(pid, 'SIGKILL');
  return false;
}

// An orphan's exit is reaped by pid 1; where pid 1 does not reap (some containers), the exited
// process stays a zombie that signal 0 still finds.
function hasExited(pid: number): boolean {
  if (!isAlive(pid)) {
    return true;
  }
  try {
    // The state follows the parenthesised command name: /proc/<pid>/stat in proc(5).
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}
