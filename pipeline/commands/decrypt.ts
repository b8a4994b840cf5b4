import type { Command } from 'commander';

import { streamSealedPart } from '../read-part.js';
import { withApp } from './context.js';

/**
 * Registers `decrypt`: stream the plaintext of one stored part to standard output, in constant
 * memory. A damaged part fails at the chunk that does not authenticate, after the chunks before
 * it were printed; the exit code is then 1. A reader that stops early (`| head`) ends it with
 * exit code 0, audited as `closed-by-reader`.
 *
 * @param program - the root command
 */
export function registerDecryptCommand(program: Command): void {
  program
    .command('decrypt')
    .description(
      'print the plaintext of one stored part, such as output/feed=.../part-00000.ndjson.gz.enc',
    )
    .argument('<path>', 'container/path; a bare path means the output container')
    .action(async (path: string, _options: unknown, command: Command) => {
      await withApp(command, { keys: true }, async (app) => {
        await streamSealedPart(app, path, process.stdout);
      });
    });
}
