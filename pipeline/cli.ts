import { CommanderError, type Command } from 'commander';

import { PIPELINE_VERSION } from './app.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerBatchCommands } from './commands/batch.js';
import { registerDecryptCommand } from './commands/decrypt.js';
import { registerIngestCommands } from './commands/ingest.js';
import { registerReprocessCommand } from './commands/reprocess.js';
import { registerKeysCommands } from './commands/keys.js';
import { watchStandardOutput } from './commands/standard-output.js';
import { registerStatusCommand } from './commands/status.js';
import { UsageCheckedCommand } from './commands/usage-errors.js';
import { registerVerifyCommand } from './commands/verify.js';
import { describeError, errorCodeOf, type PipelineErrorCode } from './errors.js';

/** The code of a command line the CLI refuses: an unknown command or option, a bad value. */
const USAGE_ERROR_CODE: PipelineErrorCode = 'CLI_USAGE';

/** The exit code of a usage error, as most command-line tools use it. */
const USAGE_EXIT_CODE = 2;

/**
 * Builds the `phi-ingest` command line. Each group of sub-commands lives in `commands/`. A
 * command line commander refuses throws a `CLI_USAGE` error with a fixed text that never quotes
 * what was typed (see `UsageCheckedCommand`); sub-commands inherit that and the exit override,
 * so none of them prints commander's text or exits the process itself.
 */
export function createCli(): Command {
  const program = new UsageCheckedCommand('phi-ingest')
    .description('Batch ingestion of HL7 v2 and FHIR R4 into encrypted, de-identified NDJSON')
    .version(PIPELINE_VERSION)
    .option('--home <dir>', 'folder for local state and embedded Azurite data (PHI_INGEST_HOME)')
    .exitOverride()
    // UsageCheckedCommand.error never calls this; should commander write an error some other
    // way, it prints nothing rather than a text that can quote the command line.
    .configureOutput({ outputError: () => {} });

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
 * Runs the CLI and sets the exit code: 0, 1 when a command failed, 2 for a command line it
 * refused. Errors print their code and fixed message, never a stack or a quoted value. A reader
 * closing standard output early (`| head`) is a normal end.
 *
 * @param argv - process arguments
 */
export async function main(argv: string[] = process.argv): Promise<void> {
  watchStandardOutput();
  try {
    await createCli().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed the help or the version; --help and --version end with 0, and a
      // group without its sub-command (`phi-ingest batch`) prints its help as a usage error.
      process.exitCode = error.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
      return;
    }
    process.stderr.write(`phi-ingest: ${describeError(error)}\n`);
    process.exitCode = errorCodeOf(error) === USAGE_ERROR_CODE ? USAGE_EXIT_CODE : 1;
  }
}
