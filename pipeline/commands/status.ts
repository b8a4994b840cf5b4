import { setTimeout as sleep } from 'node:timers/promises';

import type { Command } from 'commander';

import { formatPipelineStatus, getPipelineStatus } from '../status.js';
import { formatBatchRows } from '../summary.js';
import { withApp } from './context.js';
import { wholeNumberOption } from './option-values.js';
import { standardOutputClosed } from './standard-output.js';

/** Most recent batches `status --limit` lists. */
const MAX_RECENT_BATCHES = 1000;

/** Longest wait `status --watch --interval` takes: an hour. */
const MAX_INTERVAL_SEC = 3600;

/**
 * Registers `status`: queue depths and recent batches. Reads no PHI and needs no key.
 *
 * @param program - the root command
 */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      'queue depths and ages, batch and reject counts, throughput (reads no PHI, needs no key)',
    )
    .option(
      '--limit <n>',
      `how many recent batches, 1 to ${MAX_RECENT_BATCHES}`,
      wholeNumberOption('--limit', 1, MAX_RECENT_BATCHES),
      10,
    )
    .option('--json', 'print JSON')
    .option('--watch', 'refresh until interrupted (with --json: one JSON line per refresh)')
    .option(
      '--interval <sec>',
      `whole seconds between refreshes with --watch, 1 to ${MAX_INTERVAL_SEC}`,
      wholeNumberOption('--interval', 1, MAX_INTERVAL_SEC),
      5,
    )
    .action(async (options: StatusFlags, command: Command) => {
      await withApp(command, {}, async (app) => {
        const recentBatches = options.limit;
        const render = async (): Promise<string> => {
          const status = await getPipelineStatus(app.storage, { recentBatches });
          if (options.json) {
            return JSON.stringify(status, null, options.watch ? undefined : 2) + '\n';
          }
          return (
            formatPipelineStatus(status) +
            '\n' +
            (status.batches.length > 0 ? formatBatchRows(status.batches) : 'no batches yet') +
            '\n'
          );
        };
        if (!options.watch) {
          process.stdout.write(await render());
          return;
        }
        await watch(render, options.interval * 1000);
      });
    });
}

interface StatusFlags {
  limit: number;
  json?: boolean;
  watch?: boolean;
  interval: number;
}

/**
 * Redraws until SIGINT or SIGTERM, or until the reader of standard output closes it
 * (`status --watch --json | head`); on a terminal the screen is cleared between refreshes.
 */
async function watch(render: () => Promise<string>, intervalMs: number): Promise<void> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const stopped = AbortSignal.any([controller.signal, standardOutputClosed]);
  while (!stopped.aborted) {
    const text = await render();
    process.stdout.write((process.stdout.isTTY ? '\x1b[2J\x1b[H' : '') + text);
    await sleep(intervalMs, undefined, { signal: stopped }).catch(() => {});
  }
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
}
