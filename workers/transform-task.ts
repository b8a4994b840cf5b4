/**
 * The piscina entry point: every task the orchestrator hands to the pool lands here. Tasks return
 * outcomes (`status: 'ok' | 'failed'`) and never throw domain errors, since error classes and
 * their properties do not survive the hop between threads.
 */
import { Piscina } from 'piscina';

import { compressBytes, compressesInPieces, decompressBytes } from '../transforms/compression.js';
import { decryptEnvelope } from '../transforms/crypto/index.js';
import { transformFhirDocument, transformRecords } from './records.js';
import { prepareWindow } from './windows.js';
import type {
  EncodedRecordGroup,
  EncodedTransformOutcome,
  FailedOutcome,
  OpenOutcome,
  OpenTask,
  TransformOutcome,
  TransformTask,
  WorkerOutcome,
  WorkerTask,
} from './task-types.js';

const utf8 = new TextEncoder();

export default function runTask(task: WorkerTask): WorkerOutcome {
  try {
    return runKnownTask(task);
  } catch {
    // A throw from pure code on given input happens again on every retry (a stack overflow on
    // absurdly nested JSON, say): report it as final so the file is quarantined at once. The
    // error's message may quote input, so only the code leaves this thread.
    const outcome = failed('TRANSFORM_EXCEPTION', false);
    if (task.kind === 'transform') {
      outcome.format = task.format;
    }
    return outcome;
  }
}

function runKnownTask(task: WorkerTask): WorkerOutcome {
  switch (task.kind) {
    case 'window':
      return prepareWindow(task);
    case 'transform':
      return transform(task);
    case 'open':
      return open(task);
    default:
      return failed('TASK_UNKNOWN', false);
  }
}

function transform(task: TransformTask): EncodedTransformOutcome | FailedOutcome {
  const bytes = new Uint8Array(task.source);
  const ctx = {
    pseudonymKey: task.pseudonymKey,
    rules: task.rules,
    rulesHash: task.rulesHash,
    referenceYear: task.referenceYear,
  };
  const outcome: TransformOutcome | FailedOutcome =
    task.format === 'fhir-json'
      ? transformFhirDocument(bytes, ctx)
      : transformRecords(task.format, bytes, task.ranges, task.firstMessageIndex, ctx);
  if (outcome.status === 'failed') {
    return outcome;
  }
  if (task.sourceOffset) {
    // The task sees one window of the file; rejects name their place in the whole file.
    for (const reject of outcome.rejects) {
      if (reject.position.byteOffset !== undefined) {
        reject.position.byteOffset += task.sourceOffset;
      }
    }
  }

  // Encoding and compressing here, on the thread that made the text, keeps the main thread to
  // concatenating bytes; the buffers are moved back, not copied.
  const inPieces = compressesInPieces(task.compression);
  const groups: EncodedRecordGroup[] = outcome.groups.map((group) => {
    const encoded = utf8.encode(group.ndjson);
    return {
      recordType: group.recordType,
      recordCount: group.recordCount,
      bytes: ownBuffer(inPieces ? compressBytes(encoded, task.compression) : encoded),
      compressed: inPieces,
    };
  });
  const archivePiece =
    task.archiveSlice && inPieces
      ? ownBuffer(compressBytes(bytes.subarray(...task.archiveSlice), task.compression))
      : undefined;
  const result: EncodedTransformOutcome = {
    status: 'ok',
    groups,
    rejects: outcome.rejects,
    messageCount: outcome.messageCount,
    unknownElementsRemoved: outcome.unknownElementsRemoved,
    archivePiece,
  };
  const buffers = groups.map((group) => group.bytes.buffer as ArrayBuffer);
  if (archivePiece) {
    buffers.push(archivePiece.buffer as ArrayBuffer);
  }
  return moved(result, buffers);
}

function open(task: OpenTask): OpenOutcome | FailedOutcome {
  let plaintext: Uint8Array;
  try {
    plaintext = decryptEnvelope(task.sealed, (kekId: string, kekVersion: number) => {
      const kek = kekId === task.encryptionKeyId ? task.keyEncryptionKeys[kekVersion] : undefined;
      if (!kek) {
        throw Object.assign(new Error('Unknown key'), { code: 'ENVELOPE_UNKNOWN_KEY' });
      }
      return kek;
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return failed(typeof code === 'string' ? code : 'DECRYPT_FAILED', false);
  }
  try {
    return { status: 'ok', plaintext: decompressBytes(plaintext, task.codec) };
  } catch {
    return failed('DECOMPRESS_FAILED', false);
  }
}

/**
 * A view that owns its whole ArrayBuffer, so it can be transferred: Node's small buffers are
 * slices of a shared pool, and moving one would detach every other slice of it.
 */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  if (whole && bytes.buffer instanceof ArrayBuffer) {
    return bytes;
  }
  return new Uint8Array(bytes);
}

/** Returns `value` to the pool with `buffers` transferred instead of copied. */
function moved<T>(value: T, buffers: ArrayBuffer[]): T {
  // piscina moves an object that names its transfer list and value under its two symbols.
  const movable = { [Piscina.transferableSymbol]: buffers, [Piscina.valueSymbol]: value };
  return Piscina.move(movable as never) as T;
}

function failed(code: string, retryable: boolean): FailedOutcome {
  return { status: 'failed', code, retryable };
}
