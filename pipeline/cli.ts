import { Command } from 'commander';

import { PIPELINE_VERSION } from './app.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerBatchCommands } from './commands/batch.js';
import { registerDecryptCommand } from './commands/decrypt.js';
import { registerIngestCommands } from './commands/ingest.js';
import { registerReprocessCommand } from './commands/reprocess.js';
import { registerKeysCommands } from './commands/keys.js';
import { watchStandardOutput } from './commands/standard-output.js';
import { registerStatusCommand } from './commands/status.js';
import { registerVerifyCommand } from './commands/verify.js';
import { describeError } from './errors.js';

/**
 * Builds the `phi-ingest` command line. Each group of sub-commands lives in `commands/`.
 */
export function createCli(): Command {
  const program = new Command('phi-ingest')
    .description('Batch ingestion of HL7 v2 and FHIR R4 into encrypted, de-identified NDJSON')
    .version(PIPELINE_VERSION)
    .option('--home <dir>', 'folder for local state and embedded Azurite data (PHI_INGEST_HOME)')
    .showHelpAfterError();

  registerIngestCommands(program);
  registerDecryptCommand(program);
  registerKeysCommands(program);
  registerBatchCommands(program);
  registerAuditCommand(program);
  registerVerifyCommand(program);
  registerStatusCommand(program);
  registerReprocessCommand(program);
  return program;
}

/**
 * Runs the CLI and sets the exit code. Errors print their code and fixed message, never a stack
 * or a quoted value. A reader closing standard output early (`| head`) is a normal end.
 *
 * @param argv - process arguments
 */
export async function main(argv: string[] = process.argv): Promise<void> {
  watchStandardOutput();
  try {
    await createCli().parseAsync(argv);
  } catch (error) {
    process.stderr.write(`phi-ingest: ${describeError(error)}\n`);
    process.exitCode = 1;
  }
}
