import { odata } from '@azure/data-tables';
import type { QueueClient } from '@azure/storage-queue';

import { listRecentBatches, type BatchRow } from './manifest.js';
import { decodePoisonMessage } from './poison-queue.js';
import { table } from './summary.js';
import { STORAGE_NAMES, type Storage } from './storage.js';

/** One queue's backlog. */
export interface QueueStatus {
  name: string;
  /** Azure's approximate count, including messages that are invisible (claimed or backing off). */
  approximateDepth: number;
  /** Age of the oldest visible message, in whole seconds; null when none is visible. */
  oldestMessageAgeSec: number | null;
}

/** Batches that finished within a window, summed. */
export interface WindowStatus {
  windowSec: number;
  batches: number;
  committed: number;
  quarantined: number;
  /** Batches whose latest version came from `reprocess`. */
  reprocessed: number;
  messagesIn: number;
  written: number;
  rejected: number;
  rejectsByReason: Record<string, number>;
  quarantinedByReason: Record<string, number>;
  /** HL7 messages, resources or lines taken in per second, averaged over the window. */
  messagesPerSecond: number;
}

/** What `status` shows. Ids, counts and codes only: it reads no PHI and needs no key. */
export interface PipelineStatus {
  generatedAt: string;
  storage: Storage['kind'];
  /** Approximate depth by queue name. */
  queues: Record<string, number>;
  queueDetails: QueueStatus[];
  poison: QueueStatus & {
    /** Reason codes of the poison messages peeked (at most `sampledMessages`). */
    byReason: Record<string, number>;
    sampledMessages: number;
  };
  lastHour: WindowStatus;
  lastDay: WindowStatus;
  /** The latest batches, newest first. */
  batches: BatchRow[];
}

const HOUR_SEC = 3600;
const DAY_SEC = 24 * HOUR_SEC;
/** Azure's largest peek. */
const PEEK_MAX = 32;

/**
 * Gathers the pipeline's status from queue properties, peeks and the batches table. It never
 * reads a blob or a queue message's file reference, so it needs no key and shows no PHI.
 *
 * @param storage - the opened storage
 * @param options - how many recent batches to list; `now` for tests
 */
export async function getPipelineStatus(
  storage: Storage,
  options: { recentBatches?: number; now?: Date } = {},
): Promise<PipelineStatus> {
  const now = options.now ?? new Date();
  const daySince = new Date(now.getTime() - DAY_SEC * 1000).toISOString();
  const [inbound, poison, poisonPeek, dayRows, recent] = await Promise.all([
    getQueueStatus(storage.inboundQueue, STORAGE_NAMES.inboundQueue, now),
    getQueueStatus(storage.poisonQueue, STORAGE_NAMES.poisonQueue, now),
    storage.poisonQueue.peekMessages({ numberOfMessages: PEEK_MAX }),
    listRowsSince(storage, daySince),
    listRecentBatches(storage, options.recentBatches ?? 10),
  ]);

  // Limitation: poison reasons come from a peek of at most 32 messages; a deeper poison queue
  // shows its full depth but the reasons of the first 32 only.
  const byReason: Record<string, number> = {};
  for (const item of poisonPeek.peekedMessageItems) {
    const reasonCode = decodePoisonMessage(item.messageText)?.reasonCode ?? 'UNREADABLE';
    byReason[reasonCode] = (byReason[reasonCode] ?? 0) + 1;
  }
  const hourSince = new Date(now.getTime() - HOUR_SEC * 1000).toISOString();

  return {
    generatedAt: now.toISOString(),
    storage: storage.kind,
    queues: { [inbound.name]: inbound.approximateDepth, [poison.name]: poison.approximateDepth },
    queueDetails: [inbound, poison],
    poison: { ...poison, byReason, sampledMessages: poisonPeek.peekedMessageItems.length },
    lastHour: summarise(
      dayRows.filter((row) => row.finishedAt >= hourSince),
      HOUR_SEC,
    ),
    lastDay: summarise(dayRows, DAY_SEC),
    batches: recent,
  };
}

/**
 * Formats the status for a terminal.
 *
 * @param status - from `getPipelineStatus`
 */
export function formatPipelineStatus(status: PipelineStatus): string {
  const lines = [`status at ${status.generatedAt} (storage: ${status.storage})`, ''];
  lines.push('queue            depth  oldest');
  for (const queue of status.queueDetails) {
    const age = queue.oldestMessageAgeSec === null ? '-' : formatAge(queue.oldestMessageAgeSec);
    lines.push(`${queue.name.padEnd(15)}  ${String(queue.approximateDepth).padStart(5)}  ${age}`);
  }
  const reasons = Object.entries(status.poison.byReason).map(([code, count]) => `${code}:${count}`);
  if (reasons.length > 0) {
    lines.push(`poison reasons (first ${status.poison.sampledMessages}): ${reasons.join(', ')}`);
  }
  lines.push('');
  const windows = [
    ['last hour', status.lastHour],
    ['last day', status.lastDay],
  ] as const;
  lines.push(
    table([
      ['window', 'batches', 'quarantined', 'reprocessed', 'in', 'written', 'rejected', 'msg/s'],
      ...windows.map(([name, window]) =>
        [
          name,
          window.batches,
          window.quarantined,
          window.reprocessed,
          window.messagesIn,
          window.written,
          window.rejected,
          window.messagesPerSecond,
        ].map(String),
      ),
    ]),
  );
  const rejects = Object.entries(status.lastDay.rejectsByReason).map(
    ([code, count]) => `${code}:${count}`,
  );
  lines.push(`rejects by reason (last day): ${rejects.length > 0 ? rejects.join(', ') : 'none'}`);
  const quarantined = Object.entries(status.lastDay.quarantinedByReason).map(
    ([code, count]) => `${code}:${count}`,
  );
  lines.push(
    `quarantined by reason (last day): ${quarantined.length > 0 ? quarantined.join(', ') : 'none'}`,
  );
  return lines.join('\n') + '\n';
}

async function getQueueStatus(queue: QueueClient, name: string, now: Date): Promise<QueueStatus> {
  const [properties, peeked] = await Promise.all([
    queue.getProperties(),
    queue.peekMessages({ numberOfMessages: 1 }),
  ]);
  // Limitation: a peek sees visible messages only, so claimed or backing-off messages have no
  // age here; a queue whose every message is claimed shows a depth and a null age.
  const oldest = peeked.peekedMessageItems[0]?.insertedOn;
  return {
    name,
    approximateDepth: properties.approximateMessagesCount ?? 0,
    oldestMessageAgeSec: oldest
      ? Math.max(0, Math.floor((now.getTime() - oldest.getTime()) / 1000))
      : null,
  };
}

async function listRowsSince(storage: Storage, since: string): Promise<BatchRow[]> {
  const rows: BatchRow[] = [];
  const query = storage.batchesTable.listEntities<BatchRow>({
    queryOptions: { filter: odata`finishedAt ge ${since}` },
  });
  for await (const row of query) {
    rows.push(row);
  }
  return rows;
}

function summarise(rows: BatchRow[], windowSec: number): WindowStatus {
  const window: WindowStatus = {
    windowSec,
    batches: rows.length,
    committed: 0,
    quarantined: 0,
    reprocessed: 0,
    messagesIn: 0,
    written: 0,
    rejected: 0,
    rejectsByReason: {},
    quarantinedByReason: {},
    messagesPerSecond: 0,
  };
  for (const row of rows) {
    if (row.status === 'quarantined') {
      window.quarantined++;
      window.quarantinedByReason[row.reasonCode] =
        (window.quarantinedByReason[row.reasonCode] ?? 0) + 1;
    } else {
      window.committed++;
    }
    window.reprocessed += (row.version ?? 1) > 1 ? 1 : 0;
    window.messagesIn += row.messagesIn;
    window.written += row.written;
    window.rejected += row.rejected;
    for (const [code, count] of Object.entries(parseCounts(row.rejectedByReason))) {
      window.rejectsByReason[code] = (window.rejectsByReason[code] ?? 0) + count;
    }
  }
  window.messagesPerSecond = Math.round((window.messagesIn / windowSec) * 1000) / 1000;
  return window;
}

function parseCounts(text: string | undefined): Record<string, number> {
  try {
    return JSON.parse(text || '{}') as Record<string, number>;
  } catch {
    return {};
  }
}

function formatAge(seconds: number): string {
  if (seconds < 120) {
    return `${seconds}s`;
  }
  return seconds < 7200 ? `${Math.floor(seconds / 60)}m` : `${Math.floor(seconds / 3600)}h`;
}
