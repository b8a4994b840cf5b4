import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { generateSamples } from '../../samples/index.js';
import { checkFhirPath } from '../../transforms/deid/compile.js';
import { dateOffsetDays, shiftFhirDate } from '../../transforms/deid/date-shift.js';
import { decryptField, deriveFieldKeys } from '../../transforms/deid/field-crypto.js';
import {
  DEFAULT_DATE_SHIFT_RANGE_DAYS,
  hashDeidRules,
  parseDeidRulesFile,
  resolveDeidRules,
} from '../../transforms/deid/rules.js';
import type { DeidPreset, DeidRulesFile } from '../../transforms/deid/rules.js';
import {
  collectIdentityMap,
  collectPatientKeys,
  deidentifyResource,
} from '../../transforms/fhir/index.js';
import { pseudonymize } from '../../transforms/pseudonym.js';
import { prepareHl7, transformFhirDocument, transformRecords } from '../../workers/records.js';
import type { Hl7JsonRecord } from '../../transforms/hl7/index.js';
import { deidentifiedRecord, recordText } from '../helpers/hl7-record.js';

const KEY = new Uint8Array(32).map((_, index) => index * 7);
const OTHER_KEY = new Uint8Array(32).map((_, index) => index * 11);
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

function contextFor(preset: DeidPreset, file: DeidRulesFile = {}, pseudonymKey = KEY) {
  const rules = resolveDeidRules(preset, file);
  return { pseudonymKey, rules, rulesHash: hashDeidRules(rules), referenceYear: 2026 };
}

/** The de-identified record of one message, read by ER7 paths. */
function hl7(
  text: string,
  ctx: ReturnType<typeof contextFor>,
): { get(path: string): string | null; record: Hl7JsonRecord } {
  const record = deidentifiedRecord(text, ctx);
  return { get: (path) => recordText(record, path), record };
}

const ADMISSION = [
  'MSH|^~\\&|APP|FAC|DEST|DEST|20240301080000||ADT^A01|C1|P|2.5.1',
  'PID|1||OLD1^^^HOSP^PI~MRN0042^^^HOSP^MR||Fakename^Bravo||19300105|M|||9 Fake Street^^Testville^TS^02115||555-0142',
  'PV1|1|I|WARD^1||||||||||||||||VN77|||||||||||||||||||||||||20240301080000|20240305120000',
  'OBX|1|TX|NOTE^Note^L||Bravo Fakename called from 555-0142 on 03/02/2024||||||F',
].join('\r');

const ENCOUNTER_BUNDLE = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    {
      fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000001',
      resource: {
        resourceType: 'Patient',
        identifier: [
          { system: 'urn:x', value: 'OLD1' },
          {
            type: { coding: [{ system: V2_0203, code: 'MR' }] },
            system: 'urn:x',
            value: 'MRN0042',
          },
        ],
        birthDate: '1930-01-05',
        address: [{ city: 'Testville', state: 'TS', postalCode: '02115' }],
      },
    },
    {
      resource: {
        resourceType: 'Encounter',
        status: 'finished',
        subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000001' },
        period: { start: '2024-03-01T08:00:00Z', end: '2024-03-05T12:00:00Z' },
      },
    },
  ],
};

function deidentifyBundle(
  ctx: ReturnType<typeof contextFor>,
  birthDate?: string,
): Record<string, unknown>[] {
  const resources = ENCOUNTER_BUNDLE.entry.map((entry) =>
    birthDate !== undefined && entry.resource.resourceType === 'Patient'
      ? { ...entry.resource, birthDate }
      : entry.resource,
  );
  const fullUrls = ENCOUNTER_BUNDLE.entry.map((entry) => entry.fullUrl);
  const identityMap = collectIdentityMap(resources, fullUrls);
  const patientKeys = collectPatientKeys(resources, fullUrls, ctx.pseudonymKey);
  return resources.map(
    (resource, index) =>
      deidentifyResource(resource, ctx, {
        identityMap,
        patientKeys,
        fullUrl: fullUrls[index],
      }) as Record<string, unknown>,
  );
}

describe('one patient in HL7 v2 and FHIR', () => {
  const ctx = contextFor('safe-harbor');
  const message = hl7(ADMISSION, ctx);
  const [patient, encounter] = deidentifyBundle(ctx);
  const mrn = pseudonymize(KEY, 'patient-id', 'MRN0042');
  const offsetDays = dateOffsetDays(KEY, mrn, 365);

  it('gets the same MRN pseudonym and the same date offset in both formats', () => {
    expect(offsetDays).toBe(52);
    expect(message.get('PID-3[2].1')).toBe(mrn);
    expect((patient.identifier as { value: string }[])[1].value).toBe(mrn);
    expect(message.get('PV1-44')).toBe('20240422080000');
    expect(message.get('PV1-45')).toBe('20240426120000');
    expect(encounter.period).toEqual({
      start: '2024-04-22T08:00:00Z',
      end: '2024-04-26T12:00:00Z',
    });
    expect(shiftFhirDate('2024-03-01', offsetDays)).toBe('2024-04-22');
  });

  it('folds a birth year over 89 into the 90-or-older year in both formats', () => {
    expect(message.get('PID-7')).toBe('1936');
    expect(patient.birthDate).toBe('1936');
  });

  it('removes a birth date that is a placeholder (0000) instead of making it 90 or older', () => {
    const unknown = hl7(ADMISSION.replace('|19300105|', '|0000|'), ctx);
    expect(unknown.get('PID-7')).toBe('');
    const [fhirPatient] = deidentifyBundle(ctx, '0000-01-01');
    expect(fhirPatient.birthDate).toBeUndefined();
    expect(hl7(ADMISSION.replace('|19300105|', '|18000101|'), ctx).get('PID-7')).toBe('1936');
  });

  it('scrubs the free text of what the message says about the patient', () => {
    expect(message.get('OBX-5')).toBe('[NAME] [NAME] called from [PHONE] on [DATE]');
  });

  it('gives different pseudonyms and offsets under another key', () => {
    const other = hl7(ADMISSION, contextFor('safe-harbor', {}, OTHER_KEY));
    expect(other.get('PID-3[2].1')).not.toBe(mrn);
    expect(other.get('PID-3[2].1')).toBe(pseudonymize(OTHER_KEY, 'patient-id', 'MRN0042'));
    expect(other.get('PV1-44')).not.toBe(message.get('PV1-44'));
  });
});

describe('presets', () => {
  it('keeps dates, town and five-digit ZIP for a limited data set, and still removes names', () => {
    const ctx = contextFor('limited-data-set');
    const message = hl7(ADMISSION, ctx);
    expect(message.get('PV1-44')).toBe('20240301080000');
    expect(message.get('PID-7')).toBe('19300105');
    expect(message.get('PID-11')).toBe('^^Testville^TS^02115');
    expect(message.get('PID-5')).toBe('');
    expect(message.get('OBX-5')).toBe('[NAME] [NAME] called from [PHONE] on 03/02/2024');
    const [patient] = deidentifyBundle(ctx);
    expect(patient.address).toEqual([{ state: 'TS', city: 'Testville', postalCode: '02115' }]);
  });

  it('leaves records identified under none', () => {
    const message = hl7(ADMISSION, contextFor('none'));
    expect(message.get('PID-5')).toBe('Fakename^Bravo');
    expect(message.get('PID-3[2].1')).toBe('MRN0042');
  });
});

describe('rules files', () => {
  const yaml = [
    'dateShift: { rangeDays: 30 }',
    'embeddedDocuments: encrypt',
    'hl7:',
    '  - { path: PID-5, method: encrypt }',
    '  - { path: PID-7, method: keep }',
    '  - { path: "OBX-5 where OBX-2 in (NM)", method: perturb, span: 0.1 }',
    '  - { path: PV1-3, method: substitute, value: WARD }',
    'fhir:',
    '  - { path: "Patient.identifier.where(system = \'urn:x\').value", method: cryptoHash, namespace: other }',
    '  - { path: Patient.birthDate, method: generalize, to: year }',
  ].join('\n');

  it("reads YAML and applies the feed's rules before the preset's", () => {
    const parsed = parseDeidRulesFile(yaml, 'yaml', checkFhirPath);
    expect(parsed.ok).toBe(true);
    const ctx = contextFor('safe-harbor', (parsed as { rules: DeidRulesFile }).rules);
    const message = hl7(`${ADMISSION}\rOBX|2|NM|GLU^Glucose^L||100||||||F`, ctx);

    expect(decryptField(deriveFieldKeys(KEY), 'hl7:PID-5', message.get('PID-5') ?? '')).toBe(
      'Fakename^Bravo',
    );
    expect(
      decryptField(deriveFieldKeys(KEY), 'hl7:PID-6', message.get('PID-5') ?? ''),
    ).toBeUndefined();
    expect(message.get('PID-7')).toBe('19300105');
    expect(message.get('PV1-3')).toBe('WARD');
    const observations = message.record.segments.filter((segment) => segment.segment === 'OBX');
    const glucose = Number(observations[1].fields['OBX-5']);
    expect(glucose).toBeGreaterThanOrEqual(90);
    expect(glucose).toBeLessThanOrEqual(110);
    expect(
      Math.abs(dateOffsetDays(KEY, pseudonymize(KEY, 'patient-id', 'MRN0042'), 30)),
    ).toBeLessThanOrEqual(30);

    const [patient] = deidentifyBundle(ctx);
    expect(patient.birthDate).toBe('1930');
    expect((patient.identifier as { value: string }[])[0].value).toBe(
      pseudonymize(KEY, 'other', 'OLD1'),
    );
  });

  it('reports every problem with its path and never quotes a value', () => {
    const bad = [
      'dateShift: { rangeDays: 0 }',
      'hl7:',
      '  - { path: "PID 5", method: redact }',
      '  - { path: PID-5, method: shuffle }',
      'fhir:',
      '  - { path: "Patient.name.where(", method: redact }',
      'colour: blue',
    ].join('\n');
    const parsed = parseDeidRulesFile(bad, 'yaml', checkFhirPath);
    expect(parsed).toEqual({
      ok: false,
      problems: [
        'dateShift.rangeDays: must be at least 1',
        'hl7.0.path: Not an HL7 field selector',
        'hl7.1.method: unknown method or parameters',
        'colour: unknown key',
        'fhir.0.path: not a valid FHIRPath expression',
      ],
    });
    const fhirOnly = parseDeidRulesFile(
      'fhir:\n  - { path: "Patient.name.where(", method: redact }',
      'yaml',
      checkFhirPath,
    );
    expect(fhirOnly).toEqual({
      ok: false,
      problems: ['fhir.0.path: not a valid FHIRPath expression'],
    });
  });

  it('says a missing key is required and a wrong type what was expected', () => {
    const wrong = [
      'dateShift: { rangeDays: many }',
      'hl7:',
      '  - { method: redact }',
      '  - { path: 7, method: keep }',
    ].join('\n');
    expect(parseDeidRulesFile(wrong, 'yaml', checkFhirPath)).toEqual({
      ok: false,
      problems: [
        'dateShift.rangeDays: expected number',
        'hl7.0.path: required',
        'hl7.1.path: expected string',
      ],
    });
  });

  it('names every unknown key by its path, in the rules and options as at the top', () => {
    const misspelt = [
      'dateShift: { rangeDays: 30, rangDays: 60 }',
      'hl7:',
      '  - { path: PID-3, method: cryptoHash, namespce: patient-id, prat: id }',
      '  - { path: PID-7, method: keep }',
      '  - { path: PID-5, method: substitute, value: X, valeu: Y }',
      '  - { path: "PID 8", method: redact, reason: typo }',
      'fhir:',
      '  - { path: Observation.valueQuantity, method: perturb, span: 0.1, roundto: 1 }',
      '  - { path: Patient.birthDate, method: generalize, to: year, too: age }',
      '  - { path: "Patient.name.where(", method: redact, pth: Patient.name }',
      'embededDocuments: encrypt',
    ].join('\n');
    expect(parseDeidRulesFile(misspelt, 'yaml', checkFhirPath)).toEqual({
      ok: false,
      problems: [
        'dateShift.rangDays: unknown key',
        'hl7.0.namespce: unknown key',
        'hl7.0.prat: unknown key',
        'hl7.2.valeu: unknown key',
        'hl7.3.reason: unknown key',
        'hl7.3.path: Not an HL7 field selector',
        'fhir.0.roundto: unknown key',
        'fhir.1.too: unknown key',
        'fhir.2.pth: unknown key',
        'embededDocuments: unknown key',
        'fhir.2.path: not a valid FHIRPath expression',
      ],
    });
  });

  it('accepts every parameter the methods table documents', () => {
    const rules = {
      hl7: [
        { path: 'PID-3', method: 'cryptoHash', namespace: 'patient-id', part: 'id' },
        { path: 'PID-18', method: 'cryptoHash' },
        { path: 'PID-7', method: 'dateShift' },
        { path: 'PID-11', method: 'generalize', to: 'address-town' },
        { path: 'PV1-3', method: 'substitute', value: 'WARD' },
        { path: 'OBX-5 where OBX-2 in (NM)', method: 'perturb', span: 0.1, roundTo: 2 },
        { path: 'OBX-5 where OBX-2 = ED', method: 'embeddedDocument' },
        { path: 'NTE-3', method: 'scrub' },
        { path: 'PID-5', method: 'encrypt' },
        { path: 'PID-8', method: 'keep' },
        { path: 'Z*-*', method: 'redact' },
      ],
      fhir: [{ path: 'Patient.birthDate', method: 'generalize', to: 'birth-year' }],
      dateShift: { rangeDays: 90 },
      embeddedDocuments: 'encrypt',
    };
    expect(parseDeidRulesFile(JSON.stringify(rules), 'json', checkFhirPath)).toEqual({
      ok: true,
      rules,
    });
  });

  it('accepts the example rules file of docs/deidentification.md', () => {
    const doc = readFileSync(new URL('../../docs/deidentification.md', import.meta.url), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const parsed = parseDeidRulesFile(example, 'yaml', checkFhirPath);
    expect(parsed.ok).toBe(true);
    expect((parsed as { rules: DeidRulesFile }).rules.fhir?.[1]).toEqual({
      path: 'Observation.valueQuantity',
      method: 'perturb',
      span: 0.05,
      roundTo: 1,
    });
  });

  it('places a syntax error by line and column without quoting the file', () => {
    const yamlText = [
      'hl7: []',
      'fhir: []',
      'hl7:',
      '  - { path: PID-5, method: substitute, value: Zed Testperson }',
    ].join('\n');
    expect(parseDeidRulesFile(yamlText, 'yaml', checkFhirPath)).toEqual({
      ok: false,
      problems: ['(root): not valid YAML (line 3, column 1: DUPLICATE_KEY)'],
    });
    const jsonText = '{\n  "dateShift": { "rangeDays": 30, }\n}';
    expect(parseDeidRulesFile(jsonText, 'json', checkFhirPath)).toEqual({
      ok: false,
      problems: ['(root): not valid JSON (line 2, column 35)'],
    });
    expect(parseDeidRulesFile('{"hl7": [', 'json', checkFhirPath)).toEqual({
      ok: false,
      problems: ['(root): not valid JSON (line 1, column 10: ends early)'],
    });
  });

  it('places a JSON error that V8 gives no position for, without quoting the file', () => {
    // V8 says only: Unexpected token 'Z', "…Zed Testperson…" is not valid JSON.
    const jsonText = [
      '{',
      '  "hl7": [',
      '    { "path": "PID-5", "method": "substitute", "value": Zed Testperson }',
      '  ]',
      '}',
    ].join('\n');
    const parsed = parseDeidRulesFile(jsonText, 'json', checkFhirPath);
    expect(parsed).toEqual({
      ok: false,
      problems: ['(root): not valid JSON (line 3, column 57)'],
    });
    expect(JSON.stringify(parsed)).not.toMatch(/Zed|Testperson/);
    expect(
      parseDeidRulesFile('{"hl7": [{ "path": "PID-5", "method": tru }]}', 'json', checkFhirPath),
    ).toEqual({
      ok: false,
      problems: ['(root): not valid JSON (line 1, column 42)'],
    });
  });

  it('reads a rules file that starts with a byte order mark, JSON or YAML', () => {
    const rules = { hl7: [{ path: 'PV1-3', method: 'keep' }] };
    expect(parseDeidRulesFile(`\uFEFF${JSON.stringify(rules)}`, 'json', checkFhirPath)).toEqual({
      ok: true,
      rules,
    });
    expect(
      parseDeidRulesFile('\uFEFFhl7:\n  - { path: PV1-3, method: keep }\n', 'yaml', checkFhirPath),
    ).toEqual({ ok: true, rules });
    expect(parseDeidRulesFile('\uFEFF{"hl7": [}', 'json', checkFhirPath)).toEqual({
      ok: false,
      problems: ['(root): not valid JSON (line 1, column 10)'],
    });
  });
});

describe('reproducibility on the generated samples', () => {
  const files = new Map(
    generateSamples().map((file) => [`${file.feed}/${file.fileName}`, file.bytes]),
  );
  const adt = files.get('adt-feed/adt-batch.hl7') as Uint8Array;
  const bundle = files.get('fhir-feed/patients-bundle.json') as Uint8Array;

  const runHl7 = (ctx: ReturnType<typeof contextFor>): string => {
    const prepared = prepareHl7(adt, false);
    if (prepared.status !== 'ok') {
      throw new Error('Expected the sample batch to split');
    }
    return JSON.stringify(transformRecords('hl7v2', adt, prepared.ranges, 0, ctx));
  };

  it('gives byte-identical output for the same input, key and rules', () => {
    const ctx = contextFor('safe-harbor');
    expect(runHl7(ctx)).toBe(runHl7(contextFor('safe-harbor')));
    expect(JSON.stringify(transformFhirDocument(bundle, ctx))).toBe(
      JSON.stringify(transformFhirDocument(bundle, contextFor('safe-harbor'))),
    );
  });

  it('shares MRN pseudonyms between the HL7 and FHIR samples, and none under another key', () => {
    const pseudonymsIn = (text: string): Set<string> => new Set(text.match(/[0-9a-f]{24}/g) ?? []);
    const hl7Pseudonyms = pseudonymsIn(runHl7(contextFor('safe-harbor')));
    const fhirText = JSON.stringify(transformFhirDocument(bundle, contextFor('safe-harbor')));
    const shared = [...pseudonymsIn(fhirText)].filter((value) => hl7Pseudonyms.has(value));
    expect(shared.length).toBeGreaterThanOrEqual(3);

    const otherKeyText = JSON.stringify(
      transformFhirDocument(bundle, contextFor('safe-harbor', {}, OTHER_KEY)),
    );
    expect([...pseudonymsIn(otherKeyText)].filter((value) => hl7Pseudonyms.has(value))).toEqual([]);
  });
});

describe('HL7 v2 fields that are one plain value', () => {
  // A plain field is edited without being split; the same value followed by an empty component
  // takes the split path. Both must come out the same.
  const ctx = contextFor('safe-harbor', {
    hl7: [
      { path: 'OBX-13', method: 'redact' },
      { path: 'OBX-15', method: 'cryptoHash', namespace: 'other' },
      { path: 'OBX-16', method: 'cryptoHash', namespace: 'other', part: 'id' },
      { path: 'OBX-17', method: 'dateShift' },
      { path: 'OBX-18', method: 'generalize', to: 'birth-year' },
      { path: 'OBX-19', method: 'generalize', to: 'year' },
      { path: 'OBX-20', method: 'scrub' },
    ],
  });

  function obxFields(value: string): Record<string, unknown> {
    const fields = Array.from({ length: 20 }, (_, index) => (index >= 12 ? value : ''));
    fields[0] = '1';
    fields[1] = 'NM';
    const message = [
      'MSH|^~\\&|APP|FAC|DEST|DEST|20240301080000||ORU^R01|C1|P|2.5.1',
      'PID|1||MRN0042^^^HOSP^MR||Fakename^Bravo',
      `OBX|${fields.join('|')}`,
    ].join('\r');
    const obx = deidentifiedRecord(message, ctx).segments.find((s) => s.segment === 'OBX');
    return obx?.fields ?? {};
  }

  it('gives what the split path gives, method by method', () => {
    for (const value of ['20240301', '19200105120000', 'Aug 15, 1942', 'N/A', 'MRN0042 seen']) {
      const plain = obxFields(value);
      const split = obxFields(`${value}^`);
      for (const field of ['OBX-13', 'OBX-16', 'OBX-17', 'OBX-18', 'OBX-19', 'OBX-20']) {
        expect(plain[field], `${field} of ${value}`).toEqual(split[field]);
      }
    }
  });

  it('edits each value as its rule says', () => {
    const date = obxFields('19200105120000');
    expect(date['OBX-13']).toBeUndefined();
    expect(date['OBX-15']).toBe(pseudonymize(KEY, 'other', '19200105120000'));
    expect(date['OBX-16']).toBe(pseudonymize(KEY, 'other', '19200105120000'));
    const offset = dateOffsetDays(
      KEY,
      pseudonymize(KEY, 'patient-id', 'MRN0042'),
      DEFAULT_DATE_SHIFT_RANGE_DAYS,
    );
    const shifted = new Date(Date.UTC(1920, 0, 5) + offset * 86_400_000);
    expect(date['OBX-17']).toBe(`${shifted.toISOString().slice(0, 10).replaceAll('-', '')}120000`);
    expect(date['OBX-18']).toBe('1936');
    expect(date['OBX-19']).toBe('1920');
    expect(obxFields('Aug 15, 1942')['OBX-17']).toBeUndefined();
    expect(obxFields('N/A')['OBX-17']).toBe('N/A');
    expect(obxFields('MRN0042 seen')['OBX-20']).toBe('[ID] seen');
    expect(obxFields('   ')['OBX-15']).toBe('   ');
    expect(obxFields('   ')['OBX-16']).toBeUndefined();
  });
});
