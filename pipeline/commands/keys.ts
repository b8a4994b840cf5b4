import type { Command } from 'commander';

import { recordAuditEvent, withAuditEvent } from '../audit.js';
import { rewrapBatchKeys } from '../batch-keys.js';
import { loadConfig, type PipelineConfig } from '../config.js';
import { PipelineError } from '../errors.js';
import { initKeyFile, rotateKeyFile } from '../key-store.js';
import { countText } from '../summary.js';
import { withApp } from './context.js';

/**
 * Registers `keys init`, `keys rotate` and `keys rewrap`.
 *
 * @param program - the root command
 */
export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('create, rotate and rewrap encryption keys');

  keys
    .command('init')
    .description('create the local key file (mode 0600); never replaces one')
    .action(async (_options: unknown, command: Command) => {
      const ring = initKeyFile(configOf(command).keyFile);
      await withApp(command, { keys: true }, async (app) => {
        await recordAuditEvent(app, {
          action: 'keys-init',
          outcome: 'succeeded',
          detail: {
            kekId: ring.encryptionKeyId,
            kekVersion: ring.currentKeyVersion,
            signingKeyId: ring.signingKeyId,
          },
        });
        process.stdout.write(
          `key file created (mode 600): KEK ${ring.encryptionKeyId} version ${ring.currentKeyVersion}, ` +
            `signing key ${ring.signingKeyId}\n`,
        );
      });
    });

  keys
    .command('rotate')
    .description(
      'add a new KEK version to the key file; new batches use it, older ones still decrypt',
    )
    .action(async (_options: unknown, command: Command) => {
      const config = configOf(command);
      if (config.keyVaultKeyUrl) {
        throw new PipelineError(
          'KEY_ROTATION_UNSUPPORTED',
          'Rotate the key in Key Vault; new batches use its latest version',
        );
      }
      // Open first: it refuses a key file with loose permissions before anything changes.
      await withApp(command, { keys: true }, async (app) => {
        const version = await withAuditEvent(
          app,
          { action: 'keys-rotate' },
          async () => rotateKeyFile(config.keyFile),
          (next) => ({ kekVersion: next }),
        );
        process.stdout.write(
          `KEK version ${version} is now current; run keys rewrap to move stored batch keys to it\n`,
        );
      });
    });

  keys
    .command('rewrap')
    .description('rewrap every stored batch key under the current KEK version; data is not touched')
    .action(async (_options: unknown, command: Command) => {
      await withApp(command, { keys: true }, async (app) => {
        const keyRing = app.keyRing!;
        const version = await keyRing.kekProvider.currentVersion();
        const report = await withAuditEvent(
          app,
          { action: 'keys-rewrap' },
          () => rewrapBatchKeys(app.storage, keyRing),
          (done) => ({ ...done, kekVersion: version }),
        );
        process.stdout.write(
          `${countText(report.rewrapped, 'batch key')} rewrapped to KEK version ${version}; ` +
            `${report.alreadyCurrent} already current; ${report.shredded} shredded\n`,
        );
      });
    });
}

function configOf(command: Command): Readonly<PipelineConfig> {
  const globals = command.optsWithGlobals<{ home?: string }>();
  return loadConfig(process.env, globals.home ? { homeDir: globals.home } : {});
}
