import { describeError } from '../errors.js';

const readerGone = new AbortController();
let watching = false;

/** Aborted once the reader of standard output has closed it, as `head` does after its lines. */
export const standardOutputClosed: AbortSignal = readerGone.signal;

/**
 * Treats EPIPE on standard output as the normal end of a pipeline (`phi-ingest audit | head`),
 * not as an error: no stack trace, and the exit code stays what the command sets (0 unless it
 * failed). Later writes are dropped, and the command finishes its work, so `decrypt` still
 * records its audit event and `verify` its outcome; `status --watch` stops on
 * `standardOutputClosed`. Any other error on standard output prints its code and sets exit
 * code 1. Calling it again does nothing.
 */
export function watchStandardOutput(): void {
  if (watching) {
    return;
  }
  watching = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') {
      readerGone.abort();
      return;
    }
    process.stderr.write(`phi-ingest: ${describeError(error)}\n`);
    process.exitCode = 1;
  });
}
