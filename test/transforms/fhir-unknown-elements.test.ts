import { describe, expect, it } from 'vitest';

import { hashDeidRules, resolveDeidRules } from '../../transforms/deid/rules.js';
import { deidentifyResource } from '../../transforms/fhir/index.js';
import type { DeidCounts } from '../../transforms/fhir/index.js';
import { pseudonymize } from '../../transforms/pseudonym.js';

const KEY = new Uint8Array(32).map((_, index) => index + 7);
const CTX = { pseudonymKey: KEY, referenceYear: 2026 };

type Resource = Record<string, unknown>;

/** The trial's resource: an SSN and a name where R4 defines nothing. Every value is made up. */
const TRIAL = {
  resourceType: 'Patient',
  id: 'p1',
  name: [{ family: 'Testperson', given: ['Fake'] }],
  extension: [{ url: 'http://example.org/ssn', valueString: '123-45-6789' }],
  ssn: '123-45-6789',
  bogus: { a: 'Testperson' },
};

function deidentifyCounting(resource: unknown, ctx: object = CTX): [unknown, number] {
  const counts: DeidCounts = { unknownElementsRemoved: 0 };
  const output = deidentifyResource(resource, { ...CTX, ...ctx }, { counts });
  return [output, counts.unknownElementsRemoved];
}

function rulesContext(preset: 'limited-data-set' | 'none', fhir: object[] = []): object {
  const rules = resolveDeidRules(preset, { fhir } as never);
  return { rules, rulesHash: hashDeidRules(rules) };
}

/**
 * Expects the resource to come out as its known elements alone do, less the `removed` count:
 * what R4 defines is de-identified exactly as if the unknown elements had never been sent.
 */
function expectSameAsWithout(withUnknown: Resource, withoutUnknown: Resource, removed: number) {
  const [output, count] = deidentifyCounting(withUnknown);
  const [expected, none] = deidentifyCounting(withoutUnknown);
  expect(none).toBe(0);
  expect(output).toEqual(expected);
  expect(count).toBe(removed);
}

describe('deidentifyResource on elements R4 does not define', () => {
  it("removes the trial's top-level ssn and bogus, scrubs its extension and keeps the rest", () => {
    const [output, removed] = deidentifyCounting(TRIAL);

    expect(output).toEqual({
      resourceType: 'Patient',
      id: pseudonymize(KEY, 'resource', 'Patient/p1'),
      extension: [{ url: 'http://example.org/ssn', valueString: '[SSN]' }],
    });
    expect(removed).toBe(2);
    expect(JSON.stringify(output)).not.toMatch(/6789|Testperson|"ssn"|bogus/);
  });

  it('removes them under the limited data set preset too', () => {
    const [output, removed] = deidentifyCounting(TRIAL, rulesContext('limited-data-set'));

    expect(output).not.toHaveProperty('ssn');
    expect(output).not.toHaveProperty('bogus');
    expect(removed).toBe(2);
  });

  it('keeps everything under the none preset, which outputs identified data', () => {
    const [output, removed] = deidentifyCounting(TRIAL, rulesContext('none'));

    expect(output).toEqual(TRIAL);
    expect(removed).toBe(0);
  });

  it('removes unknown elements inside datatypes: HumanName, Identifier, Coding, Reference', () => {
    const practitioner = {
      resourceType: 'Practitioner',
      id: 'pr1',
      identifier: [{ system: 'urn:oid:1.2.3', value: 'NPI-1', mrn: 'MRN0001' }],
      name: [{ family: 'Docname', given: ['Ann'], alias: 'Testperson' }],
      qualification: [
        {
          code: { coding: [{ system: 'urn:q', code: 'MD', patientName: 'Testperson' }] },
          issuer: { reference: 'Organization/o1', patientSsn: '123-45-6789' },
        },
      ],
    };
    const known = structuredClone(practitioner);
    delete (known.identifier[0] as Partial<(typeof known.identifier)[0]>).mrn;
    delete (known.name[0] as Partial<(typeof known.name)[0]>).alias;
    delete (known.qualification[0].code.coding[0] as Partial<Resource>).patientName;
    delete (known.qualification[0].issuer as Partial<Resource>).patientSsn;

    expectSameAsWithout(practitioner, known, 4);
  });

  it('removes unknown elements inside backbone elements, nested ones included', () => {
    const patient = {
      resourceType: 'Patient',
      id: 'p2',
      gender: 'female',
      contact: [{ relationship: [{ text: 'Mother' }], gender: 'female', nickname: 'Testperson' }],
      communication: [{ language: { text: 'English' }, preferred: true, dialect: 'x' }],
    };
    const questionnaire = {
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      // QuestionnaireResponse.item.item repeats QuestionnaireResponse.item's definition.
      item: [
        {
          linkId: '1',
          item: [{ linkId: '1.1', answer: [{ valueBoolean: true, spokenBy: 'Testperson' }] }],
        },
      ],
    };

    expectSameAsWithout(
      patient,
      {
        ...patient,
        contact: [{ relationship: [{ text: 'Mother' }], gender: 'female' }],
        communication: [{ language: { text: 'English' }, preferred: true }],
      },
      2,
    );
    expectSameAsWithout(
      questionnaire,
      {
        ...questionnaire,
        item: [{ linkId: '1', item: [{ linkId: '1.1', answer: [{ valueBoolean: true }] }] }],
      },
      1,
    );
  });

  it('removes unknown elements of contained resources, and contained ones of no R4 type', () => {
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Glucose' },
      contained: [
        { resourceType: 'Practitioner', id: 'pr', name: [{ family: 'Doc' }], ssn: '123-45-6789' },
        { resourceType: 'PatientRecord', id: 'x', mrn: 'MRN0001' },
        { id: 'no-type', mrn: 'MRN0001' },
      ],
      performer: [{ reference: '#pr' }],
    };
    const [output, removed] = deidentifyCounting(observation);

    expect(output).toEqual({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Glucose' },
      contained: [{ resourceType: 'Practitioner', id: 'pr', name: [{ family: 'Doc' }] }],
      performer: [{ reference: '#pr' }],
    });
    expect(removed).toBe(3);
  });

  it('removes unknown elements of Bundle entries and their resources, and untyped ones', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          fullUrl: 'http://example.org/fhir/Observation/o1',
          resource: { resourceType: 'Observation', status: 'final', patientName: 'Testperson' },
          comment: 'Testperson',
        },
        { resource: { resourceType: 'Chart', note: 'Testperson' } },
      ],
    };
    const [output, removed] = deidentifyCounting(bundle);

    expect(output).toEqual({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          fullUrl: 'http://example.org/fhir/Observation/o1',
          resource: { resourceType: 'Observation', status: 'final' },
        },
        {},
      ],
    });
    expect(removed).toBe(3);
  });

  it('removes a resource of no R4 type where R4 has a resource of any type', () => {
    const parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'a', resource: { resourceType: 'Observation', status: 'final', x: 1 } },
        { name: 'b', resource: { resourceType: 'Dossier', owner: 'Testperson' } },
      ],
    };
    const [output, removed] = deidentifyCounting(parameters);

    expect(output).toEqual({
      resourceType: 'Parameters',
      parameter: [
        { name: 'a', resource: { resourceType: 'Observation', status: 'final' } },
        { name: 'b' },
      ],
    });
    expect(removed).toBe(2);
  });

  it('removes a choice element of a type the choice does not allow, and keeps allowed ones', () => {
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Note' },
      // Observation.value[x] allows no HumanName; Observation.effective[x] allows a Period.
      valueHumanName: { family: 'Testperson' },
      effectivePeriod: { start: '2024-03-04' },
      value: 'Testperson',
    };
    const patient = { resourceType: 'Patient', id: 'p3', deceasedString: 'Testperson' };
    const [output, removed] = deidentifyCounting(observation);
    const [patientOutput, patientRemoved] = deidentifyCounting(patient);

    expect(output).not.toHaveProperty('valueHumanName');
    expect(output).not.toHaveProperty('value');
    expect(output).toHaveProperty(
      'effectivePeriod.start',
      expect.stringMatching(/^\d{4}-\d\d-\d\d$/),
    );
    expect(removed).toBe(2);
    expect(patientOutput).toEqual({
      resourceType: 'Patient',
      id: pseudonymize(KEY, 'resource', 'Patient/p3'),
    });
    expect(patientRemoved).toBe(1);
  });

  it('gives an extension only url, id, extension and a value[x] of a type R4 allows there', () => {
    const basic = {
      resourceType: 'Basic',
      code: { text: 'Flag' },
      extension: [
        { url: 'http://example.org/a', valueFoo: 'Testperson', valueCode: 'x' },
        { url: 'http://example.org/b', value: 'Testperson', note: 'Testperson' },
        {
          url: 'http://example.org/c',
          extension: [{ url: 'part', valueString: 'kept', label: 'Testperson' }],
        },
      ],
    };
    const [output, removed] = deidentifyCounting(basic);

    expect(output).toEqual({
      resourceType: 'Basic',
      code: { text: 'Flag' },
      extension: [
        { url: 'http://example.org/a', valueCode: 'x' },
        { url: 'http://example.org/b' },
        { url: 'http://example.org/c', extension: [{ url: 'part', valueString: 'kept' }] },
      ],
    });
    expect(removed).toBe(4);
  });

  it('keeps primitive extensions such as _birthDate and _given, de-identified as their own', () => {
    const practitioner = {
      resourceType: 'Practitioner',
      id: 'pr2',
      birthDate: '1970-05-06',
      _birthDate: {
        extension: [{ url: 'http://example.org/time', valueDateTime: '1970-05-06T08:30:00Z' }],
      },
      name: [{ family: 'Docname', given: ['Ann', 'Beth'], _given: [null, { id: 'g2' }] }],
    };
    const [output, removed] = deidentifyCounting(practitioner);
    const out = output as {
      _birthDate: { extension: Array<{ valueDateTime: string }> };
      name: Array<Record<string, unknown>>;
    };

    expect(removed).toBe(0);
    // The extension's date moves by the offset, as every date of a record does.
    expect(out._birthDate.extension[0].valueDateTime).toMatch(/^\d{4}-\d\d-\d\dT08:30:00Z$/);
    expect(out._birthDate.extension[0].valueDateTime).not.toBe('1970-05-06T08:30:00Z');
    expect(out.name[0]._given).toEqual([null, { id: 'g2' }]);
  });

  it("drops a person's _birthDate by the person rule, and _name or _ssn as unknown", () => {
    const patient = {
      resourceType: 'Patient',
      id: 'p4',
      birthDate: '1970-05-06',
      _birthDate: { extension: [{ url: 'http://example.org/t', valueTime: '08:30:00' }] },
      _name: { id: 'n' },
      _ssn: { id: 's' },
    };
    const [output, removed] = deidentifyCounting(patient);

    expect(output).toEqual({
      resourceType: 'Patient',
      id: pseudonymize(KEY, 'resource', 'Patient/p4'),
      birthDate: '1970',
    });
    expect(removed).toBe(2);
  });

  it('removes an object where R4 has a primitive value, and fhir_comments', () => {
    const practitioner = {
      resourceType: 'Practitioner',
      fhir_comments: ['Testperson called'],
      gender: { text: 'Testperson' },
      active: true,
    };
    const [output, removed] = deidentifyCounting(practitioner);

    expect(output).toEqual({ resourceType: 'Practitioner', active: true });
    expect(removed).toBe(2);
  });

  it('removes a string where R4 has a Reference, in a backbone element in an array and not', () => {
    const encounter = {
      resourceType: 'Encounter',
      status: 'finished',
      participant: [{ individual: 'Dr Testperson' }, 'Dr Testperson'],
      hospitalization: { origin: 'Testperson Home', admitSource: { text: 'Referral' } },
      serviceProvider: 'Testperson Clinic',
    };
    const [output, removed] = deidentifyCounting(encounter);

    expect(output).toEqual({
      resourceType: 'Encounter',
      status: 'finished',
      participant: [{}],
      hospitalization: { admitSource: { text: 'Referral' } },
    });
    expect(removed).toBe(4);
  });

  it("removes a Practitioner's name, address and telecom sent as strings, in arrays and not", () => {
    const practitioner = {
      resourceType: 'Practitioner',
      active: true,
      name: ['Fake Testperson', { family: 'Docname' }],
      address: '1 Fake Street',
      telecom: '555-0100',
    };
    const inArrays = {
      resourceType: 'Practitioner',
      name: 'Fake Testperson',
      address: ['1 Fake Street'],
      telecom: ['555-0100', { system: 'phone', value: '555-0199' }],
    };
    const [output, removed] = deidentifyCounting(practitioner);
    const [arraysOutput, arraysRemoved] = deidentifyCounting(inArrays);

    expect(output).toEqual({
      resourceType: 'Practitioner',
      active: true,
      name: [{ family: 'Docname' }],
    });
    expect(removed).toBe(3);
    // A staff resource's address is kept, so an array that loses its only item stays, empty, as
    // other emptied elements do.
    expect(arraysOutput).toEqual({
      resourceType: 'Practitioner',
      address: [],
      telecom: [{ system: 'phone', value: '555-0199' }],
    });
    expect(arraysRemoved).toBe(3);
  });

  it("removes a Patient's address, contact and identifier sent as strings, counting them", () => {
    const patient = {
      resourceType: 'Patient',
      id: 'p5',
      gender: 'male',
      // The person rule drops name and telecom whatever they hold, so they are not counted.
      name: ['Fake Testperson'],
      telecom: '555-0100',
      address: ['1 Fake Street', { city: 'Faketown', state: 'MA' }],
      contact: 'Fake Testperson',
      identifier: ['MRN0001'],
    };
    const [output, removed] = deidentifyCounting(patient);
    const [addressOutput, addressRemoved] = deidentifyCounting({
      resourceType: 'Patient',
      id: 'p5',
      address: '1 Fake Street',
    });

    expect(output).toEqual({
      resourceType: 'Patient',
      id: pseudonymize(KEY, 'resource', 'Patient/p5'),
      gender: 'male',
      address: [{ state: 'MA' }],
      identifier: [],
    });
    expect(removed).toBe(3);
    expect(addressOutput).toEqual({
      resourceType: 'Patient',
      id: pseudonymize(KEY, 'resource', 'Patient/p5'),
    });
    expect(addressRemoved).toBe(1);
    expect(JSON.stringify([output, addressOutput])).not.toMatch(/Fake|0100|MRN/);
  });

  it('removes a number or boolean where R4 has a datatype, an Element or a resource', () => {
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Weight' },
      valueQuantity: 70,
      subject: true,
      extension: [{ url: 'http://example.org/by', valueReference: 'Dr Testperson' }],
      contained: ['Testperson', 7],
    };
    const practitioner = { resourceType: 'Practitioner', birthDate: '1970', _birthDate: '1970' };
    const parameters = { resourceType: 'Parameters', parameter: [{ name: 'a', resource: 'x' }] };

    expect(deidentifyCounting(observation)).toEqual([
      {
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'Weight' },
        extension: [{ url: 'http://example.org/by' }],
        contained: [],
      },
      5,
    ]);
    expect(deidentifyCounting(practitioner)).toEqual([
      { resourceType: 'Practitioner', birthDate: '1970' },
      1,
    ]);
    expect(deidentifyCounting(parameters)).toEqual([
      { resourceType: 'Parameters', parameter: [{ name: 'a' }] },
      1,
    ]);
  });

  it('removes them under the limited data set preset too, and keeps them under none', () => {
    const encounter = {
      resourceType: 'Encounter',
      status: 'finished',
      participant: [{ individual: 'Dr Testperson' }],
    };
    const practitioner = {
      resourceType: 'Practitioner',
      name: ['Fake Testperson'],
      address: '1 Fake Street',
      telecom: '555-0100',
    };
    const limited = rulesContext('limited-data-set');
    const none = rulesContext('none');

    expect(deidentifyCounting(encounter, limited)).toEqual([
      { resourceType: 'Encounter', status: 'finished', participant: [{}] },
      1,
    ]);
    expect(deidentifyCounting(practitioner, limited)).toEqual([
      { resourceType: 'Practitioner', name: [] },
      3,
    ]);
    expect(deidentifyCounting(encounter, none)).toEqual([encounter, 0]);
    expect(deidentifyCounting(practitioner, none)).toEqual([practitioner, 0]);
  });

  it('keeps strings, numbers and booleans where R4 has a primitive type', () => {
    const practitioner = {
      resourceType: 'Practitioner',
      active: false,
      gender: 'female',
      name: [{ family: 'Docname', given: ['Ann'], _given: [null] }],
      qualification: [{ code: { coding: [{ system: 'urn:q', code: 'MD', userSelected: true }] } }],
    };
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Count' },
      valueInteger: 3,
      component: [{ code: { text: 'Flag' }, valueBoolean: false }],
    };

    expect(deidentifyCounting(practitioner)).toEqual([practitioner, 0]);
    expect(deidentifyCounting(observation)).toEqual([observation, 0]);
  });

  it('removes an unknown element of any depth without walking into it', () => {
    let deep: Record<string, unknown> = { family: 'Testperson' };
    for (let level = 0; level < 10_000; level += 1) {
      deep = { nested: deep };
    }
    const [output, removed] = deidentifyCounting({ resourceType: 'Basic', note: deep });

    expect(output).toEqual({ resourceType: 'Basic' });
    expect(removed).toBe(1);
  });

  it("lets a feed's FHIRPath rule decide an element R4 does not define", () => {
    const ctx = rulesContext('none', []);
    const rules = resolveDeidRules('safe-harbor', {
      fhir: [{ path: 'Patient.ssn', method: 'cryptoHash' }],
    } as never);
    const [output, removed] = deidentifyCounting(TRIAL, {
      ...ctx,
      rules,
      rulesHash: hashDeidRules(rules),
    });

    expect(output).toHaveProperty('ssn', expect.stringMatching(/^[0-9a-f]{24}$/));
    expect(output).not.toHaveProperty('bogus');
    expect(removed).toBe(1);
  });

  it('does not modify its input', () => {
    const before = structuredClone(TRIAL);
    deidentifyCounting(TRIAL);
    expect(TRIAL).toEqual(before);
  });

  it("counts an unknown element inside an extension's valueAddress once", () => {
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      extension: [
        {
          url: 'http://example.org/where',
          valueAddress: { line: ['1 Fake St'], city: 'Faketown', state: 'MA', bogus: 'x' },
        },
      ],
    };

    const [output, removed] = deidentifyCounting(observation);

    expect((output as { extension: unknown }).extension).toEqual([
      { url: 'http://example.org/where', valueAddress: { state: 'MA' } },
    ]);
    expect(removed).toBe(1);
  });
});
