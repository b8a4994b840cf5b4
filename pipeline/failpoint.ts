/**
 * Crash injection for the crash-and-retry tests. `PHI_INGEST_TEST_FAILPOINT=<name>` makes the
 * process kill itself with SIGKILL when it reaches the named point, exactly as a crash would:
 * no cleanup, no finally blocks, no queue message deleted. Unset, this is a no-op.
 *
 * @param name - the point reached, such as `after-outputs-written`
 */
export function failpoint(name: string): void {
  if (process.env.PHI_INGEST_TEST_FAILPOINT === name) {
    process.kill(process.pid, 'SIGKILL');
  }
}
