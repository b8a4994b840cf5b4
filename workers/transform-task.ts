/**
 * The piscina entry point: every task the orchestrator hands to the pool lands here. Tasks return
 * outcomes (`status: 'ok' | 'failed'`) and never throw domain errors, since error classes and
 * their properties do not survive the hop between threads.
 */
import { gunzipSync, gzipSync } from 'node:zlib';

import { decryptEnvelope, encryptEnvelope, sha256Hex } from '../transforms/crypto/index.js';
import { detectFormat } from '../transforms/detect-format.js';
import { prepareHl7, prepareNdjson, transformFhirDocument, transformRecords } from './records.js';
import type {
  FailedOutcome,
  OpenOutcome,
  OpenTask,
  PrepareOutcome,
  PrepareTask,
  SealOutcome,
  SealTask,
  TransformOutcome,
  TransformTask,
  WorkerOutcome,
  WorkerTask,
} from './task-types.js';

export default function runTask(task: WorkerTask): WorkerOutcome {
  switch (task.kind) {
    case 'prepare':
      return prepare(task);
    case 'transform':
      return transform(task);
    case 'seal':
      return seal(task);
    case 'open':
      return open(task);
    default:
      return failed('TASK_UNKNOWN', false);
  }
}

function prepare(task: PrepareTask): PrepareOutcome | FailedOutcome {
  const bytes = new Uint8Array(task.source);
  if (isBlank(bytes)) {
    return failed('FILE_EMPTY', false);
  }

  // Detection reads a bounded prefix itself; it gets the whole file so that a first NDJSON line
  // longer than the prefix is still seen to end.
  const format = detectFormat(bytes);
  switch (format) {
    case 'hl7v2':
      return prepareHl7(bytes, task.acceptBatchCountMismatch);
    case 'ndjson':
      return prepareNdjson(bytes);
    case 'fhir-json':
      return { status: 'ok', format, ranges: [] };
    default:
      return failed('FORMAT_UNKNOWN', false);
  }
}

function transform(task: TransformTask): TransformOutcome | FailedOutcome {
  const bytes = new Uint8Array(task.source);
  const ctx = {
    pseudonymKey: task.pseudonymKey,
    rules: task.rules,
    rulesHash: task.rulesHash,
    referenceYear: task.referenceYear,
  };
  if (task.format === 'fhir-json') {
    return transformFhirDocument(bytes, ctx);
  }
  return transformRecords(task.format, bytes, task.ranges, task.firstMessageIndex, ctx);
}

function seal(task: SealTask): SealOutcome {
  const plaintext = task.gzip ? gzipSync(task.plaintext, { level: 6 }) : task.plaintext;
  const sealed = encryptEnvelope(plaintext, {
    dek: task.dataKey,
    kek: task.keys.keyEncryptionKey,
    kekId: task.keys.encryptionKeyId,
    kekVersion: task.keys.keyVersion,
    batchId: task.batchId,
  });
  return { status: 'ok', sealed, sha256: sha256Hex(sealed), plaintextBytes: task.plaintext.length };
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
  if (!task.gunzip) {
    return { status: 'ok', plaintext };
  }
  try {
    return { status: 'ok', plaintext: gunzipSync(plaintext) };
  } catch {
    return failed('DECOMPRESS_FAILED', false);
  }
}

function isBlank(bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    // Space, tab, CR, LF, and the MLLP framing bytes carry nothing.
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a && byte !== 0x0b && byte !== 0x1c) {
      return false;
    }
  }
  return true;
}

function failed(code: string, retryable: boolean): FailedOutcome {
  return { status: 'failed', code, retryable };
}
