import type { Command } from 'commander';

import { decryptStored } from '../read-part.js';
import { withApp } from './context.js';

/**
 * Registers `decrypt`: print the plaintext of one stored part.
 *
 * @param program - the root command
 */
export function registerDecryptCommand(program: Command): void {
  program
    .command('decrypt')
    .description('print the plaintext of one stored part, such as output/feed=.../part-00000.ndjson.gz.enc')
    .argument('<path>', 'container/path; a bare path means the output container')
    .action(async (path: string, _options: unknown, command: Command) => {
      await withApp(command, { keys: true, pool: true }, async (app) => {
        process.stdout.write(await decryptStored(app, path));
      });
    });
}
