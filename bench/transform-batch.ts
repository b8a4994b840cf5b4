import { createHash, randomBytes } from 'node:crypto';

import { Piscina } from 'piscina';

import type { WorkerPool } from '../pipeline/worker-pool.js';
import { compressBytes, type Compression } from '../transforms/compression.js';
import { EnvelopeSealer, type EncryptEnvelopeOptions } from '../transforms/crypto/index.js';
import { hashDeidRules, resolveDeidRules } from '../transforms/deid/rules.js';
import type { DeidRules } from '../transforms/deid/rules.js';
import runTask from '../workers/transform-task.js';
import type {
  EncodedTransformOutcome,
  FailedOutcome,
  WorkerOutcome,
  WorkerTask,
} from '../workers/task-types.js';

/** Where the tasks run: the worker's own task function on this thread, or a piscina pool. */
export type TaskRunner = Pick<WorkerPool, 'prepareWindow' | 'transform'>;

/** What one pass over a file produced. */
export interface BatchPassResult {
  records: number;
  parts: number;
  sealedBytes: number;
}

const RULES = resolveDeidRules('safe-harbor');
const RULES_HASH = hashDeidRules(RULES);
const KEK = new Uint8Array(randomBytes(32));
const PART_MAX_RECORDS = 100_000;

/**
 * A runner that calls the worker's task function directly, on this thread: the single-thread
 * figure, with no pool and no thread hop.
 */
export function inThreadRunner(): TaskRunner {
  const call = async <T extends WorkerOutcome>(task: WorkerTask): Promise<T> => {
    const result = runTask(task) as unknown as Record<symbol, unknown>;
    // The task returns moved values wrapped for piscina; unwrap them as the pool would.
    return (Piscina.valueSymbol in result ? result[Piscina.valueSymbol] : result) as T;
  };
  return {
    prepareWindow: (task) => call({ kind: 'window', ...task }),
    transform: (task) => call({ kind: 'transform', ...task }),
  };
}

/**
 * The transform stage of one file as `writeBatchVersion` runs it, minus storage and with the
 * file as one window: the window task (detect, split), transform tasks in parallel (parse,
 * de-identify, serialise, compress, and the archive pieces), and each part and the archive
 * sealed on this thread (encrypt, SHA-256) as the outcomes come back in order, as
 * `SealedBlobWriter` seals them before upload.
 *
 * @param runner - in-thread or a pool
 * @param source - the file, in shared memory
 * @param compression - the feed's compression
 * @param taskMaxRecords - records per transform task
 * @param rules - de-identification rules; the safe-harbor preset by default
 */
export async function transformBatch(
  runner: TaskRunner,
  source: SharedArrayBuffer,
  compression: Compression,
  taskMaxRecords = 500,
  rules: DeidRules = RULES,
): Promise<BatchPassResult> {
  const prepared = await runner.prepareWindow({
    source,
    sourceBytes: source.byteLength,
    windowOffset: 0,
    final: true,
    acceptBatchCountMismatch: false,
    recordsBefore: 0,
    taskRecords: taskMaxRecords,
  });
  if (prepared.status !== 'ok') {
    throw new Error(`The bench corpus did not split (${prepared.code})`);
  }

  // A fresh key per pass: workers keep pseudonyms per key, and a pass over the same file with the
  // same key would find every one already made. Each pass costs what a first sight of the file
  // does (repeats within the file still hit).
  const pseudonymKey = new Uint8Array(randomBytes(32));
  const step = taskMaxRecords * 2;
  const tasks: Array<Promise<EncodedTransformOutcome | FailedOutcome>> = [];
  const { ranges } = prepared;
  for (let offset = 0; offset < ranges.length; offset += step) {
    const sliceStart = offset === 0 ? 0 : ranges[offset];
    const sliceEnd = offset + step < ranges.length ? ranges[offset + step] : source.byteLength;
    tasks.push(
      runner.transform({
        format: prepared.format,
        source,
        ranges: ranges.slice(offset, offset + step),
        firstMessageIndex: offset / 2,
        pseudonymKey,
        rules,
        rulesHash: rules === RULES ? RULES_HASH : hashDeidRules(rules),
        referenceYear: 2026,
        compression,
        archiveSlice: compression.codec === 'gzip' ? [sliceStart, sliceEnd] : undefined,
      }),
    );
  }
  const envelope: EncryptEnvelopeOptions = {
    dek: new Uint8Array(randomBytes(32)),
    kek: KEK,
    kekId: 'batch:bench',
    kekVersion: 1,
    batchId: 'bench',
  };
  const archive = new BlobSealer(envelope);
  const open = new Map<string, { sealer: BlobSealer; recordCount: number }>();
  const closed: BlobSealer[] = [];
  let records = 0;
  let archivePieces = 0;
  // Each outcome is sealed as soon as it and those before it are back, while later tasks still
  // run, as `writeWindow` hands them to the batch's outputs in order. A failure of a later task
  // while an earlier one is awaited is handled here, and thrown below when its turn comes.
  void Promise.allSettled(tasks);
  for (const task of tasks) {
    const outcome = await task;
    if (outcome.status !== 'ok') {
      throw new Error(`A bench transform task failed (${outcome.code})`);
    }
    records += outcome.messageCount;
    if (outcome.archivePiece) {
      archive.push(outcome.archivePiece);
      archivePieces++;
    }
    // Parts close before a group would take them past the limit, as `BatchOutputs` does.
    for (const group of outcome.groups) {
      let part = open.get(group.recordType);
      if (part && part.recordCount + group.recordCount > PART_MAX_RECORDS) {
        closed.push(part.sealer);
        part = undefined;
      }
      if (part === undefined) {
        part = { sealer: new BlobSealer(envelope), recordCount: 0 };
        open.set(group.recordType, part);
      }
      part.sealer.push(group.compressed ? group.bytes : compressBytes(group.bytes, compression));
      part.recordCount += group.recordCount;
    }
  }
  // brotli cannot be cut into members: the archive is the whole source, compressed here.
  if (archivePieces === 0) {
    archive.push(compressBytes(new Uint8Array(source), compression));
  }
  closed.push(...[...open.values()].map((part) => part.sealer));
  const sealedBytes = [archive, ...closed].reduce((sum, sealer) => sum + sealer.end(), 0);
  return { records, parts: closed.length, sealedBytes };
}

/** Seals one blob's bytes chunk by chunk and hashes what it writes, as the pipeline does. */
class BlobSealer {
  private readonly sealer: EnvelopeSealer;
  private readonly hash = createHash('sha256');
  private sizeBytes = 0;

  constructor(envelope: EncryptEnvelopeOptions) {
    this.sealer = new EnvelopeSealer(envelope);
  }

  push(bytes: Uint8Array): void {
    this.take(this.sealer.push(bytes));
  }

  /** Seals the last chunk; returns the sealed size. */
  end(): number {
    this.take(this.sealer.end());
    this.hash.digest();
    return this.sizeBytes;
  }

  private take(chunks: Uint8Array[]): void {
    for (const chunk of chunks) {
      this.hash.update(chunk);
      this.sizeBytes += chunk.length;
    }
  }
}
