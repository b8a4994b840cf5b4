import type { Command } from 'commander';

import { resolveBatchOption } from '../batch-id.js';
import { checkSelectionForm, type ReprocessPlan } from '../reprocess-plan.js';
import { reprocess, type ReprocessReport } from '../reprocess.js';
import { createProgressDisplay, type ProgressDisplay } from '../progress.js';
import { countText, table } from '../summary.js';
import { withApp } from './context.js';

interface ReprocessFlags {
  batch?: string;
  feed?: string;
  from?: string;
  to?: string;
  poison?: boolean;
  dryRun?: boolean;
  replace?: boolean;
  json?: boolean;
}

/**
 * Registers `reprocess`: write a new version of batches from their stored raw input, after a
 * rules or mapping fix.
 *
 * @param program - the root command
 */
export function registerReprocessCommand(program: Command): void {
  program
    .command('reprocess')
    .description('write a new version of batches from their archived input with the current rules')
    .option('--batch <id>', 'one batch, by id (or the first 12 or more hex digits of it)')
    .option(
      '--feed <name>',
      "with --from and --to: a feed's batches by ingest date; with --batch: look the id up in this feed",
    )
    .option('--from <date>', 'first ingest date, YYYY-MM-DD')
    .option('--to <date>', 'last ingest date, YYYY-MM-DD (inclusive)')
    .option(
      '--poison',
      'replay the quarantined files behind the poison queue, removing each message once replayed',
    )
    .option('--dry-run', 'list what would run and how much; write nothing')
    .option(
      '--replace',
      "remove older versions' parts, rejects and quarantine copy after each commit",
    )
    .option('--json', 'print the plan or the result as JSON')
    .action(async (flags: ReprocessFlags, command: Command) => {
      // A selection of two forms is refused before storage opens or the batch id is looked up.
      checkSelectionForm({
        batchId: flags.batch,
        feedId: flags.feed,
        fromDate: flags.from,
        toDate: flags.to,
        poison: flags.poison,
      });
      await withApp(command, { keys: true, pool: true }, async (app) => {
        let display: ProgressDisplay | undefined;
        const batchId = await resolveBatchOption(app.storage, flags);
        const report = await reprocess(app, {
          selection: {
            batchId,
            feedId: flags.feed,
            fromDate: flags.from,
            toDate: flags.to,
            poison: flags.poison,
          },
          dryRun: flags.dryRun,
          replace: flags.replace,
          onProgress: flags.json
            ? undefined
            : (progress) => {
                display ??= createProgressDisplay({
                  unit: 'batches',
                  total: progress.totalBatches,
                  totalBytes: progress.totalBytes,
                });
                display.update(progress.doneBatches, progress.doneBytes);
              },
        });
        display?.stop();
        if (flags.json) {
          process.stdout.write(
            JSON.stringify(toJson(report, flags.dryRun ?? false), null, 2) + '\n',
          );
          return;
        }
        process.stdout.write(flags.dryRun ? formatPlan(report.plan) : formatReport(report));
        if (report.outcomes.some((outcome) => outcome.status === 'failed')) {
          // Scripts and schedulers read the exit code, not the summary line.
          process.exitCode = 1;
        }
      });
    });
}

/**
 * Formats a plan for `--dry-run`: a table of the batches, the skipped ones, then totals. Ids and
 * counts only.
 *
 * @param plan - the plan
 */
export function formatPlan(plan: ReprocessPlan): string {
  const head = plan.resumed ? [`resumes interrupted run ${plan.runId}`] : [];
  if (plan.batches.length > 0) {
    const rows = plan.batches.map((batch) => {
      const done = plan.resumed && batch.state === 'done' ? ' (done in that run)' : '';
      const version =
        batch.targetVersion === batch.fromVersion
          ? `v${batch.fromVersion} (replayed already; remove poison message)`
          : `v${batch.fromVersion} -> v${batch.targetVersion}${done}`;
      return [
        batch.feedId,
        batch.batchId,
        batch.ingestDate,
        version,
        batch.from,
        String(batch.sizeBytes),
        String(batch.messageCount),
      ];
    });
    head.push(table([['feed', 'batch', 'date', 'version', 'from', 'bytes', 'messages'], ...rows]));
  }
  const totals = planTotals(plan, true);
  return blocks([
    head.join('\n'),
    skippedBlock(plan),
    `would reprocess ${countText(totals.batches, 'batch', 'batches')}, ` +
      `${countText(totals.sizeBytes, 'byte')} of input, ` +
      `${countText(totals.messageCount, 'message')} in their current versions; ` +
      `${countText(totals.poisonMessages, 'poison message')} would be removed once their batch ` +
      `succeeds, ${plan.skipped.length} skipped`,
  ]);
}

function formatReport(report: ReprocessReport): string {
  const head = [`run ${report.plan.runId}${report.plan.resumed ? ' (resumed)' : ''}`];
  if (report.outcomes.length > 0) {
    const rows = report.outcomes.map((outcome) => [
      outcome.feedId,
      outcome.batchId,
      `v${outcome.fromVersion} -> v${outcome.version}`,
      outcome.status === 'failed' ? `failed ${outcome.reasonCode}` : outcome.status,
      outcome.counts ? String(outcome.counts.messagesIn) : '',
      outcome.counts ? String(outcome.counts.written) : '',
      outcome.counts ? String(outcome.counts.rejected) : '',
    ]);
    head.push(
      table([['feed', 'batch', 'version', 'status', 'in', 'written', 'rejected'], ...rows]),
    );
  }
  const committed = report.outcomes.filter((outcome) => outcome.status === 'committed').length;
  const failed = report.outcomes.filter((outcome) => outcome.status === 'failed').length;
  return blocks([
    head.join('\n'),
    skippedBlock(report.plan),
    `${countText(committed, 'batch', 'batches')} reprocessed, ` +
      `${report.outcomes.length - committed - failed} already done, ` +
      `${failed} failed, ${report.plan.skipped.length} skipped`,
  ]);
}

/** The batches and poison messages a plan leaves alone, with the reason; empty when none. */
function skippedBlock(plan: ReprocessPlan): string {
  if (plan.skipped.length === 0) {
    return '';
  }
  const rows = plan.skipped.map((item) => [
    item.feedId ?? '-',
    item.batchId ?? '-',
    item.reasonCode,
  ]);
  return 'skipped:\n' + table([['feed', 'batch', 'reason'], ...rows]);
}

/** Joins the non-empty blocks of a report with a blank line between them. */
function blocks(texts: string[]): string {
  return texts.filter((text) => text.length > 0).join('\n\n') + '\n';
}

// For a dry run, batches an interrupted run already finished are not counted: it will not
// write them again.
function planTotals(plan: ReprocessPlan, dryRun: boolean) {
  const toWrite = plan.batches.filter(
    (batch) =>
      batch.targetVersion > batch.fromVersion &&
      !(dryRun && plan.resumed && batch.state === 'done'),
  );
  return {
    batches: toWrite.length,
    sizeBytes: toWrite.reduce((sum, batch) => sum + batch.sizeBytes, 0),
    messageCount: toWrite.reduce((sum, batch) => sum + batch.messageCount, 0),
    poisonMessages: plan.batches.filter((batch) => batch.poisonMessage).length,
  };
}

function toJson(report: ReprocessReport, dryRun: boolean): unknown {
  const strip = <T extends { poisonMessage?: unknown }>(item: T) => ({
    ...item,
    poisonMessage: item.poisonMessage !== undefined,
  });
  return {
    runId: dryRun ? undefined : report.plan.runId,
    resumed: report.plan.resumed,
    dryRun,
    totals: planTotals(report.plan, dryRun),
    batches: report.plan.batches.map(strip),
    skipped: report.plan.skipped.map(strip),
    outcomes: report.outcomes,
  };
}
