import { describe, expect, it } from 'vitest';

import type { BatchManifest, BatchRow } from '../../pipeline/manifest.js';
import {
  batchOutcomeText,
  formatBatchRows,
  formatBatchSummary,
  formatRunSummary,
} from '../../pipeline/summary.js';

const ZERO_HASH = '0'.repeat(64);

// A committed NDJSON batch of the fhir-feed with the given counts; ids differ by `batchId`.
function manifestWith(
  batchId: string,
  counts: { written: number; rejected: number },
  quarantineReason?: string,
): BatchManifest {
  const part = (container: string, recordCount: number) => ({
    path: `feed=fhir-feed/date=2026-01-02/batch=${batchId}/part-00000.ndjson.gz.enc`,
    container,
    recordCount,
    sizeBytes: 100,
    sha256: ZERO_HASH,
  });
  return {
    manifestVersion: 1,
    batchId,
    feedId: 'fhir-feed',
    status: quarantineReason === undefined ? 'committed' : 'quarantined',
    reasonCode: quarantineReason,
    source: {
      container: 'inbound',
      blobName: `fhir-feed/2026-01-02/${batchId}.ndjson`,
      etag: '"0x1"',
      sizeBytes: 100,
      sha256: ZERO_HASH,
      lastModified: '2026-01-02T00:00:00.000Z',
    },
    format: 'ndjson',
    ingestDate: '2026-01-02',
    counts: {
      messagesIn: counts.written + counts.rejected,
      written: counts.written,
      rejected: counts.rejected,
      writtenByPartition: {},
      rejectedByReason: counts.rejected > 0 ? { NDJSON_INVALID_JSON: counts.rejected } : {},
    },
    parts: counts.written > 0 ? [part('output', counts.written)] : [],
    rejectParts: counts.rejected > 0 ? [part('rejects', counts.rejected)] : [],
    encryption: { algorithm: 'A256GCM-STREAM', encryptionKeyId: 'k', keyVersion: 1 },
    pipelineVersion: '0.1.0',
    configHash: 'c',
    workerId: 'w',
    attempt: 1,
    startedAt: '2026-01-02T00:00:00.000Z',
    finishedAt: '2026-01-02T00:00:01.000Z',
  };
}

describe('batchOutcomeText', () => {
  it('tells every record written from some, all or the whole file held back', () => {
    const outcome = (
      written: number,
      rejected: number,
      status = 'committed',
      reasonCode?: string,
    ) => batchOutcomeText({ status, reasonCode, written, rejected });
    expect(outcome(5, 0)).toBe('ok');
    expect(outcome(3, 2)).toBe('partly rejected');
    expect(outcome(0, 4)).toBe('all rejected');
    expect(outcome(0, 0)).toBe('ok');
    expect(outcome(0, 0, 'quarantined', 'FILE_EMPTY')).toBe('quarantined FILE_EMPTY');
    // A batch row stores no reason as an empty string.
    expect(outcome(0, 0, 'quarantined', '')).toBe('quarantined');
  });
});

describe('formatBatchSummary', () => {
  it('says all rejected or partly rejected in the status column, not ok', () => {
    const summary = formatBatchSummary([
      manifestWith('aaaaaaaaaaaa0001', { written: 5, rejected: 0 }),
      manifestWith('bbbbbbbbbbbb0002', { written: 3, rejected: 2 }),
      manifestWith('cccccccccccc0003', { written: 0, rejected: 4 }),
      manifestWith('dddddddddddd0004', { written: 0, rejected: 0 }, 'FILE_EMPTY'),
    ]);
    const statusOf = (batch: string) =>
      summary
        .split('\n')
        .find((line) => line.startsWith(`fhir-feed  ${batch}`))
        ?.split(/\s{2,}/)[3];
    expect(statusOf('aaaaaaaaaaaa')).toBe('ok');
    expect(statusOf('bbbbbbbbbbbb')).toBe('partly rejected');
    expect(statusOf('cccccccccccc')).toBe('all rejected');
    expect(statusOf('dddddddddddd')).toBe('quarantined FILE_EMPTY');
    expect(summary).toContain('4 batches: 14 in, 8 written, 6 rejected, 1 file quarantined');
  });

  it('puts a count in the singular only for exactly one', () => {
    const one = formatBatchSummary(
      [manifestWith('aaaaaaaaaaaa0001', { written: 5, rejected: 0 })],
      ['1 queue message poisoned'],
    );
    expect(one.split('\n').at(-1)).toBe(
      '1 batch: 5 in, 5 written, 0 rejected, 0 files quarantined, 1 queue message poisoned',
    );
    expect(formatRunSummary({ results: [], poisoned: [], retried: 0 })).toContain(
      '0 batches: 0 in, 0 written, 0 rejected, 0 files quarantined, 0 queue messages poisoned',
    );
  });

  it('points at batch show, which reads manifests, when there are too many batches to list', () => {
    const manifests = Array.from({ length: 41 }, (_, index) =>
      manifestWith(`${index.toString(16).padStart(12, '0')}0001`, { written: 1, rejected: 0 }),
    );
    const summary = formatBatchSummary(manifests);
    expect(summary).toContain(
      "\nOutput parts: 41 batches, too many to list here; phi-ingest batch show <batch id> lists a batch's parts\n",
    );
    expect(summary).not.toContain('manifests/');
  });
});

describe('formatBatchRows', () => {
  it('gives the status table the same words as the ingest summary', () => {
    const row = (rowKey: string, written: number, rejected: number, status = 'committed') => ({
      partitionKey: 'fhir-feed',
      rowKey,
      status,
      format: 'ndjson',
      ingestDate: '2026-01-02',
      messagesIn: written + rejected,
      written,
      rejected,
      partCount: written > 0 ? 1 : 0,
      reasonCode: status === 'quarantined' ? 'FORMAT_UNKNOWN' : '',
      rejectedByReason: '{}',
      manifestPath: 'manifests/x.json',
      finishedAt: '2026-01-02T00:00:01.000Z',
      version: 1,
    });
    const rows: BatchRow[] = [
      row('aaaaaaaaaaaa0001', 5, 0),
      row('bbbbbbbbbbbb0002', 3, 2),
      row('cccccccccccc0003', 0, 4),
      row('dddddddddddd0004', 0, 0, 'quarantined'),
    ];
    const statuses = formatBatchRows(rows)
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s{2,}/)[4]);
    expect(statuses).toEqual([
      'ok',
      'partly rejected',
      'all rejected',
      'quarantined FORMAT_UNKNOWN',
    ]);
  });
});
