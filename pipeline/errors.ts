/**
 * Stable error codes of the pipeline. Branch on `code`, never on the message, and never put a
 * value from a file, a queue message body or a blob name into the message.
 */
export type PipelineErrorCode =
  | 'CONFIG_INVALID'
  | 'CLI_USAGE'
  | 'CONFIRMATION_REQUIRED'
  | 'KEY_FILE_INVALID'
  | 'KEY_FILE_PERMISSIONS'
  | 'KEY_UNKNOWN'
  | 'KEY_STORE_MISMATCH'
  | 'AZURITE_START_FAILED'
  | 'STORAGE_UNAVAILABLE'
  | 'QUEUE_MESSAGE_INVALID'
  | 'BLOB_NOT_FOUND'
  | 'BLOB_CHANGED'
  | 'WORKER_CRASHED'
  | 'WORKER_OUT_OF_MEMORY'
  | 'WORKER_FAILED'
  | 'BATCH_COUNT_INVARIANT'
  | 'BATCH_IN_PROGRESS'
  | 'MAX_ATTEMPTS_EXCEEDED'
  | 'PART_NOT_FOUND'
  | 'PART_PATH_INVALID'
  | 'DECRYPT_FAILED'
  | 'INPUT_NOT_FOUND'
  | 'NO_INPUT_FILES'
  | 'FAILPOINT'
  | 'KEY_FILE_EXISTS'
  | 'KEY_PROVIDER_FAILED'
  | 'KEY_ROTATION_UNSUPPORTED'
  | 'BATCH_KEY_NOT_FOUND'
  | 'BATCH_KEY_SHREDDED'
  | 'CHAIN_CONTENDED'
  | 'CHAIN_RECORD_TOO_LARGE'
  | 'VERIFY_FAILED'
  | 'REPROCESS_SELECTION_INVALID'
  | 'FEED_NOT_FOUND'
  | 'BATCH_NOT_FOUND'
  | 'BATCH_ID_INVALID'
  | 'BATCH_ID_AMBIGUOUS'
  | 'SOURCE_NOT_STORED'
  | 'SOURCE_HASH_MISMATCH'
  | 'METRICS_SERVER_FAILED';

export interface PipelineErrorOptions {
  /** Whether trying the same work again may succeed. */
  retryable?: boolean;
  cause?: unknown;
}

/** The one error class of the pipeline. */
export class PipelineError extends Error {
  readonly code: PipelineErrorCode;
  readonly retryable: boolean;

  constructor(code: PipelineErrorCode, message: string, options: PipelineErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'PipelineError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * Returns the stable code of any thrown value: ours, an Azure REST error (its `code`, such as
 * `BlobNotFound`, is service vocabulary and never carries data) or a generic fallback.
 */
export function errorCodeOf(error: unknown): string {
  if (error instanceof PipelineError) {
    return error.code;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Za-z_]{1,64}$/.test(code)) {
    return code;
  }
  return 'UNEXPECTED_ERROR';
}

/** Whether an error should be retried: ours say so; storage and network errors are retryable. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof PipelineError) {
    return error.retryable;
  }
  return true;
}

/**
 * Describes an error for a person without quoting it: our message when it is ours (they are
 * written never to carry values), otherwise the error's class and where it was thrown. Messages
 * from other code are left out because parsers and crypto quote their input there.
 *
 * @param error - anything thrown
 */
export function describeError(error: unknown): string {
  if (error instanceof PipelineError) {
    return `${error.code}: ${error.message}`;
  }
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number') {
    // An Azure REST error: its code is service vocabulary; its message can echo the request.
    return `STORAGE_ERROR: storage answered ${status} ${errorCodeOf(error)}`;
  }
  if ((error as { code?: unknown } | null)?.code === 'ECONNREFUSED') {
    return 'STORAGE_UNAVAILABLE: storage refused the connection; is the account or Azurite running?';
  }
  const name = error instanceof Error ? error.name : typeof error;
  const frames =
    error instanceof Error
      ? (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line))
      : [];
  const where = frames
    .slice(0, 3)
    .map((line) => line.trim())
    .join(' | ');
  return `${errorCodeOf(error)}: unexpected ${name}${where ? ` (${where})` : ''}`;
}
