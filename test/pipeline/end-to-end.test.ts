import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { drain } from '../../pipeline/app.js';
import { decryptStored } from '../../pipeline/read-part.js';
import { dropFiles } from '../../pipeline/drop.js';
import type { BatchManifest } from '../../pipeline/manifest.js';
import type { RunReport } from '../../pipeline/orchestrator.js';
import { listSampleIdentifiers } from '../../samples/generate.js';
import { pseudonymize } from '../../transforms/pseudonym.js';
import { countFhirResources, countMshSegments } from '../helpers/corpus.js';
import { writeSampleFiles } from '../helpers/samples.js';
import { listBlobs, startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

describe('end to end on Azurite: HL7 v2 file and FHIR Bundle', () => {
  let env: TestEnvironment;
  let report: RunReport;
  let samples: Map<string, string>;
  const decrypted = new Map<string, string>();

  beforeAll(async () => {
    env = await startTestEnvironment();
    samples = writeSampleFiles(join(env.homeDir, 'samples'));
    await dropFiles(env.app.storage, 'adt-feed', [samples.get('adt-feed/adt-batch.hl7')!]);
    await dropFiles(env.app.storage, 'lab-feed', [samples.get('lab-feed/oru-results.hl7')!]);
    await dropFiles(env.app.storage, 'fhir-feed', [
      samples.get('fhir-feed/patients-bundle.json')!,
      samples.get('fhir-feed/observations.ndjson')!,
    ]);
    report = await drain(env.app);

    for (const result of report.results) {
      if (result.kind !== 'committed') {
        continue;
      }
      for (const part of [...result.manifest.parts, ...result.manifest.rejectParts]) {
        decrypted.set(
          `${part.container}/${part.path}`,
          await decryptStored(env.app, `${part.container}/${part.path}`),
        );
      }
    }
  });

  afterAll(async () => {
    await env?.close();
  });

  const manifestOf = (feedId: string, format: string): BatchManifest => {
    const found = report.results.find(
      (result) =>
        result.kind === 'committed' &&
        result.manifest.feedId === feedId &&
        result.manifest.format === format,
    );
    expect(found, `${feedId} ${format}`).toBeDefined();
    return (found as { manifest: BatchManifest }).manifest;
  };

  it('commits one batch per file with exact counts', () => {
    expect(report.results.map((result) => result.kind)).toEqual([
      'committed',
      'committed',
      'committed',
      'committed',
    ]);
    expect(report.poisoned).toEqual([]);

    const adt = manifestOf('adt-feed', 'hl7v2');
    const adtMessages = countMshSegments(readFileSync(samples.get('adt-feed/adt-batch.hl7')!));
    expect(adtMessages).toBeGreaterThan(3);
    expect(adt.counts).toMatchObject({
      messagesIn: adtMessages,
      written: adtMessages,
      rejected: 0,
    });

    const bundle = manifestOf('fhir-feed', 'fhir-json');
    const resources = countFhirResources(
      readFileSync(samples.get('fhir-feed/patients-bundle.json')!),
    );
    expect(bundle.counts).toMatchObject({ messagesIn: resources, written: resources, rejected: 0 });
    expect(
      Object.keys(bundle.counts.writtenByPartition).some((path) => path.includes('/type=Patient/')),
    ).toBe(true);
  });

  it('writes parts whose decrypted lines match the manifest, one JSON object per line', () => {
    for (const result of report.results) {
      const manifest = (result as { manifest: BatchManifest }).manifest;
      let lines = 0;
      for (const part of manifest.parts) {
        expect(part.path).toMatch(
          new RegExp(
            `^feed=${manifest.feedId}/type=[A-Za-z0-9_-]+/date=\\d{4}-\\d{2}-\\d{2}/batch=${manifest.batchId}/part-\\d{5}\\.ndjson\\.gz\\.enc$`,
          ),
        );
        const text = decrypted.get(`output/${part.path}`)!;
        const partLines = text.trimEnd().split('\n');
        expect(partLines).toHaveLength(part.recordCount);
        for (const line of partLines) {
          expect(typeof JSON.parse(line)).toBe('object');
        }
        lines += partLines.length;
      }
      expect(lines).toBe(manifest.counts.written);
    }
  });

  it('leaves no direct identifier of the input in any output part', () => {
    const identifiers = listSampleIdentifiers();
    expect(identifiers.length).toBeGreaterThan(20);
    const allOutput = [...decrypted.values()].join('\n');
    expect(allOutput.length).toBeGreaterThan(1000);
    for (const identifier of identifiers) {
      expect(allOutput.includes(identifier), identifier).toBe(false);
    }
  });

  it('stores only ciphertext: no plaintext in output, archive or manifests beyond ids and counts', async () => {
    const identifiers = listSampleIdentifiers();
    for (const container of ['output', 'archive', 'manifests']) {
      for (const name of (await listBlobs(env, container)).keys()) {
        const bytes = await env.app.storage.blobService
          .getContainerClient(container)
          .getBlobClient(name)
          .downloadToBuffer();
        const text = bytes.toString('latin1');
        if (container !== 'manifests') {
          expect(text.startsWith('PHIE'), name).toBe(true);
          expect(text).not.toContain('MSH|');
          expect(text).not.toContain('resourceType');
        }
        for (const identifier of identifiers) {
          expect(text.includes(identifier), `${container}/${name}`).toBe(false);
        }
      }
    }
    expect([...(await listBlobs(env, 'inbound')).keys()]).toEqual([]);
  });

  it('keeps identifiers out of the logs, table rows and queue', async () => {
    const identifiers = listSampleIdentifiers();
    const logs = env.logText();
    expect(logs).toContain('"msg":"Batch committed"');
    const rows: string[] = [];
    for await (const row of env.app.storage.batchesTable.listEntities()) {
      rows.push(JSON.stringify(row));
    }
    expect(rows).toHaveLength(4);
    for (const identifier of identifiers) {
      expect(logs.includes(identifier), identifier).toBe(false);
      expect(rows.join('\n').includes(identifier), identifier).toBe(false);
    }
    expect((await env.app.storage.inboundQueue.getProperties()).approximateMessagesCount).toBe(0);
  });

  it('pseudonymises the same MRN the same way in HL7 and FHIR output', () => {
    const adtText = [...decrypted]
      .filter(([path]) => path.includes('feed=adt-feed'))
      .map(([, text]) => text)
      .join('');
    const fhirText = [...decrypted]
      .filter(([path]) => path.includes('type=Patient'))
      .map(([, text]) => text)
      .join('');
    // The MRNs planted in both feeds, pseudonymised with the run's own key.
    const mrns = listSampleIdentifiers().filter((value) => /^MRN\d+$/.test(value));
    const key = env.app.keyRing!.pseudonymKey;
    const inBoth = mrns.filter((mrn) => {
      const pseudonym = pseudonymize(key, 'patient-id', mrn);
      return adtText.includes(pseudonym) && fhirText.includes(pseudonym);
    });
    expect(mrns.length).toBeGreaterThan(0);
    expect(inBoth.length).toBeGreaterThan(0);
  });

  it('counts the FHIR elements R4 does not define, removed, in the manifest', async () => {
    const lines = [
      { resourceType: 'Patient', id: 'p1', ssn: '000-00-0000', bogus: { a: 'Testperson' } },
      { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' }, extra: 1 },
      { resourceType: 'Patient', id: 'p2', gender: 'other' },
    ];
    const path = join(env.homeDir, 'odd.ndjson');
    writeFileSync(path, lines.map((line) => JSON.stringify(line)).join('\n'));
    await dropFiles(env.app.storage, 'odd-fhir', [path]);

    const odd = await drain(env.app);

    const manifest = (odd.results[0] as { manifest: BatchManifest }).manifest;
    expect(manifest.counts).toMatchObject({ messagesIn: 3, written: 3, unknownElementsRemoved: 3 });
    expect(manifest.parts).toHaveLength(2);
    let text = '';
    for (const part of manifest.parts) {
      text += await decryptStored(env.app, `output/${part.path}`);
    }
    expect(text).toContain('"gender":"other"');
    expect(text).not.toContain('ssn');
    expect(text).not.toContain('bogus');
    expect(manifestOf('adt-feed', 'hl7v2').counts.unknownElementsRemoved).toBe(0);
  });
});
