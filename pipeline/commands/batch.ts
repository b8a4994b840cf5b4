import type { Command } from 'commander';

import { currentActor, withAuditEvent } from '../audit.js';
import { resolveBatchId } from '../batch-id.js';
import { shredBatchKey } from '../batch-keys.js';
import { describeBatch, formatBatchDescription } from '../batch-show.js';
import { PipelineError } from '../errors.js';
import { withApp } from './context.js';
import { wholeNumberOption } from './option-values.js';

/**
 * Registers `batch show ID`, which prints a batch's manifest facts and the paths of its parts,
 * and `batch shred ID`, which destroys a batch's key so its output, rejects, archive and
 * quarantine copies (every version) can never be decrypted again.
 *
 * @param program - the root command
 */
export function registerBatchCommands(program: Command): void {
  const batch = program.command('batch').description('act on one batch');

  batch
    .command('show')
    .description(
      "print a batch's manifest: counts, key, and the paths of its parts, rejects and archive " +
        '(reads no PHI, needs no key)',
    )
    .argument('<batchId>', 'the batch id, or the first 12 or more hex digits that status prints')
    .option('--feed <name>', "the batch's feed")
    .option(
      '--batch-version <n>',
      'an older version of the batch; the current one by default',
      wholeNumberOption('--batch-version', 1),
    )
    .option('--json', 'print JSON')
    .action(async (given: string, options: ShowFlags, command: Command) => {
      // Reading a manifest reads no plaintext, so, like status, it is not an audited act.
      await withApp(command, {}, async (app) => {
        const batchId = await resolveBatchId(app.storage, given, {
          feedId: options.feed,
          optionName: 'batch show',
        });
        const description = await describeBatch(app.storage, {
          batchId,
          feedId: options.feed,
          version: options.batchVersion,
        });
        process.stdout.write(
          (options.json
            ? JSON.stringify(description, null, 2)
            : formatBatchDescription(description)) + '\n',
        );
      });
    });

  batch
    .command('shred')
    .description('destroy the batch key: its output, archive and rejects become unreadable forever')
    .argument('<batchId>', 'the batch id, or the first 12 or more hex digits that status prints')
    .option('--yes', 'confirm: this cannot be undone')
    .action(async (given: string, options: { yes?: boolean }, command: Command) => {
      if (!options.yes) {
        throw new PipelineError(
          'CONFIRMATION_REQUIRED',
          'Shredding destroys the batch key and cannot be undone; add --yes to confirm',
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

interface ShowFlags {
  feed?: string;
  batchVersion?: number;
  json?: boolean;
}
