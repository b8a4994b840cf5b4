import type { Command } from 'commander';

import { createOrchestrator } from '../app.js';
import { auditDetailOfRun, withAuditEvent } from '../audit.js';
import { dropFiles, listInputFiles, manifestsOfDropped, skippedInputsText } from '../drop.js';
import { startRunMetrics } from '../metrics.js';
import { STORAGE_NAMES } from '../storage.js';
import { countText, formatBatchSummary, formatRunSummary } from '../summary.js';
import { withApp } from './context.js';
import { wholeNumberOption } from './option-values.js';

/**
 * Registers `run`, `drop` and `ingest`: the commands that move files through the pipeline.
 *
 * @param program - the root command
 */
export function registerIngestCommands(program: Command): void {
  program
    .command('run')
    .description('run the orchestrator until SIGINT/SIGTERM')
    .option('--until-drained', 'exit once the inbound queue is empty')
    .option(
      '--metrics-port <port>',
      'serve /metrics, /healthz and /readyz on this port (0: any free port)',
      wholeNumberOption('--metrics-port', 0, 65535),
    )
    .option('--metrics-host <host>', 'address the metrics server binds', '127.0.0.1')
    .action(async (options: RunFlags, command: Command) => {
      await withApp(command, { keys: 'create', pool: true }, async (app) => {
        const metrics = await startRunMetrics(app, {
          port: options.metricsPort === undefined ? undefined : String(options.metricsPort),
          host: options.metricsHost,
        });
        const orchestrator = createOrchestrator(
          app,
          options.untilDrained ?? false,
          metrics.observer,
        );
        const onSignal = (signal: NodeJS.Signals): void => {
          app.log.info({ signal }, 'Stop requested');
          metrics.setReady(false);
          orchestrator.stop();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        metrics.setReady(true);
        const report = await withAuditEvent(
          app,
          { action: 'run' },
          () => orchestrator.run().finally(() => metrics.close()),
          auditDetailOfRun,
        );
        process.stdout.write(formatRunSummary(report) + '\n');
      });
    });

  program
    .command('drop')
    .description('upload files to the inbound container and announce each on the queue')
    .requiredOption('--feed <name>', 'feed the files belong to')
    .argument('<file...>', 'files or folders')
    .action(async (paths: string[], options: { feed: string }, command: Command) => {
      // Before storage is opened: a folder with nothing to drop fails at once.
      const inputs = listInputFiles(paths);
      await withApp(command, {}, async (app) => {
        const dropped = await dropFiles(app.storage, options.feed, inputs.files);
        // Blob names only: the local file names are the feed's and can carry a patient's name.
        for (const file of dropped) {
          process.stdout.write(`${STORAGE_NAMES.inboundContainer}/${file.blobName}\n`);
        }
        process.stdout.write(
          [
            `${countText(dropped.length, 'file')} dropped for feed ${options.feed}`,
            ...skippedInputsText(inputs),
          ].join('; ') + '\n',
        );
      });
    });

  program
    .command('ingest')
    .description('drop files, run until the queue is drained, print the summary')
    .requiredOption('--feed <name>', 'feed the files belong to')
    .argument('<path...>', 'files or folders')
    .action(async (paths: string[], options: { feed: string }, command: Command) => {
      const inputs = listInputFiles(paths);
      await withApp(command, { keys: 'create', pool: true }, async (app) => {
        const startedAt = new Date();
        // The orchestrator reads the feeds file and the rules files now: a bad one stops the
        // command before anything is uploaded, not after the files wait in the queue for any
        // orchestrator (with other settings) to take.
        const orchestrator = createOrchestrator(app, true);
        const dropped = await dropFiles(app.storage, options.feed, inputs.files);
        const report = await withAuditEvent(
          app,
          { action: 'ingest', feedId: options.feed },
          () => orchestrator.run(),
          auditDetailOfRun,
        );
        // Report on the files this command dropped, whichever orchestrator processed them.
        const found = await manifestsOfDropped(app.storage, options.feed, dropped, startedAt);
        const notes = [
          `${countText(inputs.files.length, 'file')} given, ${dropped.length} distinct`,
          ...skippedInputsText(inputs),
          ...(found.alreadyIngested > 0
            ? [`${found.alreadyIngested} already ingested before (skipped)`]
            : []),
          ...(found.notFound > 0 ? [`${found.notFound} not found (see the poison queue)`] : []),
          `${countText(report.poisoned.length, 'queue message')} poisoned`,
        ];
        process.stdout.write(formatBatchSummary(found.manifests, notes) + '\n');
        // Local names can carry a patient's name: inputs are told apart by their content hash.
        process.stdout.write(
          '\nInputs by content (first 32 hex digits of `sha256sum <file>`):\n' +
            found.inputs
              .map(
                (input) =>
                  `  ${input.contentSha256}  batch ${input.batchId?.slice(0, 12) ?? '-'}` +
                  `  ${input.outcome}`,
              )
              .join('\n') +
            '\n',
        );
        const quarantined = found.manifests.filter((manifest) => manifest.status === 'quarantined');
        if (quarantined.length > 0 || found.notFound > 0 || report.poisoned.length > 0) {
          // Scripts and schedulers read the exit code: a file that gave no output is a failure.
          // Rejected records inside a committed batch are not; the summary counts them.
          process.exitCode = 1;
        }
      });
    });
}

interface RunFlags {
  untilDrained?: boolean;
  metricsPort?: number;
  metricsHost: string;
}
