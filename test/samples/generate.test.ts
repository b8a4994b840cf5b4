import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  generateFhirNdjson,
  generateHl7Corpus,
  generateSamples,
  listSampleIdentifiers,
  writeSamples,
} from '../../samples/index.js';
import type { SampleFile } from '../../samples/index.js';

const samples = generateSamples({});

describe('generateSamples', () => {
  it('gives identical bytes for the same seed', () => {
    const again = generateSamples({});

    expect(again).toEqual(samples);
    expect(generateSamples({ seed: 7, hl7Messages: 9, fhirPatients: 3 })).toEqual(
      generateSamples({ seed: 7, hl7Messages: 9, fhirPatients: 3 }),
    );
  });

  it('gives different bytes for another seed', () => {
    const other = generateSamples({ seed: 99 });

    expect(textOf(other, 'adt-batch.hl7')).not.toBe(textOf(samples, 'adt-batch.hl7'));
  });

  it('writes the six files in their feeds', () => {
    expect(samples.map((sample) => `${sample.feed}/${sample.fileName}`)).toEqual([
      'adt-feed/adt-batch.hl7',
      'lab-feed/oru-results.hl7',
      'fhir-feed/patients-bundle.json',
      'fhir-feed/observations.ndjson',
      'bad-feed/corrupt.hl7',
      'bad-feed/unknown.bin',
    ]);
  });

  it('names the option that is out of range', () => {
    expect(() => generateSamples({ hl7Messages: 0 })).toThrow(
      'hl7Messages must be a positive integer',
    );
  });
});

describe('listSampleIdentifiers', () => {
  const identifiers = listSampleIdentifiers();
  const allText = samples.map((sample) => Buffer.from(sample.bytes).toString('utf8')).join('\n');

  it('plants every listed identifier in the files, so a leak test on them means something', () => {
    expect(identifiers.length).toBeGreaterThan(50);
    const missing = identifiers.filter((value) => !allText.includes(value));

    expect(missing).toEqual([]);
  });

  it('lists only obviously fake values', () => {
    const kinds = {
      ssn: identifiers.filter((value) => /^\d{3}-\d{2}-\d{4}$/.test(value)),
      phone: identifiers.filter((value) => /^\d{3}-\d{4}$/.test(value)),
      email: identifiers.filter((value) => value.includes('@')),
      street: identifiers.filter((value) => value.endsWith(' Street')),
    };

    expect(kinds.ssn.length).toBeGreaterThan(0);
    expect(kinds.ssn.every((value) => value.startsWith('999-'))).toBe(true);
    expect(kinds.phone.every((value) => /^555-01\d\d$/.test(value))).toBe(true);
    expect(kinds.email.every((value) => value.endsWith('@example.invalid'))).toBe(true);
    expect(kinds.street.every((value) => /^\d{3} Fake Street$/.test(value))).toBe(true);
    expect(identifiers.filter((value) => value.startsWith('MRN'))).toHaveLength(10);
  });

  it('covers every person of the FHIR files in the HL7 files too, MRN for MRN', () => {
    const bundle = JSON.parse(stripBom(textOf(samples, 'patients-bundle.json')));
    const mrns = bundle.entry
      .filter((entry: Entry) => entry.resource.resourceType === 'Patient')
      .map((entry: Entry) => entry.resource.identifier[0].value);

    expect(mrns).toHaveLength(5);
    for (const mrn of mrns) {
      expect(textOf(samples, 'adt-batch.hl7')).toContain(`|${mrn}^^^TESTHOSP^MR~`);
    }
  });
});

describe('adt-feed/adt-batch.hl7', () => {
  const text = textOf(samples, 'adt-batch.hl7');
  const segments = splitSegments(text, '\r');

  it('ends every segment with CR and never uses LF', () => {
    expect(text.endsWith('\r')).toBe(true);
    expect(text).not.toContain('\n');
  });

  it('has BTS and FTS counts that match the messages and batches', () => {
    const messageCount = segments.filter((segment) => segment.startsWith('MSH|')).length;

    expect(segments[0]).toMatch(/^FHS\|/);
    expect(segments[1]).toMatch(/^BHS\|/);
    expect(messageCount).toBe(20);
    expect(field(segments, 'BTS', 1)).toBe(String(messageCount));
    expect(field(segments, 'FTS', 1)).toBe('1');
  });

  it('uses A01, A04 and A08 with PID-3 repeating MR and AN', () => {
    const events = segments.filter((s) => s.startsWith('MSH|')).map((s) => s.split('|')[8]);
    const pid3 = field(segments, 'PID', 3).split('~');

    expect(new Set(events)).toEqual(
      new Set(['ADT^A01^ADT_A01', 'ADT^A04^ADT_A01', 'ADT^A08^ADT_A01']),
    );
    expect(pid3).toHaveLength(2);
    expect(pid3[0]).toMatch(/^MRN\d{7}\^\^\^TESTHOSP\^MR$/);
    expect(pid3[1]).toMatch(/^ACCT\d{8}\^\^\^TESTHOSP\^AN$/);
    expect(field(segments, 'PID', 18)).toMatch(/^ACCT\d{8}/);
    expect(field(segments, 'PID', 19)).toMatch(/^999-\d{2}-\d{4}$/);
    expect(field(segments, 'PV1', 19)).toMatch(/^VN\d{8}$/);
    expect(segments.some((segment) => segment.startsWith('NK1|'))).toBe(true);
  });

  it('includes an escaped ampersand', () => {
    expect(text).toContain('\\T\\');
  });
});

describe('lab-feed/oru-results.hl7', () => {
  const text = textOf(samples, 'oru-results.hl7');
  const segments = splitSegments(text, '\n');

  it('ends segments with LF and holds ORU^R01 with NM and TX results and an NTE', () => {
    expect(text).not.toContain('\r');
    expect(segments[0]).toContain('|ORU^R01^ORU_R01|');
    expect(segments.some((segment) => segment.startsWith('OBX|1|NM|'))).toBe(true);
    expect(segments.some((segment) => /^OBX\|\d+\|TX\|/.test(segment))).toBe(true);
    expect(segments.some((segment) => segment.startsWith('NTE|'))).toBe(true);
  });
});

describe('bad-feed files', () => {
  it('gives corrupt.hl7 a BTS-1 count that does not match its messages', () => {
    const segments = splitSegments(textOf(samples, 'corrupt.hl7'), '\r');
    const messageCount = segments.filter((segment) => segment.startsWith('MSH|')).length;

    expect(field(segments, 'BTS', 1)).not.toBe(String(messageCount));
  });

  it('makes unknown.bin neither HL7 nor JSON', () => {
    const bytes = fileOf(samples, 'unknown.bin').bytes;
    const text = Buffer.from(bytes).toString('latin1');

    expect(bytes[0]).toBe(0);
    expect(text.trimStart()).not.toMatch(/^(MSH|FHS|BHS|\{|\[)/);
    expect(() => JSON.parse(text)).toThrow();
  });
});

describe('fhir-feed files', () => {
  it('writes a transaction Bundle with a BOM whose references all resolve', () => {
    const bytes = fileOf(samples, 'patients-bundle.json').bytes;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);

    const bundle = JSON.parse(stripBom(Buffer.from(bytes).toString('utf8')));
    const fullUrls = new Set(bundle.entry.map((entry: Entry) => entry.fullUrl));
    const references = bundle.entry.flatMap((entry: Entry) =>
      [entry.resource.subject, entry.resource.encounter]
        .filter((reference) => reference !== undefined)
        .map((reference) => reference.reference),
    );

    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'transaction' });
    expect(new Set(bundle.entry.map((entry: Entry) => entry.resource.resourceType))).toEqual(
      new Set(['Patient', 'Encounter', 'Observation']),
    );
    expect(references.length).toBeGreaterThan(0);
    expect(references.every((reference: string) => fullUrls.has(reference))).toBe(true);
    expect([...fullUrls].every((url) => /^urn:uuid:[0-9a-f-]{36}$/.test(String(url)))).toBe(true);
  });

  it('writes NDJSON Observations that reference the Bundle patients as Patient/<id>', () => {
    const bundle = JSON.parse(stripBom(textOf(samples, 'patients-bundle.json')));
    const patientIds = bundle.entry
      .filter((entry: Entry) => entry.resource.resourceType === 'Patient')
      .map((entry: Entry) => entry.fullUrl.slice('urn:uuid:'.length));
    const text = textOf(samples, 'observations.ndjson');
    const lines = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));

    expect(text.endsWith('\n')).toBe(true);
    expect(lines.length).toBe(3 * patientIds.length);
    for (const observation of lines) {
      expect(observation.resourceType).toBe('Observation');
      expect(patientIds).toContain(observation.subject.reference.slice('Patient/'.length));
    }
  });
});

describe('writeSamples', () => {
  it('writes each file to <dir>/<feed>/<fileName>', () => {
    const dir = mkdtempSync(join(tmpdir(), 'phi-samples-'));
    try {
      const written = writeSamples(dir, { hl7Messages: 4, fhirPatients: 2 });

      expect(written).toHaveLength(6);
      expect(readFileSync(join(dir, 'adt-feed', 'adt-batch.hl7'), 'latin1')).toMatch(/^FHS\|/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('generateHl7Corpus', () => {
  const corpus = generateHl7Corpus({ seed: 3, approxBytes: 300_000 });
  const text = Buffer.from(corpus.bytes).toString('utf8');
  const messages = text.split(/\r(?=MSH\|)/);

  it('is deterministic and about the size asked for', () => {
    const again = generateHl7Corpus({ seed: 3, approxBytes: 300_000 });

    expect(Buffer.from(again.bytes).equals(corpus.bytes)).toBe(true);
    expect(again.recordCount).toBe(corpus.recordCount);
    expect(corpus.bytes.length).toBeGreaterThanOrEqual(300_000);
    expect(corpus.bytes.length).toBeLessThan(300_000 + 5_000);
  });

  it('holds ADT and ORU messages of about 1.5 KB with repetitions and escapes', () => {
    const averageBytes = corpus.bytes.length / corpus.recordCount;

    expect(messages).toHaveLength(corpus.recordCount);
    expect(averageBytes).toBeGreaterThan(1_200);
    expect(averageBytes).toBeLessThan(1_800);
    expect(text).toContain('|ADT^');
    expect(text).toContain('|ORU^R01^ORU_R01|');
    expect(text).toContain('^MR~');
    expect(text).toMatch(/\\[TSE]\\/);
  });
});

describe('generateFhirNdjson', () => {
  const corpus = generateFhirNdjson({ seed: 3, approxBytes: 200_000 });
  const lines = Buffer.from(corpus.bytes).toString('utf8').trimEnd().split('\n');

  it('is deterministic and about the size asked for', () => {
    const again = generateFhirNdjson({ seed: 3, approxBytes: 200_000 });

    expect(Buffer.from(again.bytes).equals(corpus.bytes)).toBe(true);
    expect(again.recordCount).toBe(corpus.recordCount);
    expect(corpus.bytes.length).toBeGreaterThanOrEqual(200_000);
    expect(corpus.bytes.length).toBeLessThan(200_000 + 10_000);
  });

  it('writes Patient, Encounter and Observation lines whose references resolve', () => {
    const resources = lines.map((line) => JSON.parse(line));
    const ids = new Set(resources.map((resource) => `${resource.resourceType}/${resource.id}`));

    expect(resources).toHaveLength(corpus.recordCount);
    expect(new Set(resources.map((resource) => resource.resourceType))).toEqual(
      new Set(['Patient', 'Encounter', 'Observation']),
    );
    for (const resource of resources.filter((item) => item.resourceType !== 'Patient')) {
      expect(ids.has(resource.subject.reference)).toBe(true);
    }
  });
});

interface Entry {
  fullUrl: string;
  // Loose on purpose: the tests walk resource JSON without a FHIR type library.
  resource: any;
}

function fileOf(files: SampleFile[], fileName: string): SampleFile {
  const file = files.find((sample) => sample.fileName === fileName);
  if (file === undefined) {
    throw new Error(`Expected a sample named ${fileName}`);
  }
  return file;
}

function textOf(files: SampleFile[], fileName: string): string {
  return Buffer.from(fileOf(files, fileName).bytes).toString('utf8');
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function splitSegments(text: string, terminator: string): string[] {
  return text.split(terminator).filter((segment) => segment.length > 0);
}

/** Returns a field of the first segment with that name, by its HL7 position. */
function field(segments: string[], segmentName: string, position: number): string {
  const segment = segments.find((item) => item.startsWith(`${segmentName}|`));
  if (segment === undefined) {
    throw new Error(`Expected a ${segmentName} segment`);
  }
  return segment.split('|')[position] ?? '';
}
