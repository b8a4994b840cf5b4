import { PipelineError } from './errors.js';

/**
 * Fault injection for the crash-and-retry tests. `PHI_INGEST_TEST_FAILPOINT=<name>` makes the
 * process kill itself with SIGKILL at the named point, exactly as a crash would: no cleanup, no
 * finally blocks, no queue message deleted. `<name>:throw` throws a retryable error there
 * instead. Unset, this is a no-op.
 *
 * @param name - the point reached, such as `after-outputs-written`
 */
export function failpoint(name: string): void {
  const setting = process.env.PHI_INGEST_TEST_FAILPOINT;
  if (setting === name) {
    process.kill(process.pid, 'SIGKILL');
  }
  if (setting === `${name}:throw`) {
    throw new PipelineError('FAILPOINT', 'Failpoint reached', { retryable: true });
  }
}
