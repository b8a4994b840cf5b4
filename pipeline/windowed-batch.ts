import { createHash } from 'node:crypto';

import type { BlobClient } from '@azure/storage-blob';

import type { Compression } from '../transforms/compression.js';
import type { BatchOutputs } from './batch-outputs.js';
import { timedStage, type BatchObserver } from './batch-observer.js';
import { PipelineError } from './errors.js';
import type { WorkerPool } from './worker-pool.js';
import type {
  EncodedTransformOutcome,
  FailedOutcome,
  Hl7EnvelopeState,
  PrepareOutcome,
  TaskDeidFields,
} from '../workers/task-types.js';

/** A batch's source, read front to back in windows. */
export interface SourceReader {
  sizeBytes: number;
  /**
   * Fills `target` with the file's bytes from `offset` on.
   *
   * @param offset - where in the file to start
   * @param target - how many bytes to read, and where to put them
   */
  read(offset: number, target: Uint8Array): Promise<void>;
}

/** How the windows of one file are transformed. */
export interface WindowRunOptions {
  pool: WorkerPool;
  outputs: BatchOutputs;
  windowBytes: number;
  /** Records per transform task. */
  taskRecords: number;
  acceptBatchCountMismatch: boolean;
  pseudonymKey: Uint8Array;
  deid: TaskDeidFields;
  compression: Compression;
  observer?: BatchObserver;
}

/** How the transform of a file ended: its format and SHA-256, or the first failure. */
export type WindowRunResult =
  | {
      status: 'ok';
      format: PrepareOutcome['format'];
      sha256: string;
      countMismatch?: PrepareOutcome['countMismatch'];
      trailersMissing?: PrepareOutcome['trailersMissing'];
    }
  | { status: 'failed'; failure: FailedOutcome };

/**
 * A source held in memory (reprocess, tests): windows are copies of its slices.
 *
 * @param content - the whole file
 */
export function memorySource(content: Uint8Array): SourceReader {
  return {
    sizeBytes: content.length,
    read: async (offset, target) => {
      target.set(content.subarray(offset, offset + target.length));
    },
  };
}

/**
 * A source read from a blob with ranged downloads, each on the condition that the blob is still
 * the version the batch id was derived from.
 *
 * @param client - the blob
 * @param etag - the version read
 * @param sizeBytes - its length
 */
export function blobSource(client: BlobClient, etag: string, sizeBytes: number): SourceReader {
  return {
    sizeBytes,
    read: async (offset, target) => {
      if (target.length === 0) {
        return;
      }
      try {
        await downloadInto(client, etag, offset, target);
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 412) {
          throw new PipelineError('BLOB_CHANGED', 'Inbound blob changed while being read', {
            retryable: true,
          });
        }
        throw error;
      }
    },
  };
}

/** Times a broken download body is resumed before the read fails (the SDK's default is 5). */
const DOWNLOAD_RETRIES = 5;

// One ranged GET whose body is copied chunk by chunk into `target`. The SDK's `downloadToBuffer`
// copies with `Buffer.fill`, which cost more main-thread time than anything else in a batch's
// download (about 1.6 ms per MB against 0.1 for `copy`). The body stream retries a broken
// connection itself, on the same condition, from where it stopped.
async function downloadInto(
  client: BlobClient,
  etag: string,
  offset: number,
  target: Uint8Array,
): Promise<void> {
  const response = await client.download(offset, target.length, {
    conditions: { ifMatch: etag },
    maxRetryRequests: DOWNLOAD_RETRIES,
  });
  const body = response.readableStreamBody;
  if (body === undefined) {
    throw new PipelineError('STORAGE_UNAVAILABLE', 'A blob download returned no body', {
      retryable: true,
    });
  }
  const into = Buffer.from(target.buffer, target.byteOffset, target.byteLength);
  let filled = 0;
  for await (const chunk of body) {
    const bytes = chunk as Buffer;
    const take = Math.min(bytes.length, into.length - filled);
    bytes.copy(into, filled, 0, take);
    filled += take;
  }
  if (filled !== target.length) {
    throw new PipelineError('STORAGE_UNAVAILABLE', 'A blob download ended early', {
      retryable: true,
    });
  }
}

/**
 * Hashes a source without keeping it, one window at a time.
 *
 * @param reader - the source
 * @param windowBytes - bytes read at a time
 * @param onBytes - also given every window, in order (to stream a copy), before the next read
 */
export async function hashSource(
  reader: SourceReader,
  windowBytes: number,
  onBytes?: (bytes: Uint8Array) => Promise<void>,
): Promise<string> {
  const hash = createHash('sha256');
  for (let offset = 0; offset < reader.sizeBytes; offset += windowBytes) {
    const bytes = Buffer.alloc(Math.min(windowBytes, reader.sizeBytes - offset));
    await reader.read(offset, bytes);
    hash.update(bytes);
    await onBytes?.(bytes);
  }
  return hash.digest('hex');
}

/**
 * Transforms a file window by window into `options.outputs`. Each window is read into shared
 * memory (the unfinished tail of the window before, then up to `windowBytes` more: the first
 * windows are smaller, see `windowSize`), a `window` task
 * finds its records and where to cut it, and transform tasks run over the records before the
 * cut while the next window is read. At most two windows are held: the one being transformed
 * and the one being read. Outcomes reach `outputs` in input order, so names and contents are
 * those of the whole-file path, and a rerun writes the same.
 *
 * @param reader - the source
 * @param options - pool, outputs and settings
 */
export async function transformInWindows(
  reader: SourceReader,
  options: WindowRunOptions,
): Promise<WindowRunResult> {
  const hash = createHash('sha256');
  const state: WindowState = { recordsBefore: 0, windowOffset: 0 };
  let carry: Uint8Array = new Uint8Array(0);
  let readOffset = 0;
  let extraBytes = 0;
  let whole = false;
  let previous: Promise<FailedOutcome | undefined> = Promise.resolve(undefined);
  let countMismatch: PrepareOutcome['countMismatch'];
  let trailersMissing: PrepareOutcome['trailersMissing'];
  // Two buffers, used in turn: a window is read into the one the window before last used, whose
  // tasks are done by then. Reusing them matters: a dropped SharedArrayBuffer keeps its memory
  // until the next full garbage collection, which a main thread with a small heap seldom runs.
  const buffers: SharedArrayBuffer[] = [];
  let turn = 0;
  // Every transform task issued, so that no path returns while one still runs on a window.
  const outstanding: Array<Promise<unknown>> = [];

  for (let windowIndex = 0; ; windowIndex++) {
    const wanted = whole
      ? reader.sizeBytes
      : windowSize(options.windowBytes, windowIndex) + extraBytes;
    const readBytes = Math.min(wanted, reader.sizeBytes - readOffset);
    const windowBytes = carry.length + readBytes;
    if ((buffers[turn]?.byteLength ?? 0) < windowBytes) {
      // Room for a window and a typical tail, so the buffer is kept from then on.
      const capacity = whole ? windowBytes : Math.max(windowBytes, options.windowBytes * 1.25);
      buffers[turn] = new SharedArrayBuffer(Math.min(capacity, reader.sizeBytes));
    }
    const shared = buffers[turn];
    turn = 1 - turn;
    const window = new Uint8Array(shared, 0, windowBytes);
    window.set(carry);
    await timed(options, 'download', () => reader.read(readOffset, window.subarray(carry.length)));
    hash.update(window.subarray(carry.length));
    readOffset += readBytes;
    const final = readOffset === reader.sizeBytes;

    const prepared = await timed(options, 'prepare', () =>
      options.pool.prepareWindow({
        source: shared,
        sourceBytes: windowBytes,
        windowOffset: state.windowOffset,
        final,
        format: state.format,
        acceptBatchCountMismatch: options.acceptBatchCountMismatch,
        recordsBefore: state.recordsBefore,
        taskRecords: options.taskRecords,
        envelope: state.envelope,
      }),
    );
    if (prepared.status === 'failed') {
      await settle(previous, outstanding);
      return { status: 'failed', failure: prepared };
    }
    if (prepared.cut === 0) {
      // Limitation: a FHIR JSON document (not NDJSON) is one task over the whole file, so it is
      // held whole in memory; so is any single record larger than a window.
      whole = prepared.format === 'fhir-json';
      extraBytes += options.windowBytes;
      // The larger window is read into this same buffer (or a larger one) from its start.
      carry = window;
      turn = 1 - turn;
      continue;
    }
    if (prepared.format !== 'fhir-json') {
      state.format = prepared.format;
    }
    state.envelope = prepared.envelope;
    countMismatch = prepared.countMismatch ?? countMismatch;
    trailersMissing = prepared.trailersMissing ?? trailersMissing;
    extraBytes = 0;

    const tasks = issueTasks(
      window,
      prepared.format,
      prepared.ranges,
      prepared.cut,
      state,
      options,
    );
    // Marked handled now: when an earlier window fails, nothing reads these, and a task that
    // then fails (a worker out of heap) must not become an unhandled rejection, which ends the
    // process. Every path below still waits for them to settle.
    for (const task of tasks) {
      task.catch(() => undefined);
    }
    outstanding.push(...tasks);
    const before = previous;
    previous = before.then(async (failure) =>
      failure ? failure : writeWindow(window.subarray(0, prepared.cut), tasks, options.outputs),
    );
    // Marked handled here; a failure surfaces from the await below or after the loop.
    previous.catch(() => undefined);
    // Hold at most two windows: wait for the one before this before reading the next.
    const failure = await awaitWindow(before, previous, outstanding);
    if (failure) {
      return { status: 'failed', failure };
    }

    state.recordsBefore += prepared.ranges.length / 2;
    state.windowOffset += prepared.cut;
    carry = window.subarray(prepared.cut);
    if (final) {
      break;
    }
  }

  const failure = await awaitWindow(previous, previous, outstanding);
  if (failure) {
    return { status: 'failed', failure };
  }
  return {
    status: 'ok',
    format: state.format ?? 'fhir-json',
    sha256: hash.digest('hex'),
    countMismatch,
    trailersMissing,
  };
}

/** Bytes of the first window: enough for a few tasks, read in a few milliseconds. */
const FIRST_WINDOW_BYTES = 1024 * 1024;

/**
 * How many bytes window `index` of a file reads: the first is small and each after it twice the
 * one before, up to the configured size. The pool starts on the first records after a short
 * read instead of waiting for a full window to download and be split, while the next, larger
 * window is read.
 */
function windowSize(windowBytes: number, index: number): number {
  return index >= 4 ? windowBytes : Math.min(windowBytes, FIRST_WINDOW_BYTES * 2 ** index);
}

/**
 * Waits for one window's writing; when it failed or threw, first lets everything in flight
 * (the windows being written, every task issued) settle, so none outlives the batch.
 */
async function awaitWindow(
  window: Promise<FailedOutcome | undefined>,
  previous: Promise<unknown>,
  tasks: Array<Promise<unknown>>,
): Promise<FailedOutcome | undefined> {
  let failure: FailedOutcome | undefined;
  try {
    failure = await window;
  } catch (error) {
    await settle(previous, tasks);
    throw error;
  }
  if (failure) {
    await settle(previous, tasks);
  }
  return failure;
}

/** Waits for the windows being written and every task issued, whatever their outcome. */
async function settle(previous: Promise<unknown>, tasks: Array<Promise<unknown>>): Promise<void> {
  await Promise.allSettled([previous, ...tasks]);
}

interface WindowState {
  format?: 'hl7v2' | 'ndjson';
  envelope?: Hl7EnvelopeState;
  recordsBefore: number;
  windowOffset: number;
}

/**
 * Splits a window's records into tasks that start where the whole file's tasks start (at
 * batch-wide indexes that are multiples of the task size), and gives each task the archive
 * slice from its first record to the next task's, so the slices tile the window up to the cut.
 */
function issueTasks(
  window: Uint8Array,
  format: PrepareOutcome['format'],
  ranges: number[],
  cut: number,
  state: WindowState,
  options: WindowRunOptions,
): Array<Promise<EncodedTransformOutcome | FailedOutcome>> {
  const common = {
    format,
    source: window.buffer as SharedArrayBuffer,
    pseudonymKey: options.pseudonymKey,
    ...options.deid,
    compression: options.compression,
    sourceOffset: state.windowOffset,
  };
  const archive = options.outputs.archiveInPieces;
  if (format === 'fhir-json') {
    // The document task reads its whole source buffer, so that must be the file exactly.
    let source = common.source;
    if (window.byteLength !== source.byteLength) {
      source = new SharedArrayBuffer(window.byteLength);
      new Uint8Array(source).set(window);
    }
    return [
      options.pool.transform({
        ...common,
        source,
        ranges: [],
        firstMessageIndex: 0,
        archiveSlice: archive ? [0, cut] : undefined,
      }),
    ];
  }

  const count = ranges.length / 2;
  const tasks: Array<Promise<EncodedTransformOutcome | FailedOutcome>> = [];
  let index = 0;
  do {
    const first = state.recordsBefore + index;
    const next = Math.min(count, index + options.taskRecords - (first % options.taskRecords));
    const sliceStart = index === 0 ? 0 : ranges[index * 2];
    const sliceEnd = next < count ? ranges[next * 2] : cut;
    tasks.push(
      options.pool.transform({
        ...common,
        ranges: ranges.slice(index * 2, next * 2),
        firstMessageIndex: first,
        archiveSlice: archive ? [sliceStart, sliceEnd] : undefined,
      }),
    );
    index = next;
  } while (index < count);
  return tasks;
}

/** Feeds one window's outcomes to the outputs in order; returns the first failure, if any. */
async function writeWindow(
  done: Uint8Array,
  tasks: Array<Promise<EncodedTransformOutcome | FailedOutcome>>,
  outputs: BatchOutputs,
): Promise<FailedOutcome | undefined> {
  // Settle every task before returning, so none is left running against a dropped window.
  const settled = Promise.allSettled(tasks);
  try {
    await outputs.addSource(done);
    for (const task of tasks) {
      const outcome = await task;
      if (outcome.status === 'failed') {
        return outcome;
      }
      await outputs.addOutcome(outcome);
    }
    return undefined;
  } finally {
    await settled;
  }
}

function timed<T>(
  options: WindowRunOptions,
  stage: 'download' | 'prepare',
  work: () => Promise<T>,
): Promise<T> {
  return timedStage(options.observer, stage, work);
}
