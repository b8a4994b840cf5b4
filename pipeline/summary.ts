import type { BatchManifest, BatchRow } from './manifest.js';
import type { RunReport } from './orchestrator.js';
import { STORAGE_NAMES } from './storage.js';

/**
 * Formats the end-of-run summary: one line per batch with its counts and where its output is.
 * Ids, counts and paths only.
 *
 * @param report - what the orchestrator did
 */
export function formatRunSummary(report: RunReport): string {
  const manifests = report.results
    .filter((result) => result.kind === 'committed' || result.kind === 'quarantined')
    .map((result) => (result as { manifest: BatchManifest }).manifest)
    .sort((a, b) => a.feedId.localeCompare(b.feedId) || a.batchId.localeCompare(b.batchId));

  const rows = manifests.map((manifest) => [
    manifest.feedId,
    manifest.batchId.slice(0, 12),
    manifest.format,
    manifest.status === 'committed' ? 'ok' : `quarantined ${manifest.reasonCode ?? ''}`.trim(),
    String(manifest.counts.messagesIn),
    String(manifest.counts.written),
    rejectText(manifest.counts.rejected, manifest.counts.rejectedByReason),
    String(manifest.parts.length),
    where(manifest),
  ]);
  const header = ['feed', 'batch', 'format', 'status', 'in', 'written', 'rejected', 'parts', 'where'];
  const lines = [table([header, ...rows])];

  const totals = manifests.reduce(
    (sum, manifest) => ({
      messagesIn: sum.messagesIn + manifest.counts.messagesIn,
      written: sum.written + manifest.counts.written,
      rejected: sum.rejected + manifest.counts.rejected,
      quarantined: sum.quarantined + (manifest.status === 'quarantined' ? 1 : 0),
    }),
    { messagesIn: 0, written: 0, rejected: 0, quarantined: 0 },
  );
  lines.push('', ...partListing(manifests), '');
  lines.push(
    `${manifests.length} batches: ${totals.messagesIn} in, ${totals.written} written, ` +
      `${totals.rejected} rejected, ${totals.quarantined} files quarantined, ` +
      `${report.poisoned.length} queue messages poisoned`,
  );
  return lines.join('\n');
}

/**
 * Formats batch table rows for `status`.
 *
 * @param rows - batch rows, newest first
 */
export function formatBatchRows(rows: BatchRow[]): string {
  const body = rows.map((row) => [
    row.finishedAt.replace('T', ' ').slice(0, 19),
    row.partitionKey,
    row.rowKey.slice(0, 12),
    row.format,
    row.status === 'committed' ? 'ok' : `quarantined ${row.reasonCode}`.trim(),
    String(row.messagesIn),
    String(row.written),
    String(row.rejected),
    String(row.partCount),
  ]);
  return table([['finished (UTC)', 'feed', 'batch', 'format', 'status', 'in', 'written', 'rejected', 'parts'], ...body]);
}

/** Most batches a summary lists part by part; beyond it, the manifests say where parts are. */
const LISTED_BATCHES = 40;

function partListing(manifests: BatchManifest[]): string[] {
  const committed = manifests.filter((manifest) => manifest.parts.length > 0);
  if (committed.length > LISTED_BATCHES) {
    return [`Output parts: see the manifests under ${STORAGE_NAMES.manifestsContainer}/ (${committed.length} batches)`];
  }
  const lines = ['Output parts (decrypt one with: npx phi-ingest decrypt <path>):'];
  for (const manifest of committed) {
    for (const part of [...manifest.parts, ...manifest.rejectParts]) {
      lines.push(`  ${part.container}/${part.path}  (${part.recordCount} records)`);
    }
  }
  return lines;
}

function where(manifest: BatchManifest): string {
  if (manifest.status === 'quarantined') {
    return manifest.quarantine
      ? `${STORAGE_NAMES.quarantineContainer}/${manifest.quarantine.path}`
      : `${STORAGE_NAMES.inboundContainer} (left in place)`;
  }
  return `${STORAGE_NAMES.outputContainer}/feed=${manifest.feedId}/type=*/date=${manifest.ingestDate}/batch=${manifest.batchId}/`;
}

function rejectText(rejected: number, byReason: Record<string, number>): string {
  const reasons = Object.entries(byReason).map(([code, count]) => `${code}:${count}`);
  return reasons.length > 0 ? `${rejected} (${reasons.join(', ')})` : String(rejected);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd())
    .join('\n');
}
