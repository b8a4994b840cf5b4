import { vi } from 'vitest';

import { main } from '../../pipeline/cli.js';

/** What one command printed and how it ended. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs one `phi-ingest` command in this process, through the same `main` the bin script calls
 * (a subprocess costs seconds each), with the given environment over the test's own, and
 * captures what it writes. The environment and the exit code are put back afterwards.
 *
 * @param env - variables for this command only, such as the storage connection string
 * @param args - the command line after `phi-ingest`
 */
export async function runCliInProcess(
  env: Record<string, string>,
  args: string[],
): Promise<CliResult> {
  const saved = { ...process.env };
  Object.assign(process.env, { PHI_INGEST_LOG_LEVEL: 'silent', ...env });
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += Buffer.from(chunk).toString('utf8');
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += Buffer.from(chunk).toString('utf8');
    return true;
  });
  try {
    await main(['node', 'phi-ingest', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.env = saved;
  }
  const code = process.exitCode === undefined ? 0 : Number(process.exitCode);
  process.exitCode = undefined;
  return { code, stdout, stderr };
}
