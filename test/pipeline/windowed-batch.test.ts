import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createBatchDeps, drain } from '../../pipeline/app.js';
import { dropFiles } from '../../pipeline/drop.js';
import { batchIdFor, type BatchManifest } from '../../pipeline/manifest.js';
import type { RunReport } from '../../pipeline/orchestrator.js';
import { writeBatchVersion, type BatchVersionResult } from '../../pipeline/process-batch.js';
import { blobSource } from '../../pipeline/windowed-batch.js';
import { decryptStored } from '../../pipeline/read-part.js';
import { generateFhirNdjson, generateHl7Corpus } from '../../samples/index.js';
import { splitHl7File } from '../../transforms/hl7/index.js';
import { listBlobs, startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

/** Small windows, so a file of a few hundred kilobytes spans many of them. */
const WINDOW_BYTES = 16 * 1024;
const TASK_MAX_RECORDS = 5;
const PART_MAX_RECORDS = 40;

// A message without MSH-10 is rejected; placed far into the file, its byte offset is a window's.
const BAD_MESSAGE = 'MSH|^~\\&|LAB|HOSP|EHR|HOSP|20260101120000||ORU^R01||P|2.5\rPID|1\r';

const hl7 = withBadMessage(generateHl7Corpus({ seed: 11, approxBytes: 160_000 }).bytes);
const ndjson = generateFhirNdjson({ seed: 12, approxBytes: 120_000 }).bytes;
const hl7Messages = splitOk(hl7).length;
const batchFile = wrapInBatch(hl7, hl7Messages);
const badCountFile = wrapInBatch(hl7, hl7Messages + 1);
// The same batch with its trailers cut off, as a file truncated in transit.
const cutFile = batchFile.subarray(0, batchFile.length - `BTS|${hl7Messages}\rFTS|1\r`.length);

describe('a file read in windows', () => {
  let env: TestEnvironment;
  let report: RunReport;

  beforeAll(async () => {
    env = await startTestEnvironment({
      windowBytes: WINDOW_BYTES,
      taskMaxRecords: TASK_MAX_RECORDS,
      partMaxRecords: PART_MAX_RECORDS,
    });
    const files: Array<[string, string, Uint8Array]> = [
      ['win-hl7', 'messages.hl7', hl7],
      ['win-fhir', 'resources.ndjson', ndjson],
      ['win-batch', 'batch.hl7', batchFile],
      ['win-cut', 'cut.hl7', cutFile],
      ['win-bad-count', 'bad-count.hl7', badCountFile],
    ];
    for (const [feedId, name, bytes] of files) {
      const path = join(env.homeDir, name);
      writeFileSync(path, bytes);
      await dropFiles(env.app.storage, feedId, [path]);
    }
    report = await drain(env.app);
  }, 120_000);

  afterAll(async () => {
    await env?.close();
  });

  const manifestOf = (feedId: string): BatchManifest => {
    const found = report.results.find(
      (result) => 'manifest' in result && result.manifest.feedId === feedId,
    );
    expect(found, feedId).toBeDefined();
    return (found as { manifest: BatchManifest }).manifest;
  };

  /** The same bytes through one window: the whole-file path the windows must reproduce. */
  const wholeFile = async (
    feedId: string,
    bytes: Uint8Array,
    windowBytes = 1024 * 1024 * 1024,
  ): Promise<BatchVersionResult> => {
    const deps = createBatchDeps(env.app);
    deps.settings.windowBytes = windowBytes;
    const blobName = `${feedId}/reference-${windowBytes}.bin`;
    const lastModified = new Date('2026-12-03T10:00:00Z');
    return writeBatchVersion(
      {
        file: { feedId, blobName, source: 'phi-ingest' },
        batchId: batchIdFor(feedId, blobName, `"etag-${windowBytes}"`),
        etag: `"etag-${windowBytes}"`,
        sizeBytes: bytes.length,
        lastModified,
        ingestDate: '2026-12-03',
      },
      bytes,
      deps,
      { startedAt: lastModified, attempt: 1, version: 1 },
    );
  };

  const committed = (result: BatchVersionResult): BatchManifest => {
    expect(result.kind).toBe('committed');
    return (result as { manifest: BatchManifest }).manifest;
  };

  /** Each part as record type, name within its batch folder, record count and plaintext. */
  const partsOf = async (manifest: BatchManifest) =>
    Promise.all(
      manifest.parts.map(async (part) => ({
        recordType: part.recordType,
        name: part.path.slice(part.path.lastIndexOf('/') + 1),
        recordCount: part.recordCount,
        text: await decryptStored(env.app, `${part.container}/${part.path}`),
      })),
    );

  const rejectsOf = async (manifest: BatchManifest) =>
    Promise.all(
      manifest.rejectParts.map((part) => decryptStored(env.app, `${part.container}/${part.path}`)),
    );

  const countsOf = (manifest: BatchManifest) => ({
    messagesIn: manifest.counts.messagesIn,
    written: manifest.counts.written,
    rejected: manifest.counts.rejected,
    rejectedByReason: manifest.counts.rejectedByReason,
  });

  it('cuts HL7 v2 messages that straddle a read boundary', () => {
    const straddling = splitOk(hl7).filter(
      (message) =>
        Math.floor(message.start / WINDOW_BYTES) !== Math.floor((message.end - 1) / WINDOW_BYTES),
    );
    expect(hl7.length).toBeGreaterThan(8 * WINDOW_BYTES);
    expect(straddling.length).toBeGreaterThan(5);
  });

  it('writes HL7 v2 parts, rejects and counts identical to the whole-file path', async () => {
    const windowed = manifestOf('win-hl7');
    const whole = committed(await wholeFile('win-hl7', hl7));
    expect(windowed.status).toBe('committed');
    expect(countsOf(windowed)).toEqual(countsOf(whole));
    expect(windowed.counts.messagesIn).toBe(hl7Messages);
    expect(windowed.counts.rejectedByReason).toEqual({ HL7_MISSING_FIELD: 1 });
    expect(windowed.parts.length).toBeGreaterThan(3);
    expect(await partsOf(windowed)).toEqual(await partsOf(whole));
    const rejects = await rejectsOf(windowed);
    expect(rejects).toEqual(await rejectsOf(whole));
    const reject = JSON.parse(rejects[0]) as { position: { byteOffset: number }; raw: string };
    expect(reject.position.byteOffset).toBe(Buffer.from(hl7).indexOf(BAD_MESSAGE));
    expect(reject.position.byteOffset).toBeGreaterThan(4 * WINDOW_BYTES);
    expect(windowed.source.sha256).toBe(whole.source.sha256);
  });

  it('archives the source, streamed in pieces, byte for byte', async () => {
    const windowed = manifestOf('win-hl7');
    const archive = windowed.archive!;
    const text = await decryptStored(env.app, `${archive.container}/${archive.path}`);
    expect(text).toBe(Buffer.from(hl7).toString('utf8'));
  });

  it('writes FHIR NDJSON parts identical to the whole-file path', async () => {
    const windowed = manifestOf('win-fhir');
    const whole = committed(await wholeFile('win-fhir', ndjson));
    expect(windowed.status).toBe('committed');
    expect(countsOf(windowed)).toEqual(countsOf(whole));
    expect(windowed.counts.messagesIn).toBe(ndjson.filter((byte) => byte === 0x0a).length);
    expect(await partsOf(windowed)).toEqual(await partsOf(whole));
  });

  it('checks an HL7 batch envelope whose BHS and BTS are windows apart', async () => {
    const windowed = manifestOf('win-batch');
    expect(windowed.status).toBe('committed');
    expect(windowed.counts.messagesIn).toBe(hl7Messages);
    const whole = committed(await wholeFile('win-batch', batchFile));
    expect(await partsOf(windowed)).toEqual(await partsOf(whole));
    expect(windowed.batchTrailersMissing).toBeUndefined();
  });

  it('records the trailers a batch file lacks, found in the last window', async () => {
    const windowed = manifestOf('win-cut');
    expect(windowed.status).toBe('committed');
    expect(windowed.batchTrailersMissing).toEqual(['BTS', 'FTS']);
    expect(windowed.counts.messagesIn).toBe(hl7Messages);
    expect(committed(await wholeFile('win-cut', cutFile)).batchTrailersMissing).toEqual([
      'BTS',
      'FTS',
    ]);
    expect(env.logText()).toContain('HL7_BATCH_TRAILER_MISSING');
  });

  it('quarantines a wrong BTS-1 count found in the last window, at the same position', async () => {
    const windowed = manifestOf('win-bad-count');
    const whole = await wholeFile('win-bad-count', badCountFile);
    expect(whole.kind).toBe('failed');
    const { failure, sourceSha256 } = whole as Extract<BatchVersionResult, { kind: 'failed' }>;
    expect(windowed.status).toBe('quarantined');
    expect(windowed.reasonCode).toBe('HL7_BATCH_COUNT_MISMATCH');
    expect(failure.code).toBe('HL7_BATCH_COUNT_MISMATCH');
    expect(windowed.reasonPosition).toEqual(failure.position);
    expect(windowed.source.sha256).toBe(sourceSha256);

    // Parts committed before the failure was found are deleted again.
    const outputs = [...(await listBlobs(env, 'output')).keys()];
    expect(outputs.filter((path) => path.includes(windowed.batchId))).toEqual([]);
    const quarantine = windowed.quarantine!;
    const copy = await decryptStored(env.app, `${quarantine.container}/${quarantine.path}`);
    expect(copy).toBe(Buffer.from(badCountFile).toString('utf8'));
  });

  it('keeps every record when a window holds fewer records than a task', async () => {
    const tiny = committed(await wholeFile('win-hl7', hl7, 2048));
    const whole = committed(await wholeFile('win-hl7', hl7));
    expect(countsOf(tiny)).toEqual(countsOf(whole));
    const byType = async (manifest: BatchManifest) => {
      const texts: Record<string, string> = {};
      for (const part of await partsOf(manifest)) {
        texts[part.recordType!] = (texts[part.recordType!] ?? '') + part.text;
      }
      return texts;
    };
    expect(await byType(tiny)).toEqual(await byType(whole));
  });

  it('reads any range of the blob exactly, and refuses a blob rewritten since', async () => {
    const client = env.app.storage.inbound.getBlockBlobClient('win-read/ranges.hl7');
    const { etag } = await client.uploadData(hl7);
    const source = blobSource(client, etag!, hl7.length);
    for (const [offset, length] of [
      [0, 1],
      [0, hl7.length],
      [12_345, 70_000],
      [hl7.length - 10, 10],
    ]) {
      const target = new Uint8Array(new SharedArrayBuffer(length));
      await source.read(offset, target);
      expect(Buffer.from(target).equals(hl7.subarray(offset, offset + length))).toBe(true);
    }

    await client.uploadData(ndjson);
    const read = source.read(0, new Uint8Array(100));
    await expect(read).rejects.toMatchObject({ code: 'BLOB_CHANGED', retryable: true });
  });
});

function splitOk(bytes: Uint8Array) {
  const split = splitHl7File(bytes);
  if (!split.ok) {
    throw new Error(`Test corpus did not split: ${split.code}`);
  }
  return split.messages;
}

function withBadMessage(bytes: Uint8Array): Uint8Array {
  const text = Buffer.from(bytes).toString('latin1');
  const at = text.indexOf('MSH|', Math.floor(text.length * 0.6));
  return Buffer.from(text.slice(0, at) + BAD_MESSAGE + text.slice(at), 'latin1');
}

function wrapInBatch(bytes: Uint8Array, declaredMessages: number): Uint8Array {
  const header = 'FHS|^~\\&|LAB|HOSP\rBHS|^~\\&|LAB|HOSP\r';
  const trailer = `BTS|${declaredMessages}\rFTS|1\r`;
  return Buffer.concat([Buffer.from(header), bytes, Buffer.from(trailer)]);
}
