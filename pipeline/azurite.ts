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
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  AZURITE_AUTOSAVE_INTERVAL_MS,
  azuriteConnectionString,
  CLOSED_LINES,
  isAlive,
  portOpen,
  START_TIMEOUT_MS,
  startAzurite,
  stopChild,
  stopProcess,
  waitForStopped,
  type StartAzuriteOptions,
} from './azurite-process.js';
import { PipelineError } from './errors.js';

export { azuriteConnectionString, type StartAzuriteOptions } from './azurite-process.js';

export interface AzuriteHandle {
  connectionString: string;
  ports: { blob: number; queue: number; table: number };
  /** Process id of the Azurite process (the benchmark reads its CPU time). */
  pid: number;
  /** True when this process started Azurite and stops it in `stop()`. */
  owned: boolean;
  stop(): Promise<void>;
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

function handleFor(state: AzuriteState, owned: boolean, stop: () => Promise<void>): AzuriteHandle {
  const ports = { blob: state.blob, queue: state.queue, table: state.table };
  return { connectionString: azuriteConnectionString(ports), ports, pid: state.pid, owned, stop };
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
