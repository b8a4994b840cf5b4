import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';

import type { App } from './app.js';
import { errorCodeOf, PipelineError } from './errors.js';
import type { RunReport } from './orchestrator.js';
import { appendToChain, readChain, type ChainedRecord } from './signed-chain.js';
import type { Storage } from './storage.js';

/** The chain that holds every audit event, for all feeds. */
export const AUDIT_CHAIN = 'audit';

/** What was done. Commands that read plaintext or change stored data each have one. */
export type AuditAction =
  | 'ingest'
  | 'run'
  | 'decrypt'
  | 'reprocess'
  | 'batch-shred'
  | 'keys-init'
  | 'keys-rotate'
  | 'keys-rewrap'
  | 'verify';

/** Who: the configured operator name, else the OS user (an Azure AD identity is a later step). */
export interface AuditActor {
  name: string;
  source: 'PHI_INGEST_OPERATOR' | 'os-user';
}

/** What a caller says about an event; who and when are filled in. Ids, codes and counts only. */
export interface AuditEventInput {
  action: AuditAction;
  /**
   * `started` for reads that release plaintext as they go; the final event follows. A streamed
   * read whose reader stopped it early (`decrypt … | head`) ends `closed-by-reader`: not a
   * failure, and not every byte was released.
   */
  outcome: 'succeeded' | 'failed' | 'started' | 'closed-by-reader';
  feedId?: string;
  batchId?: string;
  /** A stored path (`output/feed=…/part-00000.ndjson.gz.enc`); paths never carry PHI. */
  target?: string;
  /** The error code of a failed action. */
  errorCode?: string;
  /** Counts and ids: `{ batchCount: 3 }`. Never values from a file. */
  detail?: Record<string, string | number | boolean>;
}

/** One audit event as chained: signed, with its place in the `audit` chain. */
export interface AuditEvent extends ChainedRecord {
  eventVersion: 1;
  eventId: string;
  at: string;
  actor: AuditActor;
  action: AuditAction;
  outcome: AuditEventInput['outcome'];
  feedId?: string;
  batchId?: string;
  target?: string;
  errorCode?: string;
  detail?: Record<string, string | number | boolean>;
}

/** What recording needs from an app: storage, the operator setting and the signing key. */
export type AuditContext = Pick<App, 'storage' | 'config' | 'keyRing'>;

/**
 * Returns who audit events name for this process.
 *
 * @param operator - `PHI_INGEST_OPERATOR`, if set
 */
export function currentActor(operator?: string): AuditActor {
  if (operator) {
    return { name: operator, source: 'PHI_INGEST_OPERATOR' };
  }
  return { name: userInfo().username, source: 'os-user' };
}

/**
 * Signs an audit event and appends it to the audit chain. Call it for every action that reads
 * plaintext or changes stored data; `reprocess` calls it once per batch version it writes.
 *
 * @param app - storage, config and keys
 * @param input - what happened
 */
export async function recordAuditEvent(
  app: AuditContext,
  input: AuditEventInput,
): Promise<AuditEvent> {
  if (!app.keyRing) {
    throw new Error('recordAuditEvent needs an app opened with keys');
  }
  const event: AuditEvent = {
    eventVersion: 1,
    eventId: randomUUID(),
    at: new Date().toISOString(),
    actor: currentActor(app.config.operator),
    ...input,
  };
  const { record } = await appendToChain<AuditEvent>(
    app.storage,
    app.keyRing,
    AUDIT_CHAIN,
    event.eventId,
    (chain) => ({ ...event, chain }),
  );
  return record;
}

/**
 * Runs an action and records its outcome as one audit event: `succeeded` with the detail the
 * action reports, or `failed` with the error's code (the error is rethrown).
 *
 * @param app - storage, config and keys
 * @param input - the event without its outcome
 * @param action - the work; may return detail counts for the event
 */
export async function withAuditEvent<T>(
  app: AuditContext,
  input: Omit<AuditEventInput, 'outcome'>,
  action: () => Promise<T>,
  detailOf?: (result: T) => AuditEventInput['detail'],
): Promise<T> {
  let result: T;
  try {
    result = await action();
  } catch (error) {
    await recordAuditEvent(app, { ...input, outcome: 'failed', errorCode: errorCodeOf(error) });
    throw error;
  }
  await recordAuditEvent(app, {
    ...input,
    outcome: 'succeeded',
    detail: detailOf?.(result) ?? input.detail,
  });
  return result;
}

/** Which events `audit` lists. */
export interface AuditFilter {
  since?: Date;
  feedId?: string;
}

/**
 * Lists audit events in chain order, filtered.
 *
 * @param storage - the opened storage
 * @param filter - since a time, for a feed
 */
export async function listAuditEvents(
  storage: Storage,
  filter: AuditFilter = {},
): Promise<AuditEvent[]> {
  const snapshot = await readChain<AuditEvent>(storage, AUDIT_CHAIN);
  return [...snapshot.entries.values()]
    .sort((a, b) => a.seq - b.seq)
    .map((entry) => entry.record)
    .filter((event) => !filter.since || new Date(event.at) >= filter.since)
    .filter((event) => !filter.feedId || event.feedId === filter.feedId);
}

/**
 * Formats audit events as aligned text lines, one per event.
 *
 * @param events - the events
 */
export function formatAuditEvents(events: AuditEvent[]): string {
  if (events.length === 0) {
    return 'no audit events';
  }
  return events
    .map((event) =>
      [
        String(event.chain?.seq ?? '?').padStart(6),
        event.at,
        event.actor.name.padEnd(16),
        event.action.padEnd(12),
        event.outcome.padEnd(16),
        event.errorCode ?? '',
        event.feedId ? `feed=${event.feedId}` : '',
        event.batchId ? `batch=${event.batchId}` : '',
        event.target ?? '',
        event.detail
          ? Object.entries(event.detail)
              .map(([key, value]) => `${key}=${value}`)
              .join(' ')
          : '',
      ]
        .filter((column) => column !== '')
        .join('  '),
    )
    .join('\n');
}

/**
 * Parses `--since`: an ISO date or date-time.
 *
 * @param text - the option value
 */
export function parseSince(text: string): Date {
  const since = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(since.getTime())) {
    throw new PipelineError('CONFIG_INVALID', '--since must be an ISO date such as 2026-12-01');
  }
  return since;
}

/**
 * Counts for the audit event of `run` or `ingest`: batches by how they ended.
 *
 * @param report - the orchestrator's run report
 */
export function auditDetailOfRun(report: RunReport): Record<string, number> {
  const count = (kind: string) => report.results.filter((result) => result.kind === kind).length;
  return {
    committedCount: count('committed'),
    quarantinedCount: count('quarantined'),
    alreadyDoneCount: count('already-done'),
    poisonedCount: report.poisoned.length,
  };
}
