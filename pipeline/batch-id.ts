import { odata } from '@azure/data-tables';

import { PipelineError } from './errors.js';
import type { BatchRow } from './manifest.js';
import type { Storage } from './storage.js';

/** Hex digits of a batch id that summaries and `status` print: the shortest prefix accepted. */
export const SHORT_BATCH_ID_LENGTH = 12;

/** Hex digits of a full batch id (see `batchIdFor`). */
export const BATCH_ID_LENGTH = 32;

/** Where to look for a batch id and how to name the value in an error. */
export interface ResolveBatchIdOptions {
  /** Only the batches of this feed. */
  feedId?: string;
  /** How the command line takes the value, for messages: `--batch`, `batch show`. */
  optionName: string;
}

/**
 * Turns a batch id as a person types it, the full 32 hex digits or a prefix of at least the 12
 * that summaries print, into the full id, found among the rows of the batches table. A full id
 * is returned as given, without a lookup, so each command keeps its own answer for an id that
 * has no row (a batch key without a committed batch, say).
 *
 * @param storage - the opened storage
 * @param text - the id or prefix from the command line; upper-case hex is accepted
 * @param options - feed to search and the option's name
 */
export async function resolveBatchId(
  storage: Storage,
  text: string,
  options: ResolveBatchIdOptions,
): Promise<string> {
  const prefix = text.toLowerCase();
  if (!/^[0-9a-f]+$/.test(prefix) || prefix.length < SHORT_BATCH_ID_LENGTH) {
    throw new PipelineError(
      'BATCH_ID_INVALID',
      `${options.optionName} takes a batch id: its ${BATCH_ID_LENGTH} hex digits, or at least the first ${SHORT_BATCH_ID_LENGTH}`,
    );
  }
  if (prefix.length > BATCH_ID_LENGTH) {
    throw new PipelineError(
      'BATCH_ID_INVALID',
      `${options.optionName} takes a batch id: at most ${BATCH_ID_LENGTH} hex digits`,
    );
  }
  if (prefix.length === BATCH_ID_LENGTH) {
    return prefix;
  }

  // Every id with this prefix sorts between the prefix padded with 0s and the one padded with fs.
  const last = prefix.padEnd(BATCH_ID_LENGTH, 'f');
  const filter = options.feedId
    ? odata`PartitionKey eq ${options.feedId} and RowKey ge ${prefix} and RowKey le ${last}`
    : odata`RowKey ge ${prefix} and RowKey le ${last}`;
  const found = new Set<string>();
  for await (const row of storage.batchesTable.listEntities<BatchRow>({
    queryOptions: { filter },
  })) {
    found.add(row.rowKey);
  }

  const where = options.feedId ? ` of feed ${options.feedId}` : '';
  if (found.size === 0) {
    throw new PipelineError(
      'BATCH_NOT_FOUND',
      `No batch${where} in the batches table has an id starting with the ${prefix.length} digits given`,
    );
  }
  if (found.size > 1) {
    throw new PipelineError(
      'BATCH_ID_AMBIGUOUS',
      `${found.size} batches${where} have ids starting with the ${prefix.length} digits given; give more digits`,
    );
  }
  return [...found][0];
}

/**
 * Resolves a command's `--batch` option, within its `--feed` when given; undefined when the
 * option was not given.
 *
 * @param storage - the opened storage
 * @param flags - the command's `--batch` and `--feed` values
 */
export async function resolveBatchOption(
  storage: Storage,
  flags: { batch?: string; feed?: string },
): Promise<string | undefined> {
  return flags.batch === undefined
    ? undefined
    : resolveBatchId(storage, flags.batch, { feedId: flags.feed, optionName: '--batch' });
}
