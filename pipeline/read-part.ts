import { pipeline } from 'node:stream/promises';

import { codecOfPath, createDecompressStream } from '../transforms/compression.js';
import {
  createDecryptStream,
  readEnvelopeHeader,
  type EnvelopeHeader,
  type KekResolver,
} from '../transforms/crypto/index.js';
import type { App } from './app.js';
import { recordAuditEvent, withAuditEvent, type AuditEventInput } from './audit.js';
import { resolveEnvelopeKeys } from './batch-keys.js';
import { errorCodeOf, PipelineError } from './errors.js';
import type { KeyRing } from './key-store.js';
import { STORAGE_NAMES } from './storage.js';

/** Containers whose objects are sealed in the envelope format. */
export const SEALED_CONTAINERS: readonly string[] = [
  STORAGE_NAMES.outputContainer,
  STORAGE_NAMES.rejectsContainer,
  STORAGE_NAMES.archiveContainer,
  STORAGE_NAMES.quarantineContainer,
];

/** Why plaintext is read; recorded as the audit event's action. */
export interface ReadSealedOptions {
  /** @default 'decrypt' */
  purpose?: 'decrypt' | 'reprocess';
}

/** How a streamed read ended: every byte written, or the reader closed the destination first. */
export type StreamedReadEnd = 'complete' | 'closed-by-reader';

/**
 * The one path by which stored plaintext is read: downloads a sealed object and decrypts it on
 * the worker pool. Every command that shows or reuses plaintext goes through here. Each read is
 * an audit event, recorded before the plaintext is returned: if it cannot be recorded, the
 * plaintext is not released.
 *
 * @param app - an app opened with keys and pool
 * @param path - `container/path`, or a path in the output container
 * @param options - why it is read
 */
// Limitation: readSealedPart holds the whole part in memory (the pool path); only the decrypt
// command and verify stream.
export async function readSealedPart(
  app: App,
  path: string,
  options: ReadSealedOptions = {},
): Promise<Uint8Array> {
  const { container, blobPath } = splitStoredPath(path);
  return withAuditEvent(app, auditInput(container, blobPath, options), async () => {
    let sealed: Buffer;
    try {
      sealed = await app.storage.blobService
        .getContainerClient(container)
        .getBlobClient(blobPath)
        .downloadToBuffer();
    } catch (error) {
      throw notFoundOr(error, container);
    }
    const keyRing = requireKeyRing(app);
    if (!app.pool) {
      throw new Error('readSealedPart needs an app opened with keys and pool');
    }

    const keys = await resolveEnvelopeKeys(app.storage, keyRing, headerOf(sealed));
    const opened = await app.pool.open({ sealed, codec: codecOfPath(blobPath), ...keys });
    if (opened.status === 'failed') {
      throw new PipelineError('DECRYPT_FAILED', `The part could not be decrypted (${opened.code})`);
    }
    return opened.plaintext;
  });
}

/**
 * Decrypts a stored object straight into a writable stream, in constant memory: one envelope
 * chunk and the decompressor's window at a time, on this thread. Plaintext is written as each chunk
 * authenticates, so a truncated object shows only at the end: the promise rejects with
 * `DECRYPT_FAILED` after some output was written. A destination whose reader went away first
 * (EPIPE: `decrypt … | head`) ends the read early without an error. Audited as `started`, then
 * `succeeded`, `closed-by-reader` or `failed`.
 *
 * @param app - an app opened with keys
 * @param path - `container/path`, or a path in the output container
 * @param destination - where the plaintext goes; it is not ended
 * @param options - why it is read
 * @returns `complete`, or `closed-by-reader` when the reader closed the destination early
 */
export async function streamSealedPart(
  app: App,
  path: string,
  destination: NodeJS.WritableStream,
  options: ReadSealedOptions = {},
): Promise<StreamedReadEnd> {
  const { container, blobPath } = splitStoredPath(path);
  const input = auditInput(container, blobPath, options);
  await recordAuditEvent(app, { ...input, outcome: 'started' });

  let end: StreamedReadEnd;
  try {
    end = await decryptInto(app, container, blobPath, destination);
  } catch (error) {
    await recordAuditEvent(app, { ...input, outcome: 'failed', errorCode: errorCodeOf(error) });
    throw error;
  }
  await recordAuditEvent(app, {
    ...input,
    outcome: end === 'complete' ? 'succeeded' : 'closed-by-reader',
  });
  return end;
}

/**
 * Splits `container/path` (or a bare output path) into container and blob path.
 *
 * @param path - as given to `decrypt`
 */
export function splitStoredPath(path: string): { container: string; blobPath: string } {
  const slash = path.indexOf('/');
  const head = slash > 0 ? path.slice(0, slash) : '';
  const split = SEALED_CONTAINERS.includes(head)
    ? { container: head, blobPath: path.slice(slash + 1) }
    : { container: STORAGE_NAMES.outputContainer, blobPath: path };
  const parts = split.blobPath.split('/');
  if (
    !split.blobPath.endsWith('.enc') ||
    parts.some((part) => part === '' || part === '.' || part === '..')
  ) {
    throw new PipelineError(
      'PART_PATH_INVALID',
      `A part path is <container>/<path ending in .enc>, with container one of ${SEALED_CONTAINERS.join(', ')}; ${LIST_PARTS_HINT}`,
    );
  }
  return split;
}

/**
 * Reads a sealed part as UTF-8 text.
 *
 * @param app - an app opened with keys and pool
 * @param path - `container/path`, or a path in the output container
 */
export async function decryptStored(app: App, path: string): Promise<string> {
  return Buffer.from(await readSealedPart(app, path)).toString('utf8');
}

/** Where a person finds the paths `decrypt` takes. */
const LIST_PARTS_HINT = "phi-ingest batch show <batch id> lists a batch's parts";

/** Preamble plus the largest header JSON the envelope allows (see docs/encryption.md). */
const ENVELOPE_HEADER_MAX_BYTES = 9 + 16 * 1024;

async function decryptInto(
  app: App,
  container: string,
  blobPath: string,
  destination: NodeJS.WritableStream,
): Promise<StreamedReadEnd> {
  const client = app.storage.blobService.getContainerClient(container).getBlobClient(blobPath);
  let headerBytes: Buffer;
  try {
    headerBytes = await readStream(
      (await client.download(0, ENVELOPE_HEADER_MAX_BYTES)).readableStreamBody,
    );
  } catch (error) {
    throw notFoundOr(error, container);
  }
  const keys = await resolveEnvelopeKeys(app.storage, requireKeyRing(app), headerOf(headerBytes));
  const resolveKek: KekResolver = (kekId, kekVersion) =>
    kekId === keys.encryptionKeyId ? keys.keyEncryptionKeys[kekVersion] : undefined;

  const body = (await client.download()).readableStreamBody;
  if (!body) {
    throw new PipelineError('PART_NOT_FOUND', `No such part in container ${container}`);
  }
  const stages: Array<NodeJS.ReadableStream | NodeJS.ReadWriteStream> = [
    body,
    createDecryptStream(resolveKek),
  ];
  const decompress = createDecompressStream(codecOfPath(blobPath));
  if (decompress) {
    stages.push(decompress);
  }
  try {
    await pipeline([...stages, destination], { end: false });
  } catch (error) {
    // Only a write fails with EPIPE, and only the destination is written to outside memory.
    if ((error as { code?: unknown }).code === 'EPIPE') {
      return 'closed-by-reader';
    }
    throw new PipelineError(
      'DECRYPT_FAILED',
      `The part could not be decrypted (${errorCodeOf(error)})`,
    );
  }
  return 'complete';
}

function auditInput(
  container: string,
  blobPath: string,
  options: ReadSealedOptions,
): Omit<AuditEventInput, 'outcome'> {
  const feedId = /(?:^|\/)feed=([a-z0-9-]{1,63})\//.exec(blobPath)?.[1];
  const batchId = /(?:^|\/)batch=([A-Za-z0-9_-]{1,128})(?:\.v\d+)?\//.exec(blobPath)?.[1];
  return {
    action: options.purpose ?? 'decrypt',
    target: `${container}/${blobPath}`,
    feedId,
    batchId,
  };
}

function headerOf(bytes: Uint8Array): EnvelopeHeader {
  try {
    return readEnvelopeHeader(bytes).header;
  } catch (error) {
    throw new PipelineError(
      'DECRYPT_FAILED',
      `The part could not be decrypted (${errorCodeOf(error)})`,
    );
  }
}

function requireKeyRing(app: App): KeyRing {
  if (!app.keyRing) {
    throw new Error('Reading a sealed part needs an app opened with keys');
  }
  return app.keyRing;
}

function notFoundOr(error: unknown, container: string): unknown {
  if ((error as { statusCode?: number }).statusCode === 404) {
    return new PipelineError(
      'PART_NOT_FOUND',
      `No such part in container ${container}; ${LIST_PARTS_HINT}`,
    );
  }
  return error;
}

async function readStream(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream ?? []) {
    chunks.push(Buffer.from(chunk as Buffer));
  }
  return Buffer.concat(chunks);
}
