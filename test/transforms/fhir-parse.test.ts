import { describe, expect, it } from 'vitest';

import { parseFhirDocument, parseNdjsonLine } from '../../transforms/fhir/index.js';

const PATIENT = { resourceType: 'Patient', id: 'pat-1', gender: 'female' };
const OBSERVATION = {
  resourceType: 'Observation',
  id: 'obs-1',
  status: 'final',
  subject: { reference: 'urn:uuid:11111111-2222-3333-4444-555555555555' },
};

describe('parseFhirDocument', () => {
  it('returns a single resource as one item', () => {
    expect(parseFhirDocument(JSON.stringify(PATIENT))).toEqual({
      ok: true,
      resources: [PATIENT],
      fullUrls: [undefined],
      skippedEntries: 0,
      rejects: [],
    });
  });

  it('flattens a Bundle and counts entries without a resource as skipped', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:11111111-2222-3333-4444-555555555555',
          resource: PATIENT,
          request: { method: 'POST', url: 'Patient' },
        },
        { request: { method: 'DELETE', url: 'Patient/old-1' } },
        { fullUrl: 'http://example.org/fhir/Observation/obs-1', resource: OBSERVATION },
      ],
    };

    expect(parseFhirDocument(JSON.stringify(bundle))).toEqual({
      ok: true,
      resources: [PATIENT, OBSERVATION],
      fullUrls: [
        'urn:uuid:11111111-2222-3333-4444-555555555555',
        'http://example.org/fhir/Observation/obs-1',
      ],
      skippedEntries: 1,
      rejects: [],
    });
  });

  it('keeps a Bundle nested in an entry as one item', () => {
    const inner = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: PATIENT }] };
    const outer = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: inner }] };
    const parsed = parseFhirDocument(JSON.stringify(outer));
    expect(parsed.ok && parsed.resources).toEqual([inner]);
  });

  it('returns no resources for a Bundle without entries', () => {
    const parsed = parseFhirDocument('{"resourceType":"Bundle","type":"collection","entry":[]}');
    expect(parsed).toMatchObject({ ok: true, resources: [], skippedEntries: 0 });
    expect(parseFhirDocument('{"resourceType":"Bundle"}')).toMatchObject({
      ok: true,
      resources: [],
    });
  });

  it('rejects an entry without a resource that is not an operation, keeping it as sent', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { fullUrl: 'urn:x:1' },
        { resourceType: 'Encounter', id: 'e1' },
        { resource: PATIENT },
      ],
    };
    const parsed = parseFhirDocument(JSON.stringify(bundle));
    expect(parsed).toMatchObject({ ok: true, resources: [PATIENT], skippedEntries: 0 });
    expect((parsed as { rejects: unknown[] }).rejects).toEqual([
      {
        code: 'FHIR_ENTRY_WITHOUT_RESOURCE',
        position: { messageIndex: 0, field: 'Bundle.entry.resource' },
        raw: '{"fullUrl":"urn:x:1"}',
      },
      {
        code: 'FHIR_ENTRY_WITHOUT_RESOURCE',
        position: { messageIndex: 1, field: 'Bundle.entry.resource' },
        raw: '{"resourceType":"Encounter","id":"e1"}',
      },
    ]);
  });

  it('rejects unusable entries by index and keeps the rest', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [{ resource: PATIENT }, { resource: { id: 'x' } }, 'entry', { resource: [1] }],
    };
    expect(parseFhirDocument(JSON.stringify(bundle))).toEqual({
      ok: true,
      resources: [PATIENT],
      fullUrls: [undefined],
      skippedEntries: 0,
      rejects: [
        {
          code: 'FHIR_MISSING_RESOURCE_TYPE',
          position: { messageIndex: 1, field: 'Bundle.entry.resource.resourceType' },
          raw: '{"resource":{"id":"x"}}',
        },
        { code: 'FHIR_NOT_AN_OBJECT', position: { messageIndex: 2 }, raw: '"entry"' },
        {
          code: 'FHIR_NOT_AN_OBJECT',
          position: { messageIndex: 3, field: 'Bundle.entry.resource' },
          raw: '{"resource":[1]}',
        },
      ],
    });
  });

  it('ignores a leading byte order mark', () => {
    expect(parseFhirDocument(`\uFEFF${JSON.stringify(PATIENT)}`)).toMatchObject({
      ok: true,
      resources: [PATIENT],
    });
  });

  it('returns codes for documents that are not JSON, not objects or have no type', () => {
    expect(parseFhirDocument('{"resourceType": "Patient",')).toEqual({
      ok: false,
      code: 'FHIR_INVALID_JSON',
      position: {},
    });
    expect(parseFhirDocument('[1, 2]')).toEqual({
      ok: false,
      code: 'FHIR_NOT_AN_OBJECT',
      position: {},
    });
    expect(parseFhirDocument('{"resourceType": ""}')).toEqual({
      ok: false,
      code: 'FHIR_MISSING_RESOURCE_TYPE',
      position: { field: 'resourceType' },
    });
    expect(parseFhirDocument('{"id": "a"}')).toMatchObject({ code: 'FHIR_MISSING_RESOURCE_TYPE' });
    expect(parseFhirDocument('{"resourceType":"Bundle","entry":{}}')).toEqual({
      ok: false,
      code: 'FHIR_INVALID_RESOURCE',
      position: { field: 'Bundle.entry' },
    });
  });

  it('never carries input text in a failure', () => {
    const failed = parseFhirDocument('{"name": [{"family": "ZZTEST NAME"}], oops}');
    expect(failed.ok).toBe(false);
    expect(JSON.stringify(failed)).not.toContain('ZZTEST');
  });
});

describe('parseNdjsonLine', () => {
  it('returns the resource of a line', () => {
    expect(parseNdjsonLine(JSON.stringify(PATIENT), 3)).toEqual({ ok: true, resource: PATIENT });
  });

  it('ignores a trailing carriage return and a byte order mark', () => {
    expect(parseNdjsonLine(`\uFEFF${JSON.stringify(PATIENT)}\r`, 1)).toEqual({
      ok: true,
      resource: PATIENT,
    });
  });

  it('returns NDJSON_INVALID_JSON with the line number and no input text', () => {
    const line = '{"resourceType":"Patient","name":[{"text":"ZZTEST NAME"}]';
    const result = parseNdjsonLine(line, 7);
    expect(result).toEqual({ ok: false, code: 'NDJSON_INVALID_JSON', position: { line: 7 } });
    expect(JSON.stringify(result)).not.toContain('ZZTEST NAME');
  });

  it('returns NDJSON_NOT_A_RESOURCE for a bulk export log line', () => {
    const logLine = '{"exportId":"export-10","eventId":"kickoff","eventDetail":{"files":0}}';
    expect(parseNdjsonLine(logLine, 2)).toEqual({
      ok: false,
      code: 'NDJSON_NOT_A_RESOURCE',
      position: { line: 2 },
    });
    expect(parseNdjsonLine('[1,2]', 5)).toMatchObject({ code: 'NDJSON_NOT_A_RESOURCE' });
    expect(parseNdjsonLine('42', 6)).toMatchObject({ code: 'NDJSON_NOT_A_RESOURCE' });
  });

  it('returns FHIR_MISSING_RESOURCE_TYPE when resourceType is empty or not a string', () => {
    expect(parseNdjsonLine('{"resourceType":"","id":"a"}', 4)).toEqual({
      ok: false,
      code: 'FHIR_MISSING_RESOURCE_TYPE',
      position: { line: 4, field: 'resourceType' },
    });
    expect(parseNdjsonLine('{"resourceType":7}', 9)).toMatchObject({
      code: 'FHIR_MISSING_RESOURCE_TYPE',
    });
  });
});
