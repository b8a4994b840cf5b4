import type { Command } from 'commander';

import { openApp, type App, type OpenAppOptions } from '../app.js';
import { loadConfig, type PipelineConfig } from '../config.js';

/**
 * Opens what a command needs from the global options and the environment, runs the action and
 * closes everything, whatever happens.
 *
 * @param command - the sub-command being run (its parent holds the global options)
 * @param parts - which parts of the app the command needs
 * @param action - the command's work
 */
export async function withApp(
  command: Command,
  parts: Pick<OpenAppOptions, 'keys' | 'pool'>,
  action: (app: App) => Promise<void>,
): Promise<void> {
  const globals = command.optsWithGlobals<{ home?: string }>();
  const overrides: Partial<PipelineConfig> = globals.home ? { homeDir: globals.home } : {};
  const app = await openApp(loadConfig(process.env, overrides), parts);
  try {
    await action(app);
  } finally {
    await app.close();
  }
}
