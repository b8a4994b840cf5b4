import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { openApp, type App } from '../../pipeline/app.js';
import { startPrivateAzurite, type AzuriteHandle } from '../../pipeline/azurite.js';
import { loadConfig, type PipelineConfig } from '../../pipeline/config.js';
import { createLogger } from '../../pipeline/logger.js';
import { fromConnectionString } from '../../pipeline/storage.js';

/** A real Azurite (its own process, in memory) and an app wired to it. */
export interface TestEnvironment {
  azurite: AzuriteHandle;
  app: App;
  homeDir: string;
  /** Every log line the app wrote, as text. */
  logText(): string;
  close(): Promise<void>;
}

/**
 * Starts Azurite and opens an app against it, with a fresh key file in a temporary home.
 *
 * @param overrides - config values for this test
 */
export async function startTestEnvironment(
  overrides: Partial<PipelineConfig> = {},
): Promise<TestEnvironment> {
  const azurite = await startPrivateAzurite();
  const homeDir = mkdtempSync(join(tmpdir(), 'phi-ingest-test-'));
  const config = loadConfig(
    {},
    {
      homeDir,
      keyFile: join(homeDir, 'keys.json'),
      connectionString: azurite.connectionString,
      maxThreads: 2,
      pollIntervalMs: 100,
      queueVisibilityTimeoutSec: 30,
      ...overrides,
    },
  );

  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const log = createLogger({ level: 'debug', destination });
  const storage = fromConnectionString(azurite.connectionString);
  const app = await openApp(config, { keys: 'create', pool: true, log, storage });

  return {
    azurite,
    app,
    homeDir,
    logText: () => lines.join(''),
    close: async () => {
      await app.close();
      await azurite.stop();
      rmSync(homeDir, { recursive: true, force: true });
    },
  };
}

/**
 * Lists a container's blobs with their etags, so a test can tell rewritten blobs from untouched
 * ones.
 *
 * @param env - the test environment
 * @param container - the container name
 */
export async function listBlobs(
  env: TestEnvironment,
  container: string,
): Promise<Map<string, string>> {
  const blobs = new Map<string, string>();
  for await (const blob of env.app.storage.blobService
    .getContainerClient(container)
    .listBlobsFlat()) {
    blobs.set(blob.name, blob.properties.etag ?? '');
  }
  return blobs;
}
