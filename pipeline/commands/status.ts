import type { Command } from 'commander';

import { listRecentBatches } from '../manifest.js';
import { STORAGE_NAMES } from '../storage.js';
import { formatBatchRows } from '../summary.js';
import { withApp } from './context.js';

/**
 * Registers `status`: queue depths and recent batches. Reads no PHI and needs no key.
 *
 * @param program - the root command
 */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('queue depths and the last batches (reads no PHI, needs no key)')
    .option('--limit <n>', 'how many recent batches', '10')
    .option('--json', 'print JSON')
    .action(async (options: { limit: string; json?: boolean }, command: Command) => {
      await withApp(command, {}, async (app) => {
        const limit = Number.parseInt(options.limit, 10);
        const [inbound, poison, batches] = await Promise.all([
          app.storage.inboundQueue.getProperties(),
          app.storage.poisonQueue.getProperties(),
          listRecentBatches(app.storage, Number.isFinite(limit) && limit > 0 ? limit : 10),
        ]);
        const status = {
          storage: app.storage.kind,
          queues: {
            [STORAGE_NAMES.inboundQueue]: inbound.approximateMessagesCount ?? 0,
            [STORAGE_NAMES.poisonQueue]: poison.approximateMessagesCount ?? 0,
          },
          batches,
        };
        if (options.json) {
          process.stdout.write(JSON.stringify(status, null, 2) + '\n');
          return;
        }
        process.stdout.write(
          `storage: ${status.storage}\n` +
            `queue ${STORAGE_NAMES.inboundQueue}: ${status.queues[STORAGE_NAMES.inboundQueue]} messages\n` +
            `queue ${STORAGE_NAMES.poisonQueue}: ${status.queues[STORAGE_NAMES.poisonQueue]} messages\n\n` +
            (batches.length > 0 ? formatBatchRows(batches) : 'no batches yet') +
            '\n',
        );
      });
    });
}
