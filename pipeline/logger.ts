import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * The only fields a log line may carry: ids, counts, positions and durations. Anything else is
 * dropped before the line is written, so a stray object can never put PHI in the logs.
 */
export interface LogFields {
  feedId?: string;
  batchId?: string;
  messageId?: string;
  workerId?: string;
  messageIndex?: number;
  segmentName?: string;
  resourceType?: string;
  partitionPath?: string;
  format?: string;
  status?: string;
  errorCode?: string;
  reasonCode?: string;
  retryable?: boolean;
  attempt?: number;
  dequeueCount?: number;
  messageCount?: number;
  writtenCount?: number;
  rejectedCount?: number;
  partCount?: number;
  fileCount?: number;
  sizeBytes?: number;
  durationMs?: number;
  inFlight?: number;
  threads?: number;
  concurrentFiles?: number;
  queueName?: string;
  port?: number;
  signal?: string;
  storage?: string;
  pipelineVersion?: string;
  /** Batch version written by `reprocess` (1 is the inbound file). */
  version?: number;
  /** A reprocess run (random hex, no data). */
  runId?: string;
  batchCount?: number;
  skippedCount?: number;
  failedCount?: number;
}

const ALLOWED_FIELDS = new Set<string>([
  'feedId',
  'batchId',
  'messageId',
  'workerId',
  'messageIndex',
  'segmentName',
  'resourceType',
  'partitionPath',
  'format',
  'status',
  'errorCode',
  'reasonCode',
  'retryable',
  'attempt',
  'dequeueCount',
  'messageCount',
  'writtenCount',
  'rejectedCount',
  'partCount',
  'fileCount',
  'sizeBytes',
  'durationMs',
  'inFlight',
  'threads',
  'concurrentFiles',
  'queueName',
  'port',
  'signal',
  'storage',
  'pipelineVersion',
  'version',
  'runId',
  'batchCount',
  'skippedCount',
  'failedCount',
]);

/** A pino logger whose bindings and fields are typed by `LogFields`. */
export type PipelineLogger = Logger;

export interface CreateLoggerOptions {
  level?: string;
  /** Where lines go; standard error by default, so standard output stays for command output. */
  destination?: DestinationStream;
}

/**
 * Creates the pipeline logger: JSON lines, fixed messages, allow-listed fields. Errors are never
 * serialised (their messages may quote input); log `errorCode` instead.
 *
 * @param options - level and destination
 */
export function createLogger(options: CreateLoggerOptions = {}): PipelineLogger {
  return pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      formatters: {
        bindings: (bindings) => keepAllowed(bindings),
        log: (fields) => keepAllowed(fields),
      },
      // Second net only: the allow-list above is what keeps values out.
      redact: { paths: ['err', 'error', 'text', 'body', 'value'], remove: true },
    },
    options.destination ?? pino.destination(2),
  );
}

/** Returns a copy of `fields` holding only allow-listed keys with primitive values. */
function keepAllowed(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (!ALLOWED_FIELDS.has(key)) {
      continue;
    }
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      kept[key] = value;
    }
  }
  return kept;
}
