import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

import { odata } from '@azure/data-tables';

import { getBatchKeyRow } from './batch-keys.js';
import { PipelineError } from './errors.js';
import { getManifest, type BatchRow } from './manifest.js';
import { claimPoisonMessages, type ClaimedPoisonMessage } from './poison-queue.js';
import type { Storage } from './storage.js';

/** Which batches a reprocess run takes: exactly one of the three forms. */
export interface ReprocessSelection {
  /** One batch by id (`--batch`). */
  batchId?: string;
  /** A feed's batches by ingest date, inclusive (`--feed --from --to`). */
  feedId?: string;
  fromDate?: string;
  toDate?: string;
  /** The quarantined files behind the poison queue (`--poison`). */
  poison?: boolean;
}

/** One batch a run will write a new version of. */
export interface PlannedBatch {
  feedId: string;
  batchId: string;
  ingestDate: string;
  /** The version the batch row points at when the run was planned. */
  fromVersion: number;
  /** The version this run writes; fixed at planning, so a resumed run rewrites the same paths. */
  targetVersion: number;
  /** Where the raw input is read from. */
  from: 'archive' | 'quarantine';
  /** The manifest of `fromVersion`. */
  manifestPath: string;
  /** Size of the raw input in bytes. */
  sizeBytes: number;
  /** HL7 messages, resources or lines in `fromVersion` (0 for a quarantined file). */
  messageCount: number;
  /** For `--poison`: the poison queue message to delete once the batch is replayed. */
  poisonMessage?: { messageId: string; popReceipt: string };
  /** `done` once committed (and its poison message deleted); `failed` with a reason code. */
  state: 'planned' | 'done' | 'failed';
  reasonCode?: string;
}

/** A batch or poison message the run leaves alone, and why. */
export interface SkippedItem {
  feedId?: string;
  batchId?: string;
  reasonCode: string;
  /** A poison message to make visible again after the run. */
  poisonMessage?: { messageId: string; popReceipt: string };
}

/** What a run will do (or, resumed, what it had planned). */
export interface ReprocessPlan {
  runId: string;
  selectionKey: string;
  resumed: boolean;
  replace: boolean;
  batches: PlannedBatch[];
  skipped: SkippedItem[];
}

/** What planning reads besides storage. */
export interface PlanReprocessOptions {
  /**
   * The feeds file: a date range of a feed with no batch at all is refused unless the file names
   * the feed, so a misspelt feed is not a quiet plan of nothing.
   */
  feedsFile?: string;
}

/** How long claimed poison messages stay invisible while a run plans and replays them. */
export const POISON_CLAIM_SEC = 300;

const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const BATCH_ID_PATTERN = /^[0-9a-f]{32}$/;
const FEED_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const RUN_PARTITION = 'run';

/**
 * Checks that exactly one selection form is given, `--feed` only with a date range or to narrow
 * `--batch`, and that names and dates are well formed. Needs no storage, so the command line is
 * refused before anything opens; `--batch` may still be a prefix here.
 *
 * @param selection - the selection from the command line
 */
export function checkSelectionForm(selection: ReprocessSelection): void {
  const forms = [
    selection.batchId !== undefined,
    selection.fromDate !== undefined || selection.toDate !== undefined,
    selection.poison === true,
  ].filter(Boolean).length;
  if (forms !== 1) {
    throw invalid('Give exactly one of --batch ID, --feed NAME --from DATE --to DATE, or --poison');
  }
  if (selection.feedId !== undefined && !FEED_ID_PATTERN.test(selection.feedId)) {
    throw invalid('--feed must be a feed name: lower-case letters, digits and dashes');
  }
  if (selection.fromDate !== undefined || selection.toDate !== undefined) {
    if (!selection.feedId || !isDate(selection.fromDate) || !isDate(selection.toDate)) {
      throw invalid('--feed, --from and --to go together; dates are YYYY-MM-DD');
    }
    if (selection.fromDate! > selection.toDate!) {
      throw invalid('--from must not be after --to');
    }
  }
  if (selection.poison && selection.feedId !== undefined) {
    throw invalid('--poison replays every feed; it takes no --feed');
  }
}

/**
 * Checks the selection (see `checkSelectionForm`, and that `--batch` is a full id) and returns
 * a key that names it: the same command line gives the same key, which is how a rerun finds the
 * unfinished run to resume.
 *
 * @param selection - the selection, with the full batch id
 * @param replace - whether older versions are removed; part of the key
 */
export function selectionKeyOf(selection: ReprocessSelection, replace: boolean): string {
  checkSelectionForm(selection);
  if (selection.batchId !== undefined && !BATCH_ID_PATTERN.test(selection.batchId)) {
    throw invalid('--batch must be a batch id: 32 lower-case hex digits');
  }
  const canonical = JSON.stringify([
    selection.batchId ?? null,
    selection.feedId ?? null,
    selection.fromDate ?? null,
    selection.toDate ?? null,
    selection.poison === true,
    replace,
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 24);
}

/**
 * Plans a run: finds the batches of the selection, where each one's raw input is stored and the
 * version it will become. For `--poison` it claims the poison messages (they stay invisible for
 * `POISON_CLAIM_SEC`) so it can delete each one after its replay. A shredded batch is skipped
 * (`BATCH_KEY_SHREDDED`), or refused when `--batch` names it.
 *
 * @param storage - the opened storage
 * @param selection - which batches
 * @param replace - whether older versions are removed after each commit
 * @param options - the feeds file, to tell a feed with no batches yet from a misspelt one
 */
export async function planReprocess(
  storage: Storage,
  selection: ReprocessSelection,
  replace: boolean,
  options: PlanReprocessOptions = {},
): Promise<ReprocessPlan> {
  const selectionKey = selectionKeyOf(selection, replace);
  const plan: ReprocessPlan = {
    runId: randomBytes(8).toString('hex'),
    selectionKey,
    resumed: false,
    replace,
    batches: [],
    skipped: [],
  };

  if (selection.poison) {
    for (const message of await claimPoisonMessages(storage, POISON_CLAIM_SEC)) {
      await planPoisonMessage(storage, message, plan);
    }
    return plan;
  }

  const rows = selection.batchId
    ? await listRows(storage, odata`RowKey eq ${selection.batchId}`)
    : await listRows(
        storage,
        odata`PartitionKey eq ${selection.feedId} and ingestDate ge ${selection.fromDate} and ingestDate le ${selection.toDate}`,
      );
  if (selection.batchId && rows.length === 0) {
    throw new PipelineError('BATCH_NOT_FOUND', 'No batch with that id in the batches table');
  }
  if (!selection.batchId && rows.length === 0) {
    await requireKnownFeed(storage, selection.feedId!, options.feedsFile);
  }
  if (selection.batchId && (await isShredded(storage, selection.batchId))) {
    // Asked for by name: saying why nothing will happen is clearer than a run that skips it.
    throw new PipelineError(
      'BATCH_KEY_SHREDDED',
      'The batch was shredded; its stored input can never be read again, so it cannot be reprocessed',
    );
  }
  for (const row of rows) {
    await planRow(storage, row, plan);
  }
  return plan;
}

/**
 * Records a plan so that a run killed part-way can be resumed: one row per batch, then the run
 * row. Until the run row exists the batch rows are ignored, so a crash while saving loses
 * nothing but the plan.
 *
 * @param storage - the opened storage
 * @param plan - the plan to save
 */
export async function savePlan(storage: Storage, plan: ReprocessPlan): Promise<void> {
  for (const batch of plan.batches) {
    await saveBatchState(storage, plan.runId, batch);
  }
  await storage.reprocessRunsTable.upsertEntity(
    {
      partitionKey: RUN_PARTITION,
      rowKey: plan.runId,
      selectionKey: plan.selectionKey,
      replace: plan.replace,
      status: 'running',
      batchCount: plan.batches.length,
      skipped: JSON.stringify(plan.skipped),
      createdAt: new Date().toISOString(),
    },
    'Replace',
  );
}

/**
 * Finds the unfinished run of the same selection, if there is one, and loads its plan.
 *
 * @param storage - the opened storage
 * @param selectionKey - from `selectionKeyOf`
 */
export async function findUnfinishedRun(
  storage: Storage,
  selectionKey: string,
): Promise<ReprocessPlan | undefined> {
  const runs = storage.reprocessRunsTable.listEntities<{
    rowKey: string;
    replace: boolean;
    skipped: string;
  }>({
    queryOptions: {
      filter: odata`PartitionKey eq ${RUN_PARTITION} and selectionKey eq ${selectionKey} and status eq 'running'`,
    },
  });
  for await (const run of runs) {
    const batches: PlannedBatch[] = [];
    const rows = storage.reprocessRunsTable.listEntities<{ state: string }>({
      queryOptions: { filter: odata`PartitionKey eq ${run.rowKey}` },
    });
    for await (const row of rows) {
      batches.push(JSON.parse((row as unknown as { batch: string }).batch) as PlannedBatch);
    }
    return {
      runId: run.rowKey,
      selectionKey,
      resumed: true,
      replace: run.replace,
      batches: batches.sort(
        (a, b) => a.ingestDate.localeCompare(b.ingestDate) || a.batchId.localeCompare(b.batchId),
      ),
      skipped: JSON.parse(run.skipped) as SkippedItem[],
    };
  }
  return undefined;
}

/**
 * Stores one batch's state in its run.
 *
 * @param storage - the opened storage
 * @param runId - the run
 * @param batch - the batch and its state
 */
export async function saveBatchState(
  storage: Storage,
  runId: string,
  batch: PlannedBatch,
): Promise<void> {
  await storage.reprocessRunsTable.upsertEntity(
    {
      partitionKey: runId,
      rowKey: `${batch.feedId}.${batch.batchId}`,
      state: batch.state,
      batch: JSON.stringify(batch),
    },
    'Replace',
  );
}

/**
 * Marks a run finished, so the same command line starts a new run next time.
 *
 * @param storage - the opened storage
 * @param runId - the run
 */
export async function finishRun(storage: Storage, runId: string): Promise<void> {
  await storage.reprocessRunsTable.updateEntity(
    {
      partitionKey: RUN_PARTITION,
      rowKey: runId,
      status: 'finished',
      finishedAt: new Date().toISOString(),
    },
    'Merge',
  );
}

async function planPoisonMessage(
  storage: Storage,
  message: ClaimedPoisonMessage,
  plan: ReprocessPlan,
): Promise<void> {
  const poisonMessage = { messageId: message.messageId, popReceipt: message.popReceipt };
  const body = message.body;
  if (!body?.feedId || !body.batchId) {
    // No stored file behind it (an unreadable queue message, a blob that never existed).
    plan.skipped.push({
      feedId: body?.feedId,
      reasonCode: body?.reasonCode ?? 'QUEUE_MESSAGE_INVALID',
      poisonMessage,
    });
    return;
  }
  const rows = await listRows(
    storage,
    odata`PartitionKey eq ${body.feedId} and RowKey eq ${body.batchId}`,
  );
  if (rows.length === 0) {
    plan.skipped.push({
      feedId: body.feedId,
      batchId: body.batchId,
      reasonCode: 'BATCH_NOT_FOUND',
      poisonMessage,
    });
    return;
  }
  await planRow(storage, rows[0], plan, poisonMessage);
}

async function planRow(
  storage: Storage,
  row: BatchRow,
  plan: ReprocessPlan,
  poisonMessage?: { messageId: string; popReceipt: string },
): Promise<void> {
  const fromVersion = row.version ?? 1;
  const base = { feedId: row.partitionKey, batchId: row.rowKey };
  if (poisonMessage && row.status === 'committed') {
    // Replayed already (by `--batch` or `--feed`): the poison message only needs deleting.
    plan.batches.push({
      ...base,
      ingestDate: row.ingestDate,
      fromVersion,
      targetVersion: fromVersion,
      from: 'archive',
      manifestPath: row.manifestPath,
      sizeBytes: 0,
      messageCount: row.messagesIn,
      poisonMessage,
      state: 'planned',
    });
    return;
  }

  if (await isShredded(storage, row.rowKey)) {
    // Its archive and quarantine copy are sealed under the destroyed key: nothing can replay it.
    plan.skipped.push({ ...base, reasonCode: 'BATCH_KEY_SHREDDED', poisonMessage });
    return;
  }

  const manifest = await getManifest(storage, row.manifestPath);
  const from = manifest.archive ? 'archive' : manifest.quarantine ? 'quarantine' : undefined;
  if (!from) {
    // Limitation: a file quarantined as FILE_TOO_LARGE has no stored copy and cannot be replayed;
    // it stays in the inbound container and the run lists it as skipped.
    plan.skipped.push({ ...base, reasonCode: 'SOURCE_NOT_STORED', poisonMessage });
    return;
  }
  plan.batches.push({
    ...base,
    ingestDate: row.ingestDate,
    fromVersion,
    targetVersion: fromVersion + 1,
    from,
    manifestPath: row.manifestPath,
    sizeBytes: manifest.source.sizeBytes,
    messageCount: row.status === 'committed' ? row.messagesIn : 0,
    poisonMessage,
    state: 'planned',
  });
}

async function listRows(storage: Storage, filter: string): Promise<BatchRow[]> {
  const rows: BatchRow[] = [];
  for await (const row of storage.batchesTable.listEntities<BatchRow>({
    queryOptions: { filter },
  })) {
    rows.push(row);
  }
  return rows.sort(
    (a, b) => a.ingestDate.localeCompare(b.ingestDate) || a.rowKey.localeCompare(b.rowKey),
  );
}

/**
 * Refuses a feed that has no batch on any date and that the feeds file does not name: most
 * likely a typo, which would otherwise plan nothing and exit 0.
 */
async function requireKnownFeed(
  storage: Storage,
  feedId: string,
  feedsFile: string | undefined,
): Promise<void> {
  const pages = storage.batchesTable
    .listEntities<BatchRow>({
      queryOptions: { filter: odata`PartitionKey eq ${feedId}`, select: ['RowKey'] },
    })
    .byPage({ maxPageSize: 1 });
  // A page can come back empty with a continuation token and rows after it: read on.
  for await (const page of pages) {
    if (page.length > 0) {
      return;
    }
  }
  if (feedsFile && feedsFileNames(feedsFile, feedId)) {
    return;
  }
  throw new PipelineError(
    'FEED_NOT_FOUND',
    `Feed ${feedId} has no batches on any date and is not in the feeds file; check its name`,
  );
}

/**
 * Whether the feeds file has an entry for the feed. Only its `feeds` keys are read; an
 * unreadable file names no feed here, and the pipeline reports its problems when it loads it.
 */
function feedsFileNames(feedsFile: string, feedId: string): boolean {
  if (!existsSync(feedsFile)) {
    return false;
  }
  try {
    const parsed = JSON.parse(readFileSync(feedsFile, 'utf8')) as { feeds?: unknown };
    const feeds = parsed?.feeds;
    return typeof feeds === 'object' && feeds !== null && Object.hasOwn(feeds, feedId);
  } catch {
    return false;
  }
}

async function isShredded(storage: Storage, batchId: string): Promise<boolean> {
  return (await getBatchKeyRow(storage, batchId))?.state === 'shredded';
}

function isDate(value: string | undefined): boolean {
  return value !== undefined && DATE_PATTERN.test(value) && !Number.isNaN(Date.parse(value));
}

function invalid(message: string): PipelineError {
  return new PipelineError('REPROCESS_SELECTION_INVALID', message);
}
