import type { Command } from 'commander';

import { createOrchestrator, drain } from '../app.js';
import { auditDetailOfRun, withAuditEvent } from '../audit.js';
import { dropFiles, expandPaths } from '../drop.js';
import { startRunMetrics } from '../metrics.js';
import { STORAGE_NAMES } from '../storage.js';
import { formatRunSummary } from '../summary.js';
import { withApp } from './context.js';

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
    .option('--metrics-port <port>', 'serve /metrics, /healthz and /readyz on this port')
    .option('--metrics-host <host>', 'address the metrics server binds', '127.0.0.1')
    .action(async (options: RunFlags, command: Command) => {
      await withApp(command, { keys: true, pool: true }, async (app) => {
        const metrics = await startRunMetrics(app, { port: options.metricsPort, host: options.metricsHost });
        const orchestrator = createOrchestrator(app, options.untilDrained ?? false, metrics.observer);
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
      await withApp(command, {}, async (app) => {
        const dropped = await dropFiles(app.storage, options.feed, expandPaths(paths));
        for (const file of dropped) {
          process.stdout.write(`${file.localPath} -> ${STORAGE_NAMES.inboundContainer}/${file.blobName}\n`);
        }
        process.stdout.write(`${dropped.length} files dropped for feed ${options.feed}\n`);
      });
    });

  program
    .command('ingest')
    .description('drop files, run until the queue is drained, print the summary')
    .requiredOption('--feed <name>', 'feed the files belong to')
    .argument('<path...>', 'files or folders')
    .action(async (paths: string[], options: { feed: string }, command: Command) => {
      await withApp(command, { keys: true, pool: true }, async (app) => {
        await dropFiles(app.storage, options.feed, expandPaths(paths));
        const report = await withAuditEvent(
          app,
          { action: 'ingest', feedId: options.feed },
          () => drain(app),
          auditDetailOfRun,
        );
        process.stdout.write(formatRunSummary(report) + '\n');
      });
    });
}

interface RunFlags {
  untilDrained?: boolean;
  metricsPort?: string;
  metricsHost: string;
}
