import { randomBytes } from 'node:crypto';

import { Piscina } from 'piscina';

import { concatBytes, packParts } from '../pipeline/pack-parts.js';
import type { WorkerPool } from '../pipeline/worker-pool.js';
import type { Compression } from '../transforms/compression.js';
import { hashDeidRules, resolveDeidRules } from '../transforms/deid/rules.js';
import type { DeidRules } from '../transforms/deid/rules.js';
import runTask from '../workers/transform-task.js';
import type {
  EncodedRecordGroup,
  EncodedTransformOutcome,
  FailedOutcome,
  PrepareOutcome,
  SealOutcome,
  WorkerOutcome,
  WorkerTask,
} from '../workers/task-types.js';

/** Where the tasks run: the worker's own task function on this thread, or a piscina pool. */
export type TaskRunner = Pick<WorkerPool, 'prepare' | 'transform' | 'seal'>;

/** What one pass over a file produced. */
export interface BatchPassResult {
  records: number;
  parts: number;
  sealedBytes: number;
}

const RULES = resolveDeidRules('safe-harbor');
const RULES_HASH = hashDeidRules(RULES);
const KEYS = {
  encryptionKeyId: 'batch:bench',
  keyVersion: 1,
  keyEncryptionKey: new Uint8Array(randomBytes(32)),
};

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
    prepare: (task) => call({ kind: 'prepare', ...task }),
    transform: (task) => call({ kind: 'transform', ...task }),
    seal: (task) => call({ kind: 'seal', ...task }),
  };
}

/**
 * The transform stage of one file exactly as `writeBatchVersion` runs it, minus storage: prepare,
 * transform tasks in parallel (parse, de-identify, serialise, compress, and the archive pieces),
 * then each part and the archive sealed (encrypt, SHA-256).
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
  const prepared: PrepareOutcome | FailedOutcome = await runner.prepare({
    source,
    acceptBatchCountMismatch: false,
  });
  if (prepared.status !== 'ok') {
    throw new Error(`The bench corpus did not prepare (${prepared.code})`);
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
  const outcomes = await Promise.all(tasks);

  const byType = new Map<string, EncodedRecordGroup[]>();
  let records = 0;
  const pieces: Uint8Array[] = [];
  for (const outcome of outcomes) {
    if (outcome.status !== 'ok') {
      throw new Error(`A bench transform task failed (${outcome.code})`);
    }
    records += outcome.messageCount;
    if (outcome.archivePiece) {
      pieces.push(outcome.archivePiece);
    }
    for (const group of outcome.groups) {
      byType.set(group.recordType, [...(byType.get(group.recordType) ?? []), group]);
    }
  }

  const dataKey = new Uint8Array(randomBytes(32));
  const seal = (plaintext: Uint8Array, compressed: boolean): Promise<SealOutcome> =>
    runner.seal(
      {
        plaintext,
        compression: compressed ? null : compression,
        dataKey,
        keys: KEYS,
        batchId: 'bench',
      },
      true,
    );
  const seals: Array<Promise<SealOutcome>> = [
    pieces.length > 0
      ? seal(concatBytes(pieces), true)
      : seal(new Uint8Array(source).slice(), false),
  ];
  for (const groups of byType.values()) {
    for (const part of packParts(groups, 100_000)) {
      const compressed = part.groups.every((group) => group.compressed);
      seals.push(seal(concatBytes(part.groups.map((group) => group.bytes)), compressed));
    }
  }
  const sealed = await Promise.all(seals);
  return {
    records,
    parts: sealed.length - 1,
    sealedBytes: sealed.reduce((sum, outcome) => sum + outcome.sealed.length, 0),
  };
}
