import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';

import { z } from 'zod';

import { describeLimit } from '../transforms/schema-issues.js';
import { PipelineError } from './errors.js';

/** Settings as the pipeline uses them, read once at startup. */
export interface PipelineConfig {
  /** Folder for local state: embedded Azurite data, the local key file. */
  homeDir: string;
  /** Shared-key connection string; when absent and no account URL is set, embedded Azurite. */
  connectionString?: string;
  /** Storage account name for `@azure/identity` (DefaultAzureCredential) sign-in. */
  storageAccount?: string;
  keyFile: string;
  /** Azure Key Vault key (URL without version) that wraps batch keys; unset means the key file. */
  keyVaultKeyUrl?: string;
  /** Who audit events name; the OS user when unset. */
  operator?: string;
  /** JSON file of per-feed settings; absent means every feed uses the defaults. */
  feedsFile: string;
  queueVisibilityTimeoutSec: number;
  maxAttempts: number;
  concurrentFiles: number;
  maxThreads: number;
  receiveBatchSize: number;
  pollIntervalMs: number;
  maxFileBytes: number;
  /** Bytes of a file read and held at a time; a file is processed window by window. */
  windowBytes: number;
  partMaxRecords: number;
  taskMaxRecords: number;
  acceptBatchCountMismatch: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** Every default in one place. */
export const DEFAULTS = {
  /** @default '.phi-ingest' under the working directory */
  homeDir: '.phi-ingest',
  /** @default 60 — how long a claimed queue message stays invisible before renewal */
  queueVisibilityTimeoutSec: 60,
  /** @default 5 — dequeue count after which a queue message goes to the poison queue */
  maxAttempts: 5,
  /** @default 4 — files processed at once by one orchestrator */
  concurrentFiles: 4,
  /** @default os.availableParallelism() */
  maxThreads: availableParallelism(),
  /** @default 16 — queue messages asked for per receive call (Azure caps it at 32) */
  receiveBatchSize: 16,
  /** @default 1000 — wait between receive calls when the queue is empty */
  pollIntervalMs: 1000,
  /** @default 268435456 (256 MiB) — larger files are quarantined as FILE_TOO_LARGE */
  maxFileBytes: 256 * 1024 * 1024,
  /** @default 8388608 (8 MiB) — bytes of a file read and held at a time (docs/performance.md) */
  windowBytes: 8 * 1024 * 1024,
  /** @default 100000 — records per output part before a new part starts */
  partMaxRecords: 100_000,
  /** @default 500 — HL7 messages or NDJSON lines per worker task */
  taskMaxRecords: 500,
  /** @default false — quarantine HL7 batch files whose BTS-1 or FTS-1 count is wrong */
  acceptBatchCountMismatch: false,
  /** @default 'info' */
  logLevel: 'info',
} as const;

// min(1) rather than positive(): the message then names the limit as `must be at least 1`.
const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);
const flag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

const envSchema = z.object({
  PHI_INGEST_HOME: z.string().min(1).optional(),
  PHI_INGEST_STORAGE_CONNECTION_STRING: z.string().min(1).optional(),
  PHI_INGEST_STORAGE_ACCOUNT: z
    .string()
    .regex(/^[a-z0-9]{3,24}$/)
    .optional(),
  PHI_INGEST_KEY_FILE: z.string().min(1).optional(),
  PHI_INGEST_KEY_VAULT_KEY_URL: z.string().url().optional(),
  PHI_INGEST_OPERATOR: z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/)
    .optional(),
  PHI_INGEST_FEEDS_FILE: z.string().min(1).optional(),
  PHI_INGEST_QUEUE_VISIBILITY_TIMEOUT_SEC: positiveInt(7 * 24 * 3600).optional(),
  PHI_INGEST_MAX_ATTEMPTS: positiveInt(100).optional(),
  PHI_INGEST_CONCURRENT_FILES: positiveInt(256).optional(),
  PHI_INGEST_MAX_THREADS: positiveInt(256).optional(),
  PHI_INGEST_RECEIVE_BATCH_SIZE: positiveInt(32).optional(),
  PHI_INGEST_POLL_INTERVAL_MS: positiveInt(600_000).optional(),
  PHI_INGEST_MAX_FILE_BYTES: positiveInt(2 ** 31 - 1).optional(),
  PHI_INGEST_WINDOW_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(2 ** 30)
    .optional(),
  PHI_INGEST_PART_MAX_RECORDS: positiveInt(10_000_000).optional(),
  PHI_INGEST_TASK_MAX_RECORDS: positiveInt(100_000).optional(),
  PHI_INGEST_ACCEPT_BATCH_COUNT_MISMATCH: flag.optional(),
  PHI_INGEST_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .optional(),
});

/** The environment variables `loadConfig` reads; anything else with the prefix is an error. */
export const CONFIG_ENV_NAMES = Object.keys(envSchema.shape);

/**
 * Reads and checks every setting at once and returns a frozen config. Every bad variable is
 * reported together, by name, never by value (a connection string is a secret).
 *
 * @param env - the environment, `process.env` by default
 * @param overrides - values set by CLI flags, which win over the environment
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<PipelineConfig> = {},
): Readonly<PipelineConfig> {
  const problems: string[] = [];
  for (const name of Object.keys(env)) {
    if (name.startsWith('PHI_INGEST_') && !CONFIG_ENV_NAMES.includes(name)) {
      if (name !== 'PHI_INGEST_TEST_FAILPOINT') {
        problems.push(`${name} is not a known setting`);
      }
    }
  }

  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.')} ${describeIssue(issue)}`);
    }
  }
  if (problems.length > 0 || !parsed.success) {
    throw new PipelineError('CONFIG_INVALID', `Invalid configuration: ${problems.join('; ')}`);
  }

  const values = parsed.data;
  const homeDir = resolve(overrides.homeDir ?? values.PHI_INGEST_HOME ?? DEFAULTS.homeDir);
  // The default feeds file may be absent (every feed on defaults); one named on purpose may not,
  // or a typo in its path would silently drop every feed's settings.
  const namedFeedsFile = values.PHI_INGEST_FEEDS_FILE;
  if (namedFeedsFile !== undefined && !existsSync(resolve(homeDir, namedFeedsFile))) {
    throw new PipelineError(
      'CONFIG_INVALID',
      'Invalid configuration: PHI_INGEST_FEEDS_FILE names a file that does not exist',
    );
  }
  const config: PipelineConfig = {
    homeDir,
    connectionString: values.PHI_INGEST_STORAGE_CONNECTION_STRING,
    storageAccount: values.PHI_INGEST_STORAGE_ACCOUNT,
    keyFile: resolve(homeDir, values.PHI_INGEST_KEY_FILE ?? 'keys.json'),
    keyVaultKeyUrl: values.PHI_INGEST_KEY_VAULT_KEY_URL,
    operator: values.PHI_INGEST_OPERATOR,
    feedsFile: resolve(homeDir, values.PHI_INGEST_FEEDS_FILE ?? 'feeds.json'),
    queueVisibilityTimeoutSec:
      values.PHI_INGEST_QUEUE_VISIBILITY_TIMEOUT_SEC ?? DEFAULTS.queueVisibilityTimeoutSec,
    maxAttempts: values.PHI_INGEST_MAX_ATTEMPTS ?? DEFAULTS.maxAttempts,
    concurrentFiles: values.PHI_INGEST_CONCURRENT_FILES ?? DEFAULTS.concurrentFiles,
    maxThreads: values.PHI_INGEST_MAX_THREADS ?? DEFAULTS.maxThreads,
    receiveBatchSize: values.PHI_INGEST_RECEIVE_BATCH_SIZE ?? DEFAULTS.receiveBatchSize,
    pollIntervalMs: values.PHI_INGEST_POLL_INTERVAL_MS ?? DEFAULTS.pollIntervalMs,
    maxFileBytes: values.PHI_INGEST_MAX_FILE_BYTES ?? DEFAULTS.maxFileBytes,
    windowBytes: values.PHI_INGEST_WINDOW_BYTES ?? DEFAULTS.windowBytes,
    partMaxRecords: values.PHI_INGEST_PART_MAX_RECORDS ?? DEFAULTS.partMaxRecords,
    taskMaxRecords: values.PHI_INGEST_TASK_MAX_RECORDS ?? DEFAULTS.taskMaxRecords,
    acceptBatchCountMismatch:
      values.PHI_INGEST_ACCEPT_BATCH_COUNT_MISMATCH ?? DEFAULTS.acceptBatchCountMismatch,
    logLevel: values.PHI_INGEST_LOG_LEVEL ?? DEFAULTS.logLevel,
    ...overrides,
  };
  config.homeDir = homeDir;
  return Object.freeze(config);
}

/** Describes a zod issue without quoting the received value; limits come from the schema. */
function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      // Numbers are read from text, so a wrong type here is text that is not a number.
      return issue.expected === 'number' || issue.expected === 'int'
        ? 'is not a whole number'
        : 'has the wrong type';
    case 'too_big':
    case 'too_small':
      return describeLimit(issue);
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return 'has the wrong format';
    default:
      return 'is invalid';
  }
}
