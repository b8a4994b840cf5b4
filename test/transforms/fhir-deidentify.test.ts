import { describe, expect, it } from 'vitest';

import {
  collectIdentityMap,
  deidentifyResource,
  parseFhirDocument,
} from '../../transforms/fhir/index.js';
import { pseudonymize } from '../../transforms/pseudonym.js';

const KEY = new Uint8Array(32).map((_, index) => index + 1);
const CTX = { pseudonymKey: KEY };
const SD = 'http://hl7.org/fhir/StructureDefinition';
const PATIENT_UUID = 'urn:uuid:6b1c3c1e-0000-4000-8000-000000000001';

/** Every value here is made up; none of them may survive de-identification. */
const FAKE_VALUES = [
  'Testpatient',
  'Alpha',
  'MRN0001',
  '999-00-1234',
  '555-555-0100',
  'alpha@example.invalid',
  '1 Fake Street',
  'Nowhereville',
  '99999',
  '1980-01-02',
  'Maidenname',
  'Contactperson',
  '555-555-0199',
  '2 Fake Road',
  'pat-alpha',
];

const PATIENT = {
  resourceType: 'Patient',
  id: 'pat-alpha',
  meta: { lastUpdated: '2024-03-04T05:06:07Z' },
  text: { status: 'generated', div: '<div>Testpatient Alpha, MRN0001</div>' },
  extension: [
    { url: `${SD}/patient-mothersMaidenName`, valueString: 'Maidenname' },
    {
      url: `${SD}/patient-birthPlace`,
      valueAddress: { line: ['1 Fake Street'], city: 'Nowhereville', state: 'ZZ', country: 'US' },
    },
    { url: 'http://example.org/emergency-name', valueHumanName: { text: 'Testpatient Alpha' } },
    { url: 'http://example.org/pager', valueContactPoint: { value: '555-555-0100' } },
    { url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex', valueCode: 'F' },
  ],
  identifier: [
    {
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
      system: 'urn:oid:1.2.3.4',
      value: 'MRN0001',
      extension: [{ url: `${SD}/identifier-checkDigit`, valueString: '7' }],
    },
    { system: 'http://hl7.org/fhir/sid/us-ssn', value: '999-00-1234' },
  ],
  name: [{ use: 'official', family: 'Testpatient', given: ['Alpha'] }],
  telecom: [
    { system: 'phone', value: '555-555-0100', use: 'home' },
    { system: 'email', value: 'alpha@example.invalid' },
  ],
  gender: 'female',
  birthDate: '1980-01-02',
  _birthDate: {
    extension: [{ url: `${SD}/patient-birthTime`, valueDateTime: '1980-01-02T08:30:00Z' }],
  },
  deceasedDateTime: '2021-07-08T09:10:00Z',
  address: [
    {
      use: 'home',
      text: '1 Fake Street, Nowhereville',
      line: ['1 Fake Street'],
      city: 'Nowhereville',
      district: 'Fake County',
      state: 'ZZ',
      postalCode: '99999-1234',
      country: 'US',
      period: { start: '1980-01-02' },
      extension: [
        { url: `${SD}/geolocation`, extension: [{ url: 'latitude', valueDecimal: 1.5 }] },
      ],
    },
  ],
  contact: [
    {
      relationship: [{ text: 'Mother' }],
      name: { family: 'Contactperson', given: ['Beta'] },
      telecom: [{ system: 'phone', value: '555-555-0199' }],
      address: { line: ['2 Fake Road'], city: 'Nowhereville', state: 'NH', postalCode: '03601' },
      gender: 'female',
    },
  ],
  photo: [{ contentType: 'image/png', data: 'iVBORw0KGgo=' }],
  managingOrganization: { reference: 'Organization/org-1', display: 'Test Hospital' },
  generalPractitioner: [{ reference: 'Practitioner/prac-1', display: 'Dr Example' }],
  link: [{ other: { reference: 'Patient/pat-old' }, type: 'replaces' }],
};

const patientRef = (id: string): string =>
  `Patient/${pseudonymize(KEY, 'resource', `Patient/${id}`)}`;

describe('deidentifyResource on a Patient', () => {
  const output = deidentifyResource(PATIENT, CTX);

  it('keeps only what Safe Harbor allows, with pseudonyms for ids and identifiers', () => {
    expect(output).toEqual({
      resourceType: 'Patient',
      id: pseudonymize(KEY, 'resource', 'Patient/pat-alpha'),
      // Dates other than birth and death move by the patient's offset (+208 days here).
      meta: { lastUpdated: '2024-09-28T05:06:07Z' },
      extension: [
        { url: `${SD}/patient-birthPlace`, valueAddress: { state: 'ZZ', country: 'US' } },
        { url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex', valueCode: 'F' },
      ],
      identifier: [
        {
          type: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }],
          },
          system: 'urn:oid:1.2.3.4',
          value: pseudonymize(KEY, 'patient-id', 'MRN0001'),
        },
        {
          system: 'http://hl7.org/fhir/sid/us-ssn',
          value: pseudonymize(KEY, 'patient-id', '999-00-1234'),
        },
      ],
      gender: 'female',
      birthDate: '1980',
      deceasedDateTime: '2021',
      address: [
        {
          use: 'home',
          state: 'ZZ',
          postalCode: '999',
          country: 'US',
          period: { start: '1980-07-28' },
        },
      ],
      contact: [
        {
          relationship: [{ text: 'Mother' }],
          address: { state: 'NH', postalCode: '000' },
          gender: 'female',
        },
      ],
      managingOrganization: { reference: 'Organization/org-1', display: 'Test Hospital' },
      generalPractitioner: [{ reference: 'Practitioner/prac-1', display: 'Dr Example' }],
      link: [{ other: { reference: patientRef('pat-old') }, type: 'replaces' }],
    });
  });

  it('leaves none of the fake values in the output', () => {
    const serialized = JSON.stringify(output);
    for (const value of FAKE_VALUES) {
      expect(serialized).not.toContain(value);
    }
  });

  it('gives an MRN the same pseudonym as HL7 PID-3 does', () => {
    const identifiers = (output as { identifier: { value: string }[] }).identifier;
    expect(identifiers[0].value).toBe(pseudonymize(KEY, 'patient-id', 'MRN0001'));
  });

  it('does not modify its input', () => {
    const before = structuredClone(PATIENT);
    deidentifyResource(PATIENT, CTX);
    expect(PATIENT).toEqual(before);
  });
});

describe('deidentifyResource on references', () => {
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: PATIENT_UUID, resource: PATIENT, request: { method: 'POST', url: 'Patient' } },
      {
        fullUrl: 'urn:uuid:6b1c3c1e-0000-4000-8000-000000000002',
        resource: {
          resourceType: 'Observation',
          id: 'obs-1',
          status: 'final',
          subject: { reference: PATIENT_UUID, display: 'Testpatient Alpha' },
          encounter: { reference: 'urn:uuid:6b1c3c1e-0000-4000-8000-000000000003' },
          performer: [{ reference: 'Practitioner/prac-1', display: 'Dr Example' }],
        },
      },
      {
        fullUrl: 'urn:uuid:6b1c3c1e-0000-4000-8000-000000000003',
        resource: {
          resourceType: 'Encounter',
          id: 'enc-1',
          status: 'finished',
          identifier: [{ system: 'urn:oid:1.2.3.5', value: 'VISIT0001' }],
          subject: { reference: 'Patient/pat-alpha' },
          participant: [{ individual: { reference: 'RelatedPerson/rp-1' } }],
        },
      },
      {
        resource: {
          resourceType: 'Observation',
          id: 'obs-2',
          status: 'final',
          subject: { reference: 'http://example.org/fhir/Patient/pat-alpha/_history/3' },
        },
      },
    ],
  };

  const deidentifyBundle = (): Record<string, unknown>[] => {
    const parsed = parseFhirDocument(JSON.stringify(bundle));
    if (!parsed.ok) {
      throw new Error('Expected the test Bundle to parse');
    }
    const identityMap = collectIdentityMap(parsed.resources, parsed.fullUrls);
    return parsed.resources.map((resource, index) => {
      const options = { identityMap, fullUrl: parsed.fullUrls[index] };
      return deidentifyResource(resource, CTX, options) as Record<string, unknown>;
    });
  };

  it('rewrites Patient/<id>, absolute and urn:uuid references to the pseudonymous id', () => {
    const [patient, observation, encounter, absolute] = deidentifyBundle();
    const expected = patientRef('pat-alpha');

    expect(`Patient/${String(patient.id)}`).toBe(expected);
    expect(observation.subject).toEqual({ reference: expected });
    expect(encounter.subject).toEqual({ reference: expected });
    expect(absolute.subject).toEqual({ reference: expected });
  });

  it('resolves other urn:uuid references to Type/id and keeps their display', () => {
    const [, observation, encounter] = deidentifyBundle();
    expect(observation.encounter).toEqual({ reference: 'Encounter/enc-1' });
    expect(observation.performer).toEqual([
      { reference: 'Practitioner/prac-1', display: 'Dr Example' },
    ]);
    const relatedPersonId = pseudonymize(KEY, 'resource', 'RelatedPerson/rp-1');
    expect(encounter.participant).toEqual([
      { individual: { reference: `RelatedPerson/${relatedPersonId}` } },
    ]);
  });

  it('pseudonymises identifiers of other resources in the other namespace', () => {
    const [, , encounter] = deidentifyBundle();
    expect(encounter.identifier).toEqual([
      { system: 'urn:oid:1.2.3.5', value: pseudonymize(KEY, 'other', 'VISIT0001') },
    ]);
  });

  it('leaves none of the fake values in any resource of the Bundle', () => {
    const serialized = JSON.stringify(deidentifyBundle());
    for (const value of FAKE_VALUES) {
      expect(serialized).not.toContain(value);
    }
  });

  it('gives a Patient without id the pseudonym its urn:uuid references get', () => {
    const { id: _dropped, ...patientWithoutId } = PATIENT;
    const resources = [
      patientWithoutId,
      { resourceType: 'Observation', status: 'final', subject: { reference: PATIENT_UUID } },
    ];
    const fullUrls = [PATIENT_UUID, undefined];
    const identityMap = collectIdentityMap(resources, fullUrls);
    const patient = deidentifyResource(resources[0], CTX, { identityMap, fullUrl: PATIENT_UUID });
    const observation = deidentifyResource(resources[1], CTX, { identityMap });

    const pseudonymId = pseudonymize(KEY, 'resource', PATIENT_UUID);
    expect(patient).toMatchObject({ id: pseudonymId });
    expect(observation).toMatchObject({ subject: { reference: `Patient/${pseudonymId}` } });
  });

  it('pseudonymises an unresolved urn reference whole', () => {
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      subject: { reference: PATIENT_UUID },
    };
    expect(deidentifyResource(observation, CTX)).toEqual({
      resourceType: 'Observation',
      status: 'final',
      subject: { reference: `urn:pseudonym:${pseudonymize(KEY, 'resource', PATIENT_UUID)}` },
    });
  });

  it('keeps only a pseudonymised identifier in a conditional reference to a person', () => {
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      subject: { reference: 'Patient?identifier=urn:oid:1.2.3.4|MRN0001' },
      focus: [{ reference: 'Patient?name=Testpatient' }, { reference: 'Location?name=Ward' }],
    };
    const mrnPseudonym = pseudonymize(KEY, 'patient-id', 'MRN0001');
    expect(deidentifyResource(observation, CTX)).toEqual({
      resourceType: 'Observation',
      status: 'final',
      subject: { reference: `Patient?identifier=urn:oid:1.2.3.4|${mrnPseudonym}` },
      focus: [{ reference: 'Location?name=Ward' }],
    });
  });

  it('pseudonymises a logical reference to a person and drops its display', () => {
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      subject: {
        type: 'Patient',
        identifier: { system: 'urn:oid:1.2.3.4', value: 'MRN0001' },
        display: 'Testpatient Alpha',
      },
    };
    expect(deidentifyResource(observation, CTX)).toEqual({
      resourceType: 'Observation',
      status: 'final',
      subject: {
        type: 'Patient',
        identifier: {
          system: 'urn:oid:1.2.3.4',
          value: pseudonymize(KEY, 'patient-id', 'MRN0001'),
        },
      },
    });
  });
});

describe('deidentifyResource on other resources', () => {
  it('removes a date element whose value is not a FHIR date, and keeps a year alone', () => {
    const encounter = {
      resourceType: 'Encounter',
      status: 'finished',
      period: { start: '11/30/2026', end: '2026-12-01 08:00' },
    };
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      effectiveDateTime: 'Dec 1 2026',
      issued: '2026',
      valueDateTime: '2026-11-30',
    };
    const outEncounter = deidentifyResource(encounter, CTX) as Record<string, unknown>;
    expect(outEncounter.period).toEqual({});
    const outObservation = deidentifyResource(observation, CTX) as Record<string, string>;
    expect(outObservation.effectiveDateTime).toBeUndefined();
    expect(outObservation.issued).toBe('2026');
    expect(outObservation.valueDateTime).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(outObservation.valueDateTime).not.toBe('2026-11-30');
  });

  it('pseudonymises every top-level Identifier element: master, accession, group, requisition', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        {
          resourceType: 'DocumentReference',
          status: 'current',
          masterIdentifier: { system: 'urn:doc', value: 'DOC-12345' },
        },
        'masterIdentifier',
      ],
      [
        {
          resourceType: 'Specimen',
          accessionIdentifier: { system: 'urn:acc', value: 'ACC-77001' },
        },
        'accessionIdentifier',
      ],
      [
        {
          resourceType: 'MedicationRequest',
          status: 'active',
          intent: 'order',
          groupIdentifier: { value: 'GRP-55102' },
        },
        'groupIdentifier',
      ],
      [
        {
          resourceType: 'ServiceRequest',
          status: 'active',
          intent: 'order',
          requisition: { value: 'REQ-88120' },
        },
        'requisition',
      ],
    ];
    for (const [resource, element] of cases) {
      const original = (resource[element] as { value: string }).value;
      const output = deidentifyResource(resource, CTX) as Record<string, { value: string }>;
      expect(output[element].value, element).toBe(pseudonymize(KEY, 'other', original));
      expect(JSON.stringify(output), element).not.toContain(original);
    }
  });

  it('scrubs a narrative that is not generated, keeping its markup', () => {
    const observation = {
      resourceType: 'Observation',
      text: {
        status: 'additional',
        div: '<div xmlns="http://www.w3.org/1999/xhtml">Called 555-555-0100 on 2024-03-04</div>',
      },
      status: 'final',
    };
    expect(deidentifyResource(observation, CTX)).toEqual({
      resourceType: 'Observation',
      text: {
        status: 'additional',
        div: '<div xmlns="http://www.w3.org/1999/xhtml">Called [PHONE] on [DATE]</div>',
      },
      status: 'final',
    });
  });

  it('drops a generated narrative, which only repeats the structured data', () => {
    const observation = {
      resourceType: 'Observation',
      text: { status: 'generated', div: '<div>Testpatient</div>' },
      status: 'final',
      code: { text: 'Glucose' },
    };
    expect(deidentifyResource(observation, CTX)).toEqual({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Glucose' },
    });
  });

  it('pseudonymises Coverage.subscriberId as a patient id and scrubs person extensions', () => {
    const coverage = {
      resourceType: 'Coverage',
      status: 'active',
      identifier: [{ value: 'POLICY-1' }],
      subscriberId: 'MRN0001',
      beneficiary: { reference: 'Patient/pat-alpha' },
      extension: [
        { url: 'http://example.org/insured-name', valueHumanName: { family: 'Testpatient' } },
        { url: 'http://example.org/insured-address', valueAddress: { city: 'Nowhereville' } },
        { url: 'http://example.org/insured-state', valueAddress: { state: 'ZZ' } },
      ],
    };
    expect(deidentifyResource(coverage, CTX)).toEqual({
      resourceType: 'Coverage',
      status: 'active',
      identifier: [{ value: pseudonymize(KEY, 'other', 'POLICY-1') }],
      subscriberId: pseudonymize(KEY, 'patient-id', 'MRN0001'),
      beneficiary: { reference: patientRef('pat-alpha') },
      extension: [{ url: 'http://example.org/insured-state', valueAddress: { state: 'ZZ' } }],
    });
  });

  it('applies the person rules to contained resources and keeps their local ids', () => {
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      contained: [{ resourceType: 'Patient', id: 'p1', name: [{ family: 'Testpatient' }] }],
      subject: { reference: '#p1' },
    };
    expect(deidentifyResource(observation, CTX)).toEqual({
      resourceType: 'Observation',
      status: 'final',
      contained: [{ resourceType: 'Patient', id: 'p1' }],
      subject: { reference: '#p1' },
    });
  });

  it('de-identifies resources inside a nested Bundle and drops entry requests', () => {
    const nested = {
      resourceType: 'Bundle',
      type: 'collection',
      link: [{ relation: 'self', url: 'http://example.org/fhir/Patient?name=Testpatient' }],
      entry: [
        {
          fullUrl: 'http://example.org/fhir/Patient/pat-alpha',
          resource: { resourceType: 'Patient', id: 'pat-alpha', name: [{ family: 'Testpatient' }] },
          request: { method: 'PUT', url: 'Patient/pat-alpha' },
        },
      ],
    };
    expect(deidentifyResource(nested, CTX)).toEqual({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          fullUrl: patientRef('pat-alpha'),
          resource: {
            resourceType: 'Patient',
            id: pseudonymize(KEY, 'resource', 'Patient/pat-alpha'),
          },
        },
      ],
    });
  });

  it('returns undefined for input that is not a resource or nests too deeply', () => {
    expect(deidentifyResource('Patient', CTX)).toBeUndefined();
    expect(deidentifyResource({ id: 'x' }, CTX)).toBeUndefined();

    let deep: Record<string, unknown> = { url: 'http://example.org/leaf', valueInteger: 1 };
    for (let level = 0; level < 10_000; level += 1) {
      deep = { url: 'http://example.org/nested', extension: [deep] };
    }
    expect(deidentifyResource({ resourceType: 'Basic', extension: [deep] }, CTX)).toBeUndefined();
  });
});

describe('deidentifyResource on embedded documents', () => {
  const note = Buffer.from('Patient Testpatient Alpha seen today.').toString('base64');
  const masked = { url: `${SD}/data-absent-reason`, valueCode: 'masked' };

  it('drops Attachment.data and marks the attachment as masked', () => {
    const reference = {
      resourceType: 'DocumentReference',
      status: 'current',
      content: [{ attachment: { contentType: 'text/plain', data: note, title: 'Note' } }],
    };
    expect(deidentifyResource(reference, CTX)).toEqual({
      resourceType: 'DocumentReference',
      status: 'current',
      content: [{ attachment: { contentType: 'text/plain', title: 'Note', extension: [masked] } }],
    });
  });

  it('drops a DiagnosticReport presentedForm payload and a Binary payload', () => {
    const report = deidentifyResource(
      {
        resourceType: 'DiagnosticReport',
        status: 'final',
        presentedForm: [{ contentType: 'text/html', data: note }],
      },
      CTX,
    );
    expect(JSON.stringify(report)).not.toContain(note);
    expect((report as { presentedForm: unknown[] }).presentedForm).toEqual([
      { contentType: 'text/html', extension: [masked] },
    ]);
    expect(
      deidentifyResource({ resourceType: 'Binary', contentType: 'text/plain', data: note }, CTX),
    ).toEqual({
      resourceType: 'Binary',
      contentType: 'text/plain',
    });
  });

  it('keeps SampledData.data, which is numbers, not a document', () => {
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'ECG' },
      valueSampledData: { origin: { value: 0 }, period: 10, dimensions: 1, data: '1 2 3 4' },
    };
    expect(deidentifyResource(observation, CTX)).toEqual(observation);
  });
});
