import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { PipelineError } from './errors.js';

/** Azurite's well-known development account; it is public and grants nothing off this machine. */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const START_TIMEOUT_MS = 30_000;

export interface AzuriteHandle {
  connectionString: string;
  ports: { blob: number; queue: number; table: number };
  /** Process id of the Azurite process (the benchmark reads its CPU time). */
  pid: number;
  /** True when this process started Azurite and stops it in `stop()`. */
  owned: boolean;
  stop(): Promise<void>;
}

export interface StartAzuriteOptions {
  /** Data folder; omitted means in-memory persistence (tests). */
  location?: string;
}

interface AzuriteState {
  pid: number;
  blob: number;
  queue: number;
  table: number;
  /** The phi-ingest process that stops it when it exits. */
  ownerPid?: number;
}

/**
 * Uses the embedded Azurite of a home folder: the one another phi-ingest process already runs
 * there, or a new one that lives as long as this process and is stopped by `stop()`. Two
 * Azurite processes must never share a data folder, so a state file records the running one.
 *
 * @param homeDir - the phi-ingest home folder; data goes to `<homeDir>/azurite`
 */
export async function ensureEmbeddedAzurite(homeDir: string): Promise<AzuriteHandle> {
  const location = join(homeDir, 'azurite');
  const statePath = join(homeDir, 'azurite.json');
  // The inbound container holds files as feeds dropped them, and Azurite reclaims the extents of
  // deleted blobs on its own schedule: only this user may read the folder.
  mkdirSync(location, { recursive: true, mode: 0o700 });
  chmodSync(homeDir, 0o700);
  chmodSync(location, 0o700);

  const running = await readLiveState(statePath);
  if (running && ownerAlive(running)) {
    return handleFor(running, false, async () => {});
  }

  const lockPath = join(homeDir, 'azurite.lock');
  const lockFd = await acquireStartLock(lockPath);
  try {
    const raced = await readLiveState(statePath);
    if (raced && ownerAlive(raced)) {
      return handleFor(raced, false, async () => {});
    }
    if (raced) {
      // Its owner was killed before it could stop it: this process takes it over and stops it
      // when it exits, rather than leave it running for good.
      const adopted: AzuriteState = { ...raced, ownerPid: process.pid };
      writeFileSync(statePath, JSON.stringify(adopted), { mode: 0o600 });
      return handleFor(adopted, true, async () => {
        rmSync(statePath, { force: true });
        await stopProcess(adopted.pid);
      });
    }
    const started = await startAzurite({ location });
    const state: AzuriteState = {
      pid: started.child.pid ?? 0,
      ...started.ports,
      ownerPid: process.pid,
    };
    writeFileSync(statePath, JSON.stringify(state), { mode: 0o600 });
    return handleFor(state, true, async () => {
      rmSync(statePath, { force: true });
      await stopChild(started.child);
    });
  } finally {
    closeSync(lockFd);
    rmSync(lockPath, { force: true });
  }
}

// A state file from before owners were recorded counts as owned by someone alive.
function ownerAlive(state: AzuriteState): boolean {
  return state.ownerPid === undefined || isAlive(state.ownerPid);
}

/**
 * Starts a private Azurite child process on free loopback ports.
 *
 * @param options - a data folder, or none for in-memory persistence
 */
export async function startPrivateAzurite(
  options: StartAzuriteOptions = {},
): Promise<AzuriteHandle> {
  const started = await startAzurite(options);
  const state = { pid: started.child.pid ?? 0, ...started.ports };
  return handleFor(state, true, () => stopChild(started.child));
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

function handleFor(state: AzuriteState, owned: boolean, stop: () => Promise<void>): AzuriteHandle {
  const ports = { blob: state.blob, queue: state.queue, table: state.table };
  return { connectionString: azuriteConnectionString(ports), ports, pid: state.pid, owned, stop };
}

async function startAzurite(
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
    // No access log: once the command that started it is gone (killed, say), a write to the
    // closed pipe would end Azurite on the next request, in the middle of the next command.
    '--silent',
  ];
  if (options.location) {
    args.push('--location', options.location);
  } else {
    args.push('--inMemoryPersistence');
  }

  // Spawned with node directly: killing an npx wrapper would orphan the real server.
  // Its own process group: Ctrl-C in a terminal signals the whole foreground group, and the
  // orchestrator must be able to finish its work in flight before it stops Azurite itself.
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const ports: Partial<Record<'blob' | 'queue' | 'table', number>> = {};

  return new Promise((resolvePorts, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new PipelineError('AZURITE_START_FAILED', 'Azurite did not start within 30 s'));
    }, START_TIMEOUT_MS);

    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const pattern = /Azurite (Blob|Queue|Table) service is successfully listening at \S+:(\d+)/g;
      for (const match of output.matchAll(pattern)) {
        ports[match[1].toLowerCase() as 'blob' | 'queue' | 'table'] = Number(match[2]);
      }
      if (ports.blob && ports.queue && ports.table) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        // Keep draining so a full pipe never blocks Azurite; its access log is not kept.
        child.stdout?.resume();
        child.stderr?.resume();
        resolvePorts({
          child,
          ports: { blob: ports.blob, queue: ports.queue, table: ports.table },
        });
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new PipelineError(
          'AZURITE_START_FAILED',
          `Azurite exited with code ${code} while starting`,
        ),
      );
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function readLiveState(statePath: string): Promise<AzuriteState | undefined> {
  let state: AzuriteState;
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8')) as AzuriteState;
  } catch {
    return undefined;
  }
  if (!isAlive(state.pid) || !(await portOpen(state.blob)) || !(await portOpen(state.queue))) {
    rmSync(statePath, { force: true });
    return undefined;
  }
  return state;
}

/**
 * Takes the lock on starting the home's Azurite. The lock file holds its taker's pid; a process
 * that finds it held by a live process waits for it (two commands started together must end up
 * with one Azurite), and one held by a dead process, or for longer than a start can take, is
 * taken over.
 */
async function acquireStartLock(lockPath: string): Promise<number> {
  const deadline = Date.now() + START_TIMEOUT_MS + 5000;
  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      return fd;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
    }
    if (lockIsStale(lockPath) || Date.now() > deadline) {
      rmSync(lockPath, { force: true });
      continue;
    }
    await sleep(100);
  }
}

function lockIsStale(lockPath: string): boolean {
  let text: string;
  let ageMs: number;
  try {
    text = readFileSync(lockPath, 'utf8');
    ageMs = Date.now() - statSync(lockPath).mtimeMs;
  } catch {
    // Gone since: not stale, the next try takes it.
    return false;
  }
  const holder = Number(text);
  if (text === '' || !Number.isInteger(holder) || holder <= 0) {
    // Its taker may be between creating it and writing its pid.
    return ageMs > 2000;
  }
  return !isAlive(holder);
}

async function stopProcess(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 5000;
  while (isAlive(pid) && Date.now() < deadline) {
    await sleep(100);
  }
  if (isAlive(pid)) {
    process.kill(pid, 'SIGKILL');
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}
