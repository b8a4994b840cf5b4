import type { BatchManifest, BatchRow } from './manifest.js';
import type { RunReport } from './orchestrator.js';
import { STORAGE_NAMES } from './storage.js';

/** What `batchOutcomeText` reads; a manifest's counts or a batch row's columns. */
export interface BatchOutcomeFacts {
  status: string;
  reasonCode?: string;
  written: number;
  rejected: number;
}

/**
 * Formats the end-of-run summary of what one orchestrator run committed or quarantined.
 *
 * @param report - what the orchestrator did
 */
export function formatRunSummary(report: RunReport): string {
  const manifests = report.results
    .filter((result) => result.kind === 'committed' || result.kind === 'quarantined')
    .map((result) => (result as { manifest: BatchManifest }).manifest);
  return formatBatchSummary(manifests, [
    `${countText(report.poisoned.length, 'queue message')} poisoned`,
  ]);
}

/**
 * Formats a summary: one line per batch with its counts and where its output is, the parts to
 * decrypt, and the totals. Ids, counts and paths only. A batch that two concurrent deliveries
 * of the same file both committed is shown once.
 *
 * @param manifests - the batches' manifests
 * @param notes - extra facts for the totals line
 */
export function formatBatchSummary(manifests: BatchManifest[], notes: string[] = []): string {
  const unique = [
    ...new Map(manifests.map((manifest) => [keyOf(manifest), manifest])).values(),
  ].sort((a, b) => a.feedId.localeCompare(b.feedId) || a.batchId.localeCompare(b.batchId));

  const rows = unique.map((manifest) => [
    manifest.feedId,
    manifest.batchId.slice(0, 12),
    manifest.format,
    statusText(manifest),
    String(manifest.counts.messagesIn),
    String(manifest.counts.written),
    rejectText(manifest.counts.rejected, manifest.counts.rejectedByReason),
    String(manifest.parts.length),
    where(manifest),
  ]);
  const header = [
    'feed',
    'batch',
    'format',
    'status',
    'in',
    'written',
    'rejected',
    'parts',
    'where',
  ];
  const lines = [table([header, ...rows])];

  const totals = unique.reduce(
    (sum, manifest) => ({
      messagesIn: sum.messagesIn + manifest.counts.messagesIn,
      written: sum.written + manifest.counts.written,
      rejected: sum.rejected + manifest.counts.rejected,
      quarantined: sum.quarantined + (manifest.status === 'quarantined' ? 1 : 0),
    }),
    { messagesIn: 0, written: 0, rejected: 0, quarantined: 0 },
  );
  const listing = partListing(unique);
  if (listing.length > 0) {
    lines.push('', ...listing);
  }
  lines.push(
    '',
    [
      `${countText(unique.length, 'batch', 'batches')}: ${totals.messagesIn} in, ${totals.written} written`,
      `${totals.rejected} rejected`,
      `${countText(totals.quarantined, 'file')} quarantined`,
      ...notes,
    ].join(', '),
  );
  return lines.join('\n');
}

/**
 * Names how a batch ended, as the CLI's tables show it: `ok` (every record written),
 * `partly rejected`, `all rejected`, or `quarantined` with its reason code. A committed batch
 * with no records at all is `ok`.
 *
 * @param batch - the batch's status and counts, from its manifest or its table row
 */
export function batchOutcomeText(batch: BatchOutcomeFacts): string {
  if (batch.status === 'quarantined') {
    return `quarantined ${batch.reasonCode ?? ''}`.trim();
  }
  if (batch.rejected === 0) {
    return 'ok';
  }
  return batch.written === 0 ? 'all rejected' : 'partly rejected';
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
    batchOutcomeText(row),
    String(row.messagesIn),
    String(row.written),
    String(row.rejected),
    String(row.partCount),
  ]);
  return table([
    ['finished (UTC)', 'feed', 'batch', 'format', 'status', 'in', 'written', 'rejected', 'parts'],
    ...body,
  ]);
}

function keyOf(manifest: BatchManifest): string {
  return `${manifest.feedId}/${manifest.batchId}/${manifest.version ?? 1}`;
}

function statusText(manifest: BatchManifest): string {
  return batchOutcomeText({
    ...manifest.counts,
    status: manifest.status,
    reasonCode: manifest.reasonCode,
  });
}

/** Most batches a summary lists part by part; beyond it, `batch show` lists each one's. */
const LISTED_BATCHES = 40;

function partListing(manifests: BatchManifest[]): string[] {
  const withParts = manifests.filter(
    (manifest) => manifest.parts.length + manifest.rejectParts.length > 0,
  );
  if (withParts.length === 0) {
    return [];
  }
  if (withParts.length > LISTED_BATCHES) {
    return [
      `Output parts: ${countText(withParts.length, 'batch', 'batches')}, too many to list here; ` +
        "phi-ingest batch show <batch id> lists a batch's parts",
    ];
  }
  const lines = ['Output parts (decrypt one with: npx phi-ingest decrypt <path>):'];
  for (const manifest of withParts) {
    for (const part of [...manifest.parts, ...manifest.rejectParts]) {
      lines.push(
        `  ${part.container}/${part.path}  (${part.recordCount} ${part.recordCount === 1 ? 'record' : 'records'})`,
      );
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
  if (manifest.parts.length === 0) {
    const rejects = manifest.rejectParts[0];
    return rejects ? `${rejects.container}/${rejects.path}` : '-';
  }
  // The batch's folder across its types; each part is listed under the table.
  const first = manifest.parts[0];
  const folder = first.path.slice(0, first.path.lastIndexOf('/') + 1);
  return `${first.container}/${folder.replace(/\/type=[^/]+\//, '/type=*/')}`;
}

function rejectText(rejected: number, byReason: Record<string, number>): string {
  const reasons = Object.entries(byReason).map(([code, count]) => `${code}:${count}`);
  return reasons.length > 0 ? `${rejected} (${reasons.join(', ')})` : String(rejected);
}

/**
 * Writes a count with its noun, the singular only for exactly one: `1 file`, `0 files`,
 * `2 batches`. Every count the CLI prints with a noun goes through it.
 *
 * @param count - how many
 * @param singular - the noun for one
 * @param plural - the noun for any other count; the singular with an s when not given
 */
export function countText(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

/**
 * Lays rows out in columns two spaces apart, each as wide as its widest cell; the first row is
 * the header. Every table the CLI prints goes through it.
 *
 * @param rows - header, then rows, all of the same length
 */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
