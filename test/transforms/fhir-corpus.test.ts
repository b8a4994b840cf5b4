import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { countMisplacedFhirEntries } from '../helpers/corpus.js';
import { detectFormat } from '../../transforms/detect-format.js';
import {
  collectIdentityMap,
  deidentifyResource,
  parseFhirDocument,
  parseNdjsonLine,
  validateResource,
} from '../../transforms/fhir/index.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpusDir = path.resolve(projectRoot, '..', 'shared', 'corpus');
const corpusExists = existsSync(corpusDir);
if (!corpusExists) {
  console.info('Shared corpus not found next to the project; corpus tests skipped');
}

const CTX = { pseudonymKey: new Uint8Array(32).fill(0x5a) };

// Provider directory resources keep their own names; a patient's name may coincide with them.
const PROVIDER_TYPES = new Set(['Practitioner', 'PractitionerRole', 'Organization', 'Location']);

// What each known malformed file has to be refused with.
const MALFORMED_EXPECTED: Record<string, { code: string; field: string }> = {
  'fhirsrv__Normative-ObservationWithInvalidStatus.json': {
    code: 'FHIR_INVALID_RESOURCE',
    field: 'Observation.status',
  },
  'fhirsrv__Normative-PatientMissingResourceType.json': {
    code: 'FHIR_MISSING_RESOURCE_TYPE',
    field: 'resourceType',
  },
};

type Resource = Record<string, unknown>;

const listFiles = (dir: string, extension: string): string[] =>
  corpusExists
    ? readdirSync(path.join(corpusDir, dir))
        .filter((name) => name.endsWith(extension))
        .sort()
    : [];

const readText = (relativePath: string): string =>
  readFileSync(path.join(corpusDir, relativePath), 'utf8').replace(/^\uFEFF/, '');

const nonEmptyLines = (text: string): { text: string; line: number }[] =>
  text
    .split('\n')
    .map((lineText, index) => ({ text: lineText, line: index + 1 }))
    .filter((item) => item.text.trim().length > 0);

/** The corpus' own count: Bundle entries with a resource, or 1 for a lone resource. */
function countResourcesIndependently(text: string): number {
  const root = JSON.parse(text) as Resource;
  if (root.resourceType !== 'Bundle') {
    return 1;
  }
  const entries = (root.entry ?? []) as Resource[];
  return entries.filter((entry) => typeof entry.resource === 'object').length;
}

/** Is this NDJSON line a resource, judged without the code under test. */
function isResourceLine(text: string): boolean {
  try {
    const value = JSON.parse(text) as Resource;
    return typeof value.resourceType === 'string' && value.resourceType.length > 0;
  } catch {
    return false;
  }
}

/** Patient name parts and telecom values of the input, which must not survive. */
function patientSecrets(resources: unknown[]): string[] {
  const secrets: string[] = [];
  for (const resource of resources as Resource[]) {
    if (resource.resourceType !== 'Patient') {
      continue;
    }
    for (const name of (resource.name ?? []) as Resource[]) {
      secrets.push(...[name.family, ...((name.given ?? []) as unknown[])].map(String));
    }
    for (const telecom of (resource.telecom ?? []) as Resource[]) {
      secrets.push(String(telecom.value));
    }
  }
  return secrets.filter((secret) => secret !== 'undefined' && secret.length > 0);
}

function expectNoPatientSecrets(resources: unknown[], fullUrls: (string | undefined)[]): void {
  const secrets = patientSecrets(resources);
  const identityMap = collectIdentityMap(resources, fullUrls);
  resources.forEach((resource, index) => {
    const options = { identityMap, fullUrl: fullUrls[index] };
    const output = JSON.stringify(deidentifyResource(resource, CTX, options));
    const input = JSON.stringify(resource);
    const ownData = PROVIDER_TYPES.has(String((resource as Resource).resourceType));
    for (const secret of secrets) {
      if (!(ownData && input.includes(secret))) {
        expect(output, `resource ${index}`).not.toContain(secret);
      }
    }
  });
}

function expectValid(resource: unknown): void {
  expect(validateResource(resource)).toEqual({ ok: true });
}

describe.skipIf(!corpusExists)('FHIR JSON corpus', () => {
  it.each(listFiles('fhir', '.json'))('%s parses, validates and de-identifies', (name) => {
    const bytes = readFileSync(path.join(corpusDir, 'fhir', name));
    expect(detectFormat(bytes)).toBe('fhir-json');

    const text = readText(path.join('fhir', name));
    const parsed = parseFhirDocument(text);
    if (!parsed.ok) {
      throw new Error(`Expected ${name} to parse, got ${parsed.code}`);
    }
    // A resource written into a Bundle entry itself (no `resource`) is the only reject here.
    expect(parsed.rejects.map((reject) => reject.code)).toEqual(
      Array(countMisplacedFhirEntries(bytes)).fill('FHIR_ENTRY_WITHOUT_RESOURCE'),
    );
    expect(parsed.resources).toHaveLength(countResourcesIndependently(text));

    parsed.resources.forEach(expectValid);
    expectNoPatientSecrets(parsed.resources, parsed.fullUrls);
  });

  it.each(listFiles('fhir/malformed', '.json'))('%s is refused with a code and a field', (name) => {
    const parsed = parseFhirDocument(readText(path.join('fhir', 'malformed', name)));
    const failure = parsed.ok
      ? parsed.resources.map(validateResource).find((result) => !result.ok)
      : parsed;
    if (failure === undefined || failure.ok) {
      throw new Error(`Expected ${name} to be refused`);
    }

    expect(failure.code).toMatch(/^FHIR_/);
    expect(failure.position.field).toEqual(expect.any(String));
    const expected = MALFORMED_EXPECTED[name];
    if (expected !== undefined) {
      expect({ code: failure.code, field: failure.position.field }).toEqual(expected);
    }
  });
});

describe.skipIf(!corpusExists)('NDJSON corpus', () => {
  it.each(listFiles('ndjson', '.ndjson'))('%s parses, validates and de-identifies', (name) => {
    const bytes = readFileSync(path.join(corpusDir, 'ndjson', name));
    const lines = nonEmptyLines(readText(path.join('ndjson', name)));
    // One line with nothing after it is indistinguishable from a one-line FHIR JSON document.
    expect(detectFormat(bytes)).toBe(lines.length > 1 ? 'ndjson' : 'fhir-json');

    const resources: unknown[] = [];
    const failures: unknown[] = [];
    for (const { text, line } of lines) {
      const result = parseNdjsonLine(text, line);
      if (result.ok) {
        resources.push(result.resource);
      } else {
        expect(result.position.line).toBe(line);
        failures.push(result);
      }
    }
    expect(resources).toHaveLength(lines.filter((item) => isResourceLine(item.text)).length);
    // A failure carries a code and a position only, so no line text can leak through it.
    for (const failure of failures as Resource[]) {
      expect(Object.keys(failure)).toEqual(['ok', 'code', 'position']);
      expect(Object.keys(failure.position as Resource)).toEqual(expect.arrayContaining(['line']));
      expect(JSON.stringify(failure.position)).toMatch(/^\{"line":\d+(,"field":"[A-Za-z.]+")?\}$/);
    }

    resources.forEach(expectValid);
    expectNoPatientSecrets(
      resources,
      resources.map(() => undefined),
    );
  });

  it('refuses every bulk export log line as not a resource', () => {
    const name = 'bulkfhir__8aef4e0-log.ndjson';
    const lines = nonEmptyLines(readText(path.join('ndjson', name)));
    const codes = lines.map(({ text, line }) => parseNdjsonLine(text, line));
    expect(codes).toEqual(
      lines.map(({ line }) => ({ ok: false, code: 'NDJSON_NOT_A_RESOURCE', position: { line } })),
    );
  });
});

describe.skipIf(!corpusExists)('HL7 v2 corpus', () => {
  const hl7Files = [...listFiles('hl7v2', '.hl7'), ...listFiles('hl7v2', '.mllp')];

  it.each(hl7Files)('%s is detected as HL7 v2', (name) => {
    expect(detectFormat(readFileSync(path.join(corpusDir, 'hl7v2', name)))).toBe('hl7v2');
  });
});
