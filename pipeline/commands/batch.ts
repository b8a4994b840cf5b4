import type { Command } from 'commander';

import { currentActor, withAuditEvent } from '../audit.js';
import { resolveBatchId } from '../batch-id.js';
import { shredBatchKey } from '../batch-keys.js';
import { PipelineError } from '../errors.js';
import { withApp } from './context.js';

/**
 * Registers `batch shred ID`: destroy a batch's key, so its output, rejects, archive and
 * quarantine copies (every version) can never be decrypted again.
 *
 * @param program - the root command
 */
export function registerBatchCommands(program: Command): void {
  const batch = program.command('batch').description('act on one batch');

  batch
    .command('shred')
    .description('destroy the batch key: its output, archive and rejects become unreadable forever')
    .argument('<batchId>', 'the batch id, or the first 12 or more hex digits that status prints')
    .option('--yes', 'confirm: this cannot be undone')
    .action(async (given: string, options: { yes?: boolean }, command: Command) => {
      if (!options.yes) {
        throw new PipelineError(
          'CONFIG_INVALID',
          'batch shred cannot be undone; add --yes to confirm',
        );
      }
      await withApp(command, { keys: true }, async (app) => {
        // A prefix is resolved first, so the audit event and the output name the full id.
        const batchId = await resolveBatchId(app.storage, given, { optionName: 'batch shred' });
        const operator = currentActor(app.config.operator).name;
        const outcome = await withAuditEvent(
          app,
          { action: 'batch-shred', batchId },
          () => shredBatchKey(app.storage, batchId, operator),
          (result) => ({ result }),
        );
        process.stdout.write(
          outcome === 'shredded'
            ? `batch ${batchId} shredded: its key is destroyed and its data can no longer be read\n`
            : `batch ${batchId} was already shredded\n`,
        );
      });
    });
}
