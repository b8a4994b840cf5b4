import type { Command } from 'commander';

import { formatAuditEvents, listAuditEvents, parseSince } from '../audit.js';
import { withApp } from './context.js';

/**
 * Registers `audit`: list audit events in chain order. Reads no PHI and needs no key; `verify`
 * checks that the list is complete and unaltered.
 *
 * @param program - the root command
 */
export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('list audit events: who read plaintext or changed stored data, and when')
    .option('--since <date>', 'only events at or after this ISO date or time')
    .option('--feed <name>', 'only events for this feed')
    .option('--json', 'print JSON lines')
    .action(
      async (options: { since?: string; feed?: string; json?: boolean }, command: Command) => {
        const since = options.since ? parseSince(options.since) : undefined;
        await withApp(command, {}, async (app) => {
          const events = await listAuditEvents(app.storage, { since, feedId: options.feed });
          if (options.json) {
            process.stdout.write(
              events.map((event) => JSON.stringify(event)).join('\n') + (events.length ? '\n' : ''),
            );
            return;
          }
          process.stdout.write(formatAuditEvents(events) + '\n');
        });
      },
    );
}
