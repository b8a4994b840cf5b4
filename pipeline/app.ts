import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import type { BatchObserver } from './batch-observer.js';
import type { PipelineConfig } from './config.js';
import { loadFeedCatalog } from './feeds.js';
import { loadOrCreateKeyRing, type KeyRing } from './key-store.js';
import { createConfiguredKeyVaultProvider } from './key-vault-provider.js';
import { createLogger, type PipelineLogger } from './logger.js';
import { defaultWorkerId, Orchestrator, type RunReport } from './orchestrator.js';
import type { BatchDeps } from './process-batch.js';
import { assertKeyStoreOwnsChains } from './signed-chain.js';
import { ensureStorageLayout, openStorage, type Storage } from './storage.js';
import { createWorkerPool, type WorkerPool } from './worker-pool.js';

/** Everything a command needs, opened once and closed together. */
export interface App {
  config: Readonly<PipelineConfig>;
  storage: Storage;
  log: PipelineLogger;
  keyRing?: KeyRing;
  pool?: WorkerPool;
  close(): Promise<void>;
}

export interface OpenAppOptions {
  /**
   * Load the key file: `'create'` makes one when it is missing (run, ingest, the demo);
   * `true` requires it (reading commands: a mistyped path must not mint a new, unbacked key).
   * `status` needs no keys.
   */
  keys?: boolean | 'create';
  /** Start the worker pool. */
  pool?: boolean;
  log?: PipelineLogger;
  /** Use this storage instead of opening one from the config (tests with their own Azurite). */
  storage?: Storage;
}

/** The version written into every manifest. */
export const PIPELINE_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/**
 * Opens storage (creating its layout), the key ring and the worker pool, as a command needs.
 * A key ring that does not hold the key that signed the storage's chains fails with
 * `KEY_STORE_MISMATCH` before anything else is opened.
 *
 * @param config - the loaded config
 * @param options - which parts to open
 */
export async function openApp(
  config: Readonly<PipelineConfig>,
  options: OpenAppOptions = {},
): Promise<App> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const storage = options.storage ?? (await openStorage(config));
  try {
    await ensureStorageLayout(storage);
    const keyRing = options.keys
      ? loadOrCreateKeyRing(config.keyFile, { create: options.keys === 'create' })
      : undefined;
    if (keyRing) {
      // Before the command does anything: another home's key file would decrypt nothing and
      // sign audit events that no longer verify with this storage's own keys.
      await assertKeyStoreOwnsChains(storage, keyRing.verifyKeys);
    }
    if (keyRing && config.keyVaultKeyUrl) {
      // Batch keys are wrapped in the vault; the key file keeps the pseudonym and signing keys.
      keyRing.kekProvider = await createConfiguredKeyVaultProvider(config.keyVaultKeyUrl);
    }
    const pool = options.pool
      ? createWorkerPool(config.maxThreads, (errorCode) =>
          log.warn({ errorCode }, 'Worker thread failed'),
        )
      : undefined;
    return {
      config,
      storage,
      log,
      keyRing,
      pool,
      close: async () => {
        await pool?.destroy();
        await storage.close();
      },
    };
  } catch (error) {
    await storage.close();
    throw error;
  }
}

/**
 * Builds the orchestrator for an opened app (keys and pool required).
 *
 * @param app - the app
 * @param untilDrained - stop once the queue is empty
 * @param observer - metrics hooks, if any
 */
export function createOrchestrator(
  app: App,
  untilDrained: boolean,
  observer?: BatchObserver,
): Orchestrator {
  const config = app.config;
  const deps = createBatchDeps(app, observer);
  return new Orchestrator(deps, {
    visibilityTimeoutSec: config.queueVisibilityTimeoutSec,
    maxAttempts: config.maxAttempts,
    concurrentFiles: config.concurrentFiles,
    receiveBatchSize: config.receiveBatchSize,
    pollIntervalMs: config.pollIntervalMs,
    untilDrained,
  });
}

/**
 * Builds what processing a batch needs from an opened app (keys and pool required), reading the
 * feeds file now, so `reprocess` runs the current rules.
 *
 * @param app - the app
 * @param observer - metrics hooks, if any
 */
export function createBatchDeps(app: App, observer?: BatchObserver): BatchDeps {
  if (!app.keyRing || !app.pool) {
    throw new Error('createBatchDeps needs an app opened with keys and pool');
  }
  const config = app.config;
  return {
    observer,
    storage: app.storage,
    pool: app.pool,
    keyRing: app.keyRing,
    log: app.log,
    feeds: loadFeedCatalog(config.feedsFile, {
      acceptBatchCountMismatch: config.acceptBatchCountMismatch,
    }),
    settings: {
      maxFileBytes: config.maxFileBytes,
      windowBytes: config.windowBytes,
      partMaxRecords: config.partMaxRecords,
      taskMaxRecords: config.taskMaxRecords,
      pipelineVersion: PIPELINE_VERSION,
      configHash: configHash(config),
      workerId: defaultWorkerId(),
    },
  };
}

/** Runs the orchestrator until the queue is drained. */
export async function drain(app: App): Promise<RunReport> {
  return createOrchestrator(app, true).run();
}

/**
 * Hash of the settings that shape output, so a manifest tells which configuration made it.
 * Secrets and machine-specific values are left out.
 */
function configHash(config: Readonly<PipelineConfig>): string {
  const shaping = {
    partMaxRecords: config.partMaxRecords,
    maxFileBytes: config.maxFileBytes,
  };
  return createHash('sha256').update(JSON.stringify(shaping)).digest('hex').slice(0, 16);
}
