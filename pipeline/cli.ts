import { Command, CommanderError } from 'commander';

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
import { describeError, type PipelineErrorCode } from './errors.js';

/** The code of a command line commander refuses: an unknown command or option, a bad value. */
const USAGE_ERROR_CODE: PipelineErrorCode = 'CLI_USAGE';

/** The exit code of a usage error, as most command-line tools use it. */
const USAGE_EXIT_CODE = 2;

/**
 * Builds the `phi-ingest` command line. Each group of sub-commands lives in `commands/`. A
 * command line commander refuses prints as `phi-ingest: CLI_USAGE: <what commander says>`;
 * sub-commands inherit that and the exit override, so none of them exits the process itself.
 */
export function createCli(): Command {
  const program = new Command('phi-ingest')
    .description('Batch ingestion of HL7 v2 and FHIR R4 into encrypted, de-identified NDJSON')
    .version(PIPELINE_VERSION)
    .option('--home <dir>', 'folder for local state and embedded Azurite data (PHI_INGEST_HOME)')
    .exitOverride()
    .configureOutput({
      outputError: (text, write) =>
        write(`phi-ingest: ${USAGE_ERROR_CODE}: ${text.replace(/^error: /, '')}`),
    })
    .showHelpAfterError('(add --help for usage)');

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
      // Commander has printed the help, the version or its error already; --help and
      // --version end with 0, anything else it refuses is a usage error.
      process.exitCode = error.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
      return;
    }
    process.stderr.write(`phi-ingest: ${describeError(error)}\n`);
    process.exitCode = 1;
  }
}
