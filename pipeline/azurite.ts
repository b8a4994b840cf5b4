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
const AZURITE_AUTOSAVE_INTERVAL_MS = 5000;

/** What Azurite prints once each service has closed and saved its metadata. */
const CLOSED_LINES = ['Blob', 'Queue', 'Table'].map(
  (service) => `Azurite ${service} service successfully closed`,
);

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
  /**
   * File for Azurite's standard output and error, created 0600. Omitted, they are pipes to this
   * process, and Azurite cannot outlive it: its next write to them would end it.
   */
  logPath?: string;
}

interface AzuriteState {
  pid: number;
  blob: number;
  queue: number;
  table: number;
  /** The phi-ingest process that stops it when it exits. */
  ownerPid?: number;
  /** Where its output goes; absent in a state file written before it went to a log file. */
  output?: 'log-file';
  /** Set by its owner, under the start lock, before it sends SIGTERM. */
  stopping?: boolean;
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
  const lockPath = join(homeDir, 'azurite.lock');
  const logPath = join(homeDir, 'azurite.log');
  // The inbound container holds files as feeds dropped them, and Azurite reclaims the extents of
  // deleted blobs on its own schedule: only this user may read the folder.
  mkdirSync(location, { recursive: true, mode: 0o700 });
  chmodSync(homeDir, 0o700);
  chmodSync(location, 0o700);

  // Stopping holds the start lock until Azurite has exited, so no command starts a second one on
  // the data folder while the first is still saving its metadata. It marks the state file
  // `stopping` first: a command that took the lock over from a stopper that died mid-stop must
  // wait for that Azurite to exit, not adopt it.
  const stopUnderLock = async (state: AzuriteState, stop: () => Promise<void>): Promise<void> => {
    const stopLockFd = await acquireStartLock(lockPath);
    try {
      writeFileSync(statePath, JSON.stringify({ ...state, stopping: true }), { mode: 0o600 });
      await stop();
    } finally {
      rmSync(statePath, { force: true });
      closeSync(stopLockFd);
      rmSync(lockPath, { force: true });
    }
  };

  // The state is read under the lock, even to use an Azurite another command runs: read outside
  // it, a command could see a live owner that is already stopping Azurite, and use it as it shuts
  // down. Under the lock, it waits for that stop to finish and then starts a fresh one.
  const lockFd = await acquireStartLock(lockPath);
  try {
    const running = await readLiveState(statePath);
    if (running?.stopping) {
      await waitForStopped(running.pid);
      rmSync(statePath, { force: true });
    } else if (running && ownerAlive(running)) {
      // Limitation: its owner stops it when the owner exits, even while this command uses it;
      // this command's storage calls then fail with connection errors.
      return handleFor(running, false, async () => {});
    } else if (running) {
      // Its owner was killed before it could stop it: this process takes it over and stops it
      // when it exits, rather than leave it running for good. Its output goes to the log file,
      // so the owner's death did not touch it, and it saves everything when it is stopped.
      const adopted: AzuriteState = { ...running, ownerPid: process.pid };
      writeFileSync(statePath, JSON.stringify(adopted), { mode: 0o600 });
      return handleFor(adopted, true, () =>
        stopUnderLock(adopted, () => stopAdopted(adopted, logPath)),
      );
    }
    const started = await startAzurite({ location, logPath });
    const state: AzuriteState = {
      pid: started.child.pid ?? 0,
      ...started.ports,
      ownerPid: process.pid,
      output: 'log-file',
    };
    writeFileSync(statePath, JSON.stringify(state), { mode: 0o600 });
    return handleFor(state, true, () =>
      stopUnderLock(state, async () => {
        if (!(await stopChild(started.child))) {
          throw notStoppedCleanly();
        }
      }),
    );
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
  return handleFor(state, true, async () => {
    const clean = await stopChild(started.child);
    if (!clean && options.location) {
      throw notStoppedCleanly();
    }
  });
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
async function stopChild(child: ChildProcess): Promise<boolean> {
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
 * Stops an Azurite started by a process that has since died. Not being its parent, this process
 * cannot see its exit code: its shutdown lines in the log file tell whether it saved everything.
 */
async function stopAdopted(state: AzuriteState, logPath: string): Promise<void> {
  if (state.output !== 'log-file') {
    // Limitation: one started by a version that piped its output to its owner dies on its first
    // shutdown line to the dead owner, before it saves; it is given one autosave first instead.
    await sleep(AZURITE_AUTOSAVE_INTERVAL_MS + 1000);
    await stopProcess(state.pid);
    return;
  }
  const exitedByItself = await stopProcess(state.pid);
  let output = '';
  try {
    output = readFileSync(logPath, 'utf8');
  } catch {
    // Removed by hand: nothing tells a clean shutdown apart.
  }
  if (!exitedByItself || !CLOSED_LINES.every((line) => output.includes(line))) {
    throw notStoppedCleanly();
  }
}

/**
 * Waits for an Azurite whose owner died while stopping it. It already has its SIGTERM and is
 * saving; a second one would end it at once (it handles only the first), so it is only killed
 * if it has not exited after `STOP_TIMEOUT_MS`.
 */
async function waitForStopped(pid: number): Promise<void> {
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

function notStoppedCleanly(): PipelineError {
  return new PipelineError(
    'STORAGE_UNAVAILABLE',
    'The embedded Azurite did not shut down cleanly; changes from its last 5 s may not be saved',
  );
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

/**
 * Stops a process that is not this one's child with SIGTERM, and kills it if it has not exited
 * after `STOP_TIMEOUT_MS`.
 *
 * @returns whether it exited before it had to be killed
 */
async function stopProcess(pid: number): Promise<boolean> {
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
