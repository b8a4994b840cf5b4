import { readdirSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { drain } from '../../pipeline/app.js';
import { dropFiles, type DroppedFile } from '../../pipeline/drop.js';
import type { BatchManifest } from '../../pipeline/manifest.js';
import type { RunReport } from '../../pipeline/orchestrator.js';
import { formatRunSummary } from '../../pipeline/summary.js';
import {
  corpusAvailable,
  corpusPath,
  countFhirResources,
  countMisplacedFhirEntries,
  countMshSegments,
  countNdjsonLines,
  readCorpusFile,
} from '../helpers/corpus.js';
import { startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

const KNOWN_CODE = /^[A-Z][A-Z0-9_]+$/;

function filesIn(...parts: string[]): string[] {
  const dir = corpusPath(...parts);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => `${dir}/${entry.name}`)
    .sort();
}

describe.skipIf(!corpusAvailable)('ingest over ../shared/corpus', () => {
  let env: TestEnvironment;
  let report: RunReport;
  const dropped = new Map<string, DroppedFile[]>();

  beforeAll(async () => {
    env = await startTestEnvironment({ concurrentFiles: 8 });
    const feeds: Array<[string, string[]]> = [
      ['corpus-hl7', filesIn('hl7v2')],
      ['corpus-hl7-malformed', filesIn('hl7v2', 'malformed')],
      ['corpus-fhir', filesIn('fhir')],
      ['corpus-fhir-malformed', filesIn('fhir', 'malformed')],
      ['corpus-ndjson', filesIn('ndjson')],
    ];
    for (const [feed, files] of feeds) {
      for (const file of await dropFiles(env.app.storage, feed, files)) {
        dropped.set(`${feed}|${file.blobName}`, [
          ...(dropped.get(`${feed}|${file.blobName}`) ?? []),
          file,
        ]);
      }
    }
    report = await drain(env.app);
  }, 600_000);

  afterAll(async () => {
    await env?.close();
  });

  const manifests = (): BatchManifest[] =>
    report.results.flatMap((result) =>
      result.kind === 'committed' || result.kind === 'quarantined' ? [result.manifest] : [],
    );

  const manifestFor = (feed: string, path: string): BatchManifest => {
    const key = [...dropped.keys()].find(
      (candidate) =>
        candidate.startsWith(`${feed}|`) &&
        dropped.get(candidate)!.some((file) => file.localPath === path),
    );
    const blobName = key!.split('|')[1];
    const manifest = manifests().find(
      (candidate) => candidate.feedId === feed && candidate.source.blobName === blobName,
    );
    expect(manifest, `manifest for ${path}`).toBeDefined();
    return manifest!;
  };

  it('ends every dropped file as exactly one batch and drains both queues of work', async () => {
    expect(manifests()).toHaveLength(dropped.size);
    const inbound = await env.app.storage.inboundQueue.getProperties();
    expect(inbound.approximateMessagesCount).toBe(0);
    const leftInbound: string[] = [];
    for await (const blob of env.app.storage.inbound.listBlobsFlat()) {
      leftInbound.push(blob.name);
    }
    expect(leftInbound).toEqual([]);
  });

  it('counts every HL7 message the way an independent MSH count does', () => {
    for (const path of filesIn('hl7v2')) {
      const manifest = manifestFor('corpus-hl7', path);
      const expected = countMshSegments(readCorpusFile(path));
      if (manifest.status === 'quarantined') {
        expect(manifest.reasonCode, path).toMatch(KNOWN_CODE);
        continue;
      }
      expect(manifest.counts.messagesIn, path).toBe(expected);
      expect(manifest.counts.written + manifest.counts.rejected, path).toBe(expected);
    }
  });

  it('rejects or quarantines malformed HL7 with a code, but for two documented files', () => {
    // MSH-6 is optional in the standard; a whole address in XAD.1 is well-formed text.
    const passing = new Set([
      'cdcti__Message-msh_present_but_missing_msh-6.hl7',
      'cdcti__Orders-012_AL_ORM_O01_malformed_XAD_datatype_0_initial_message.hl7',
    ]);
    const files = filesIn('hl7v2', 'malformed');
    expect(files).toHaveLength(30);
    for (const path of files) {
      const manifest = manifestFor('corpus-hl7-malformed', path);
      const codes =
        manifest.status === 'quarantined'
          ? [manifest.reasonCode]
          : Object.keys(manifest.counts.rejectedByReason);
      expect(codes.length > 0, path).toBe(!passing.has(path.split('/').pop()!));
      for (const code of codes) {
        expect(code, path).toMatch(KNOWN_CODE);
      }
    }
  });

  it('counts FHIR Bundle entries and rejects the malformed resources with a code', () => {
    for (const path of filesIn('fhir')) {
      const manifest = manifestFor('corpus-fhir', path);
      expect(manifest.status, path).toBe('committed');
      const bytes = readCorpusFile(path);
      expect(manifest.counts.messagesIn, path).toBe(countFhirResources(bytes));
      expect(manifest.counts.rejected, path).toBe(countMisplacedFhirEntries(bytes));
    }
    for (const path of filesIn('fhir', 'malformed')) {
      const manifest = manifestFor('corpus-fhir-malformed', path);
      const codes =
        manifest.status === 'quarantined'
          ? [manifest.reasonCode]
          : Object.keys(manifest.counts.rejectedByReason);
      expect(codes.length, path).toBeGreaterThan(0);
      for (const code of codes) {
        expect(code, path).toMatch(KNOWN_CODE);
      }
    }
  });

  it('counts NDJSON lines and rejects the invalid line and the export log lines', () => {
    for (const path of filesIn('ndjson')) {
      const manifest = manifestFor('corpus-ndjson', path);
      expect(manifest.status, path).toBe('committed');
      expect(manifest.counts.messagesIn, path).toBe(countNdjsonLines(readCorpusFile(path)));
    }
    const invalid = manifestFor(
      'corpus-ndjson',
      corpusPath('ndjson', 'fhirsrv__Normative-Import-InvalidPatient.ndjson'),
    );
    expect(invalid.counts.rejectedByReason).toEqual({ NDJSON_INVALID_JSON: 1 });
    expect(invalid.rejectParts).toHaveLength(1);
    expect(invalid.counts.written).toBe(4);
    const exportLog = manifestFor(
      'corpus-ndjson',
      corpusPath('ndjson', 'bulkfhir__8aef4e0-log.ndjson'),
    );
    expect(exportLog.counts.written).toBe(0);
    expect(exportLog.counts.rejectedByReason).toEqual({ NDJSON_NOT_A_RESOURCE: 4 });
  });

  it('prints a summary whose totals add up to the manifests', () => {
    const summary = formatRunSummary(report);
    const totals = manifests().reduce((sum, manifest) => sum + manifest.counts.messagesIn, 0);
    expect(summary).toContain(`${manifests().length} batches: ${totals} in,`);
  });
});
