import { describe, expect, it } from 'vitest';

import { resolveDeidRules } from '../../transforms/deid/rules.js';
import {
  prepareHl7,
  prepareNdjson,
  transformFhirDocument,
  transformRecords,
} from '../../workers/records.js';

const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);
// Keeps a byte order mark, so the tests see what the ranges hold.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

function linesOf(text: string, atFileStart = true): string[] {
  const bytes = bytesOf(text);
  const { ranges } = prepareNdjson(bytes, atFileStart);
  const lines: string[] = [];
  for (let index = 0; index < ranges.length; index += 2) {
    lines.push(decoder.decode(bytes.subarray(ranges[index], ranges[index + 1])));
  }
  return lines;
}

describe('prepareNdjson', () => {
  it('finds LF and CRLF lines and drops trailing white space', () => {
    expect(linesOf('{"a":1}\n{"b":2}\r\n{"c":3} \t\r\n')).toEqual([
      '{"a":1}',
      '{"b":2}',
      '{"c":3}',
    ]);
  });

  it('skips blank and white-space-only lines and keeps a last line without a newline', () => {
    expect(linesOf('\n{"a":1}\n \t\r\n\r\n{"b":2}')).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('gives byte ranges in the file, past a byte order mark at its start', () => {
    const bytes = bytesOf('\uFEFF{"a":1}\n  {"b":2}\n');
    expect(prepareNdjson(bytes).ranges).toEqual([3, 10, 11, 20]);
  });

  it('keeps a leading byte order mark when the bytes do not start the file', () => {
    expect(linesOf('\uFEFF{"a":1}\n', false)).toEqual(['\uFEFF{"a":1}']);
  });

  it('finds nothing in empty or blank input', () => {
    expect(prepareNdjson(new Uint8Array(0)).ranges).toEqual([]);
    expect(prepareNdjson(bytesOf(' \r\n\n\t')).ranges).toEqual([]);
  });

  it('reads a view into a shared buffer at its own offset', () => {
    const shared = new SharedArrayBuffer(32);
    const whole = new Uint8Array(shared);
    whole.set(bytesOf('xxxx{"a":1}\n{"b":2}\n'));
    expect(prepareNdjson(whole.subarray(4, 20)).ranges).toEqual([0, 7, 8, 15]);
  });
});

describe('transformRecords on NDJSON lines', () => {
  const ctx = {
    pseudonymKey: new Uint8Array(32).fill(9),
    rules: resolveDeidRules('safe-harbor'),
    referenceYear: 2026,
  };
  const text = [
    '{"resourceType":"Observation","id":"o1","status":"final"}',
    '{not json',
    '{"note":"a bulk export log line"}',
    '{"resourceType":"Observation","status":"nonsense"}',
    '{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}]}',
  ].join('\n');

  it('rejects each bad line with its code, position and raw text, and keeps the rest', () => {
    const bytes = bytesOf(text);
    const { ranges } = prepareNdjson(bytes);
    const outcome = transformRecords('ndjson', bytes, ranges, 10, ctx);

    expect(outcome.messageCount).toBe(5);
    expect(outcome.rejects).toEqual([
      {
        code: 'NDJSON_INVALID_JSON',
        position: { line: 12, messageIndex: 11, byteOffset: ranges[2] },
        raw: '{not json',
      },
      {
        code: 'NDJSON_NOT_A_RESOURCE',
        position: { line: 13, messageIndex: 12, byteOffset: ranges[4] },
        raw: '{"note":"a bulk export log line"}',
      },
      {
        code: 'FHIR_INVALID_RESOURCE',
        position: { field: 'Observation.status', messageIndex: 13, byteOffset: ranges[6] },
        raw: '{"resourceType":"Observation","status":"nonsense"}',
      },
    ]);
    expect(outcome.groups.map((group) => [group.recordType, group.recordCount])).toEqual([
      ['Observation', 1],
      ['Patient', 1],
    ]);
    expect(outcome.groups[1].ndjson).not.toContain('Doe');
  });
});

describe('elements R4 does not define', () => {
  const ctx = {
    pseudonymKey: new Uint8Array(32).fill(9),
    rules: resolveDeidRules('safe-harbor'),
    referenceYear: 2026,
  };
  const patient = {
    resourceType: 'Patient',
    id: 'p1',
    name: [{ family: 'Testperson', given: ['Fake'], alias: 'Testperson' }],
    ssn: '123-45-6789',
  };
  const observation = {
    resourceType: 'Observation',
    status: 'final',
    code: { text: 'Glucose' },
    bogus: { a: 'Testperson' },
  };

  it('are counted, as a number only, in the outcome of NDJSON lines', () => {
    const bytes = bytesOf(`${JSON.stringify(patient)}\n${JSON.stringify(observation)}\n`);
    const { ranges } = prepareNdjson(bytes);
    const outcome = transformRecords('ndjson', bytes, ranges, 0, ctx);

    // Patient.ssn and Observation.bogus; HumanName.alias goes with the name, which the preset
    // drops whole before looking inside it.
    expect(outcome.unknownElementsRemoved).toBe(2);
    expect(outcome.rejects).toEqual([]);
    const text = outcome.groups.map((group) => group.ndjson).join('');
    expect(text).not.toMatch(/Testperson|6789|ssn|bogus/);
  });

  it('are counted in the outcome of a FHIR document, across its entries', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: patient }, { resource: observation }, { resource: observation }],
    };
    const outcome = transformFhirDocument(bytesOf(JSON.stringify(bundle)), ctx);

    expect(outcome).toMatchObject({ status: 'ok', unknownElementsRemoved: 3 });
  });

  it('are not counted for a record that is then rejected, which is stored as sent', () => {
    let extension: Record<string, unknown> = { url: 'u' };
    for (let level = 0; level < 300; level++) {
      extension = { url: 'u', extension: [extension] };
    }
    // The unknown element comes first, so the walk removes it before it finds the depth too great.
    const tooDeep = { resourceType: 'Patient', bogus: 'x', extension: [extension] };
    const bytes = bytesOf(`${JSON.stringify(tooDeep)}\n${JSON.stringify(observation)}\n`);

    const outcome = transformRecords('ndjson', bytes, prepareNdjson(bytes).ranges, 0, ctx);

    expect(outcome.rejects.map((reject) => reject.position.messageIndex)).toEqual([0]);
    expect(outcome.unknownElementsRemoved).toBe(1);
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: tooDeep }, { resource: observation }],
    };
    const document = transformFhirDocument(bytesOf(JSON.stringify(bundle)), ctx);
    expect(document).toMatchObject({ status: 'ok', unknownElementsRemoved: 1 });
  });

  it('are not counted under the none preset, nor for HL7 v2', () => {
    const none = { ...ctx, rules: resolveDeidRules('none') };
    const bytes = bytesOf(JSON.stringify(patient));
    const outcome = transformRecords('ndjson', bytes, prepareNdjson(bytes).ranges, 0, none);
    expect(outcome.unknownElementsRemoved).toBe(0);
    expect(outcome.groups[0].ndjson).toContain('"ssn":"123-45-6789"');

    const hl7 = bytesOf('MSH|^~\\&|LAB|HOSP|EHR|HOSP|20260101120000||ADT^A01|C1|P|2.5.1\r');
    const prepared = prepareHl7(hl7, false);
    if (prepared.status !== 'ok') {
      throw new Error('the test message did not split');
    }
    const hl7Outcome = transformRecords('hl7v2', hl7, prepared.ranges, 0, ctx);
    expect(hl7Outcome.groups).toHaveLength(1);
    expect(hl7Outcome.unknownElementsRemoved).toBe(0);
  });
});

describe('transformFhirDocument with several patients', () => {
  const patient = (id: string, mrn: string, family: string): Record<string, unknown> => ({
    fullUrl: `urn:uuid:00000000-0000-4000-8000-00000000000${id}`,
    resource: {
      resourceType: 'Patient',
      identifier: [
        {
          type: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }],
          },
          value: mrn,
        },
      ],
      name: [{ family, given: ['Sam'] }],
    },
  });
  const note = (id: string, text: string): Record<string, unknown> => ({
    resource: {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Note' },
      subject: { reference: `urn:uuid:00000000-0000-4000-8000-00000000000${id}` },
      note: [{ text }],
    },
  });
  const bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      patient('1', 'MRN-A-0001', 'Alphafake'),
      patient('2', 'MRN-B-0002', 'Bravofake'),
      note('1', 'Alphafake walked today with Bravofake (MRN-B-0002)'),
      note('2', 'Bravofake slept well'),
    ],
  };
  const rules = resolveDeidRules('safe-harbor');
  const ctx = {
    pseudonymKey: new Uint8Array(32).fill(9),
    rules,
    rulesHash: 'test',
    referenceYear: 2026,
  };

  it("scrubs each resource's free text of every patient's identifiers in the document", () => {
    const outcome = transformFhirDocument(bytesOf(JSON.stringify(bundle)), ctx);
    expect(outcome.status).toBe('ok');
    const groups = (outcome as { groups: Array<{ recordType: string; ndjson: string }> }).groups;
    const notes = groups
      .find((group) => group.recordType === 'Observation')
      ?.ndjson.trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { note: Array<{ text: string }> }).note[0].text);
    expect(notes).toEqual(['[NAME] walked today with [NAME] ([ID])', '[NAME] slept well']);
  });
});

describe('a FHIRPath rule that compiles but fails on the data', () => {
  // `birthDate + 5` is valid syntax; fhirpath refuses it only when it meets a date.
  const rules = resolveDeidRules('safe-harbor', {
    fhir: [
      { path: 'Observation.status', method: 'keep' },
      { path: 'Patient.birthDate + 5', method: 'redact' },
    ],
  });
  const ctx = { pseudonymKey: new Uint8Array(32).fill(4), rules, rulesHash: 'broken-rule' };
  const patientLine = JSON.stringify({
    resourceType: 'Patient',
    id: 'p1',
    name: [{ family: 'Testperson-Bad', given: ['Zed'] }],
    birthDate: '1970-01-01',
  });
  const observationLine = JSON.stringify({
    resourceType: 'Observation',
    id: 'o1',
    status: 'final',
    code: { text: 'heart rate' },
    subject: { reference: 'Patient/p1' },
  });

  it('rejects the resources it fails on as DEID_RULE_FAILED naming the rule, and goes on', () => {
    const bytes = bytesOf(`${observationLine}\n${patientLine}\n`);
    const { ranges } = prepareNdjson(bytes);
    const outcome = transformRecords('ndjson', bytes, ranges, 0, ctx);

    expect(outcome.messageCount).toBe(2);
    expect(outcome.groups.map((group) => [group.recordType, group.recordCount])).toEqual([
      ['Observation', 1],
    ]);
    expect(outcome.rejects).toHaveLength(1);
    const [reject] = outcome.rejects;
    expect(reject.code).toBe('DEID_RULE_FAILED');
    expect(reject.position).toEqual({
      rule: 'fhir.1',
      messageIndex: 1,
      byteOffset: observationLine.length + 1,
    });
    // The raw line goes to the encrypted reject part; nothing else carries the data.
    expect(reject.raw).toBe(patientLine);
    expect(JSON.stringify(reject.position)).not.toMatch(/Testperson|1970/);
  });

  it('does the same inside a Bundle, entry by entry', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: JSON.parse(patientLine) }, { resource: JSON.parse(observationLine) }],
    };
    const outcome = transformFhirDocument(bytesOf(JSON.stringify(bundle)), ctx);

    expect(outcome.status).toBe('ok');
    const ok = outcome as { groups: Array<{ recordType: string }>; rejects: unknown[] };
    expect(ok.groups.map((group) => group.recordType)).toEqual(['Observation']);
    expect(ok.rejects).toEqual([
      { code: 'DEID_RULE_FAILED', position: { rule: 'fhir.1', messageIndex: 0 }, raw: patientLine },
    ]);
  });
});

describe('transformRecords on HL7 messages', () => {
  const ctx = {
    pseudonymKey: new Uint8Array(32).fill(9),
    rules: resolveDeidRules('safe-harbor'),
    referenceYear: 2026,
  };
  const messageWithType = (messageType: string, controlId: string): string =>
    `MSH|^~\\&|LAB|HOSP|EHR|HOSP|20260101120000||${messageType}|${controlId}|P|2.5.1\r` +
    'PID|1||12345^^^HOSP^MR||Testperson^Fake\r';

  it('groups by MSH-9 when it holds HL7 codes and counts anything else as other', () => {
    const text = [
      messageWithType('ADT^A01^ADT_A01', 'C1'),
      messageWithType('ACK', 'C2'),
      messageWithType('Testperson^Fake', 'C3'),
      messageWithType('adt^a01', 'C4'),
      messageWithType('ADT^A01 Fake Testperson', 'C5'),
      messageWithType('ZZS^DOE', 'C6'),
      messageWithType('DOE^A01', 'C7'),
      messageWithType('ZMF^Z01', 'C8'),
      messageWithType('RDE^PCA', 'C9'),
    ].join('');
    const bytes = bytesOf(text);
    const prepared = prepareHl7(bytes, false);
    if (prepared.status !== 'ok') {
      throw new Error('the test file did not split');
    }

    const outcome = transformRecords('hl7v2', bytes, prepared.ranges, 0, ctx);

    expect(outcome.rejects).toEqual([]);
    const groups = outcome.groups.map((group) => [group.recordType, group.recordCount]);
    expect(groups).toEqual([
      ['ADT^A01', 1],
      ['ACK', 1],
      ['other', 5],
      ['ZMF^Z01', 1],
      ['RDE^PCA', 1],
    ]);
    // The record itself keeps MSH-9 as sent; it is encrypted with the rest of the output.
    const other = outcome.groups[2].ndjson
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line).messageType);
    expect(other).toEqual([
      'Testperson^Fake',
      'adt^a01',
      'ADT^A01 Fake Testperson',
      'ZZS^DOE',
      'DOE^A01',
    ]);
  });
});
