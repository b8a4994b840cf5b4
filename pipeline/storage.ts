import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { TableClient, type TableEntityResult } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';

import { ensureEmbeddedAzurite, type AzuriteHandle } from './azurite.js';
import type { PipelineConfig } from './config.js';
import { PipelineError } from './errors.js';

/** Container, queue and table names. Fixed, so every orchestrator of an account agrees. */
export const STORAGE_NAMES = {
  /** Where feeds drop files, under `<feedId>/`. Plaintext as delivered; deleted once archived. */
  inboundContainer: 'inbound',
  /** The encrypted raw input of every batch, for reprocessing. */
  archiveContainer: 'archive',
  /** Encrypted, partitioned NDJSON output. */
  outputContainer: 'output',
  /** Encrypted reject parts: the HL7 messages, resources or lines that could not be processed. */
  rejectsContainer: 'rejects',
  /** Encrypted copies of whole files that could not be processed. */
  quarantineContainer: 'quarantine',
  /** Batch manifests (JSON, no PHI). */
  manifestsContainer: 'manifests',
  /** One empty blob per batch being written, leased by the worker writing it (batch-lock.ts). */
  locksContainer: 'locks',
  inboundQueue: 'inbound',
  poisonQueue: 'inbound-poison',
  /** One row per batch: partition key feed, row key batch id. */
  batchesTable: 'batches',
  /** One row per source blob: which batch it became, for duplicate queue messages. */
  sourcesTable: 'sources',
  /** Reprocess runs and the batches each planned, so an interrupted run resumes. */
  reprocessRunsTable: 'reprocessruns',
  /** One row per batch: its batch key wrapped by the KEK, or a tombstone once shredded. */
  batchKeysTable: 'batchkeys',
  /** Signed hash chains: manifests per feed, and audit events (see docs/audit.md). */
  chainTable: 'chain',
} as const;

export interface Storage {
  /** `azurite` for the embedded emulator, `connection-string` or `identity` otherwise. */
  kind: 'azurite' | 'connection-string' | 'identity';
  blobService: BlobServiceClient;
  inbound: ContainerClient;
  archive: ContainerClient;
  output: ContainerClient;
  rejects: ContainerClient;
  quarantine: ContainerClient;
  manifests: ContainerClient;
  locks: ContainerClient;
  inboundQueue: QueueClient;
  poisonQueue: QueueClient;
  batchesTable: TableClient;
  sourcesTable: TableClient;
  reprocessRunsTable: TableClient;
  batchKeysTable: TableClient;
  chainTable: TableClient;
  /** Stops the embedded Azurite if this process started it. */
  close(): Promise<void>;
}

/**
 * Opens the storage account the config points at: a connection string, an account name with
 * `@azure/identity`, or else the embedded Azurite of the home folder.
 *
 * @param config - the loaded pipeline config
 * @param credential - a token credential for the account-name case; DefaultAzureCredential if absent
 */
export async function openStorage(
  config: Pick<PipelineConfig, 'connectionString' | 'storageAccount' | 'homeDir'>,
  credential?: TokenCredential,
): Promise<Storage> {
  if (config.connectionString) {
    try {
      return fromConnectionString(config.connectionString, 'connection-string');
    } catch (cause) {
      // The SDK's message may quote the string, which holds the account key.
      throw new PipelineError(
        'CONFIG_INVALID',
        'PHI_INGEST_STORAGE_CONNECTION_STRING is not a valid storage connection string',
        { cause },
      );
    }
  }
  if (config.storageAccount) {
    return fromCredential(config.storageAccount, credential ?? (await defaultCredential()));
  }
  const azurite: AzuriteHandle = await ensureEmbeddedAzurite(config.homeDir);
  const storage = fromConnectionString(azurite.connectionString, 'azurite');
  return { ...storage, close: () => azurite.stop() };
}

/**
 * Creates every container, queue and table the pipeline uses; existing ones are kept.
 *
 * @param storage - the opened storage
 */
export async function ensureStorageLayout(storage: Storage): Promise<void> {
  const containers = [
    storage.inbound,
    storage.archive,
    storage.output,
    storage.rejects,
    storage.quarantine,
    storage.manifests,
    storage.locks,
  ];
  await Promise.all([
    ...containers.map((container) => container.createIfNotExists()),
    storage.inboundQueue.createIfNotExists(),
    storage.poisonQueue.createIfNotExists(),
    storage.batchesTable.createTable(),
    storage.sourcesTable.createTable(),
    storage.reprocessRunsTable.createTable(),
    storage.batchKeysTable.createTable(),
    storage.chainTable.createTable(),
  ]);
}

/**
 * Opens storage from a connection string (tests use this with their own Azurite).
 *
 * @param connectionString - a shared-key connection string
 * @param kind - how the caller got it, reported by `status`
 */
export function fromConnectionString(
  connectionString: string,
  kind: Storage['kind'] = 'connection-string',
): Storage {
  const blobService = BlobServiceClient.fromConnectionString(connectionString);
  const queueService = QueueServiceClient.fromConnectionString(connectionString);
  // Azurite serves tables over plain http on loopback; real accounts use https.
  const tableOptions = { allowInsecureConnection: connectionString.includes('http://127.0.0.1') };
  const table = (name: string) =>
    TableClient.fromConnectionString(connectionString, name, tableOptions);
  return assemble(kind, blobService, queueService, table);
}

function fromCredential(account: string, credential: TokenCredential): Storage {
  const blobService = new BlobServiceClient(`https://${account}.blob.core.windows.net`, credential);
  const queueService = new QueueServiceClient(
    `https://${account}.queue.core.windows.net`,
    credential,
  );
  const table = (name: string) =>
    new TableClient(`https://${account}.table.core.windows.net`, name, credential);
  return assemble('identity', blobService, queueService, table);
}

function assemble(
  kind: Storage['kind'],
  blobService: BlobServiceClient,
  queueService: QueueServiceClient,
  table: (name: string) => TableClient,
): Storage {
  const container = (name: string) => blobService.getContainerClient(name);
  return {
    kind,
    blobService,
    inbound: container(STORAGE_NAMES.inboundContainer),
    archive: container(STORAGE_NAMES.archiveContainer),
    output: container(STORAGE_NAMES.outputContainer),
    rejects: container(STORAGE_NAMES.rejectsContainer),
    quarantine: container(STORAGE_NAMES.quarantineContainer),
    manifests: container(STORAGE_NAMES.manifestsContainer),
    locks: container(STORAGE_NAMES.locksContainer),
    inboundQueue: queueService.getQueueClient(STORAGE_NAMES.inboundQueue),
    poisonQueue: queueService.getQueueClient(STORAGE_NAMES.poisonQueue),
    batchesTable: table(STORAGE_NAMES.batchesTable),
    sourcesTable: table(STORAGE_NAMES.sourcesTable),
    reprocessRunsTable: table(STORAGE_NAMES.reprocessRunsTable),
    batchKeysTable: table(STORAGE_NAMES.batchKeysTable),
    chainTable: table(STORAGE_NAMES.chainTable),
    close: async () => {},
  };
}

async function defaultCredential(): Promise<TokenCredential> {
  // Loaded only when a real account is configured: it may probe the instance metadata address.
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}

/**
 * Reads one table entity, or `undefined` when there is none (a 404); other errors propagate.
 *
 * @param table - the table
 * @param partitionKey - the entity's partition key
 * @param rowKey - the entity's row key
 */
export async function getEntityIfExists<T extends object>(
  table: TableClient,
  partitionKey: string,
  rowKey: string,
): Promise<TableEntityResult<T> | undefined> {
  try {
    return await table.getEntity<T>(partitionKey, rowKey);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) {
      return undefined;
    }
    throw error;
  }
}
