import { Option, type Command } from 'commander';

import { withAuditEvent } from '../audit.js';
import { resolveBatchOption } from '../batch-id.js';
import { PipelineError } from '../errors.js';
import { countText } from '../summary.js';
import { formatVerifyReport, verifyStorage } from '../verify.js';
import { withApp } from './context.js';

/**
 * Registers `verify`: check signatures, chain continuity, every part's SHA-256 and every GCM
 * tag. Prints one line per problem and exits 1 when there is any.
 *
 * @param program - the root command
 */
export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('check manifest and audit chains, signatures, part hashes and GCM tags')
    .option('--feed <name>', 'only this feed')
    .option('--batch <id>', 'only this batch (its id, or the first 12 or more hex digits of it)')
    .addOption(
      // Checking everything and one feed or batch at once says two things: refused, not guessed.
      new Option('--all', 'every feed and the audit chain (the default)').conflicts([
        'feed',
        'batch',
      ]),
    )
    .action(async (options: { feed?: string; batch?: string; all?: boolean }, command: Command) => {
      await withApp(command, { keys: true }, async (app) => {
        const batchId = await resolveBatchOption(app.storage, options);
        await withAuditEvent(
          app,
          { action: 'verify', feedId: options.feed, batchId },
          async () => {
            const report = await verifyStorage(app, {
              feedId: options.feed,
              batchId,
              all: options.all,
            });
            process.stdout.write(formatVerifyReport(report) + '\n');
            if (report.findings.length > 0) {
              throw new PipelineError(
                'VERIFY_FAILED',
                `${countText(report.findings.length, 'problem')} found`,
              );
            }
            return report;
          },
          (report) => ({ manifestCount: report.manifests, partCount: report.parts }),
        );
      });
    });
}
