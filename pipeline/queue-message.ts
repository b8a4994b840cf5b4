import { STORAGE_NAMES } from './storage.js';

/** The project's own queue message announcing a dropped file. */
export interface FileDroppedMessage {
  type: 'phi-ingest.file-dropped';
  version: 1;
  feedId: string;
  blobName: string;
  /** The etag at drop time; when it no longer matches, the blob was replaced. */
  etag?: string;
}

/** What a queue message asks for, whichever form it came in. */
export interface FileRef {
  feedId: string;
  blobName: string;
  etag?: string;
  source: 'phi-ingest' | 'event-grid' | 'cloud-event';
}

export type ParsedQueueMessage =
  | { ok: true; file: FileRef }
  | { ok: false; reasonCode: 'QUEUE_MESSAGE_INVALID' | 'QUEUE_MESSAGE_IGNORED' };

const FEED_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Builds the queue message text for a dropped file: base64 of JSON, the encoding Azure Functions
 * and Event Grid tooling expect by default.
 *
 * @param feedId - the feed the file belongs to
 * @param blobName - the blob in the inbound container
 * @param etag - the blob's etag after upload
 */
export function encodeFileDropped(feedId: string, blobName: string, etag?: string): string {
  const body: FileDroppedMessage = {
    type: 'phi-ingest.file-dropped',
    version: 1,
    feedId,
    blobName,
    ...(etag ? { etag } : {}),
  };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64');
}

/**
 * Reads a queue message: ours, an Event Grid `Microsoft.Storage.BlobCreated` event (Event Grid
 * schema or CloudEvents 1.0), base64-encoded or not. A BlobCreated event for another container
 * is ignored; anything unreadable is invalid. Never throws and never quotes the text.
 *
 * @param messageText - the queue message text as received
 */
export function parseQueueMessage(messageText: string): ParsedQueueMessage {
  const body = decodeJsonBody(messageText);
  if (body === undefined) {
    return { ok: false, reasonCode: 'QUEUE_MESSAGE_INVALID' };
  }
  // Event Grid posts arrays to webhooks; a storage queue gets one event, but accept a one-item array.
  const event = Array.isArray(body) && body.length === 1 ? body[0] : body;
  if (!event || typeof event !== 'object') {
    return { ok: false, reasonCode: 'QUEUE_MESSAGE_INVALID' };
  }
  const record = event as Record<string, unknown>;

  if (record.type === 'phi-ingest.file-dropped') {
    return parseOwnMessage(record);
  }
  if (record.eventType === 'Microsoft.Storage.BlobCreated') {
    return parseBlobCreated(record, 'event-grid');
  }
  if (record.specversion === '1.0' && record.type === 'Microsoft.Storage.BlobCreated') {
    return parseBlobCreated(record, 'cloud-event');
  }
  if (typeof record.eventType === 'string' || typeof record.specversion === 'string') {
    // Another event type (a delete, say) routed to our queue: nothing to ingest.
    return { ok: false, reasonCode: 'QUEUE_MESSAGE_IGNORED' };
  }
  return { ok: false, reasonCode: 'QUEUE_MESSAGE_INVALID' };
}

function parseOwnMessage(record: Record<string, unknown>): ParsedQueueMessage {
  const { feedId, blobName, etag } = record;
  if (
    record.version !== 1 ||
    typeof feedId !== 'string' ||
    !FEED_ID_PATTERN.test(feedId) ||
    typeof blobName !== 'string' ||
    !isSafeBlobName(blobName) ||
    (etag !== undefined && typeof etag !== 'string')
  ) {
    return { ok: false, reasonCode: 'QUEUE_MESSAGE_INVALID' };
  }
  return { ok: true, file: { feedId, blobName, etag, source: 'phi-ingest' } };
}

/**
 * The subject of a BlobCreated event is `/blobServices/default/containers/<c>/blobs/<name>`; the
 * feed is the blob name's first path segment, so feeds drop under `inbound/<feedId>/`.
 */
function parseBlobCreated(
  record: Record<string, unknown>,
  source: 'event-grid' | 'cloud-event',
): ParsedQueueMessage {
  const subject = typeof record.subject === 'string' ? record.subject : '';
  const match = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/.exec(subject);
  if (!match) {
    return { ok: false, reasonCode: 'QUEUE_MESSAGE_INVALID' };
  }
  if (match[1] !== STORAGE_NAMES.inboundContainer) {
    return { ok: false, reasonCode: 'QUEUE_MESSAGE_IGNORED' };
  }

  // The subject carries the blob name as written, not URL-encoded.
  const blobName = match[2];
  const feedId = blobName.split('/')[0];
  if (!isSafeBlobName(blobName) || !FEED_ID_PATTERN.test(feedId) || !blobName.includes('/')) {
    return { ok: false, reasonCode: 'QUEUE_MESSAGE_INVALID' };
  }
  const data = (record.data ?? {}) as Record<string, unknown>;
  const etag = typeof data.eTag === 'string' ? data.eTag : undefined;
  return { ok: true, file: { feedId, blobName, etag, source } };
}

function decodeJsonBody(messageText: string): unknown {
  const trimmed = messageText.trim();
  const candidates =
    trimmed.startsWith('{') || trimmed.startsWith('[')
      ? [trimmed]
      : [Buffer.from(trimmed, 'base64').toString('utf8')];
  for (const candidate of candidates) {
    try {
      return JSON.parse(candidate);
    } catch {
      // JSON.parse quotes its input in the message; the caller only learns "invalid".
    }
  }
  return undefined;
}

function isSafeBlobName(blobName: string): boolean {
  return (
    blobName.length > 0 &&
    blobName.length <= 1024 &&
    !blobName.startsWith('/') &&
    !blobName.split('/').some((part) => part === '..' || part === '.' || part === '')
  );
}
