import type { SamplePerson } from './people.js';
import { SAMPLE_AREA_CODE, SAMPLE_CITY, SAMPLE_POSTAL_CODE, SAMPLE_STATE } from './people.js';
import { formatFhirTime } from './sample-time.js';

/** MRN identifier system of the fake hospital; `.invalid` can never resolve. */
export const MRN_SYSTEM = 'http://testhosp.example.invalid/fhir/sid/mrn';

/** Account number identifier system of the fake hospital. */
export const ACCOUNT_SYSTEM = 'http://testhosp.example.invalid/fhir/sid/account';

/** Visit number identifier system of the fake hospital. */
export const VISIT_SYSTEM = 'http://testhosp.example.invalid/fhir/sid/visit';
const SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

/** A FHIR resource as plain JSON. */
export type FhirResource = { resourceType: string } & Record<string, unknown>;

/** One vital sign or lab value to write as an Observation. */
export interface SampleVital {
  code: string;
  display: string;
  value: number;
  unit: string;
  category: 'vital-signs' | 'laboratory';
}

/**
 * Builds a Patient with the same MRN, names and contact details the HL7 samples use for this
 * person, so the two formats can be checked against each other.
 *
 * @param person - the patient
 * @param withId - set `id` (NDJSON export) or leave it to the `urn:uuid:` fullUrl (transaction)
 */
export function buildPatient(person: SamplePerson, withId: boolean): FhirResource {
  const kin = person.nextOfKin;
  return {
    resourceType: 'Patient',
    ...(withId ? { id: person.patientId } : {}),
    identifier: [
      identifier(MRN_SYSTEM, 'MR', person.mrn),
      identifier(ACCOUNT_SYSTEM, 'AN', person.accountNumber),
      identifier(SSN_SYSTEM, 'SS', person.ssn),
    ],
    name: [
      {
        use: 'official',
        family: person.familyName,
        given: [person.givenName, person.middleInitial],
      },
    ],
    telecom: [
      { system: 'phone', value: `(${SAMPLE_AREA_CODE}) ${person.phone}`, use: 'home' },
      { system: 'email', value: person.email },
    ],
    gender: person.sex === 'F' ? 'female' : 'male',
    birthDate: person.birthDate,
    address: [
      {
        use: 'home',
        line: [person.street],
        city: SAMPLE_CITY,
        state: SAMPLE_STATE,
        postalCode: SAMPLE_POSTAL_CODE,
        country: 'USA',
      },
    ],
    contact: [
      {
        relationship: [
          {
            coding: [
              {
                system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode',
                code: kin.relationshipCode,
                display: kin.relationship,
              },
            ],
          },
        ],
        name: { family: kin.familyName, given: [kin.givenName] },
        telecom: [{ system: 'phone', value: `(${SAMPLE_AREA_CODE}) ${kin.phone}` }],
      },
    ],
  };
}

/**
 * Builds a finished ambulatory Encounter for the person's visit.
 *
 * @param person - the patient; the visit number becomes the Encounter identifier
 * @param patientReference - `urn:uuid:…` inside a transaction, `Patient/<id>` elsewhere
 * @param start - when the visit began; it lasts 45 minutes
 * @param id - the Encounter id, for NDJSON export; omitted in a transaction
 */
export function buildEncounter(
  person: SamplePerson,
  patientReference: string,
  start: Date,
  id?: string,
): FhirResource {
  return {
    resourceType: 'Encounter',
    ...(id === undefined ? {} : { id }),
    identifier: [identifier(VISIT_SYSTEM, 'VN', person.visitNumber)],
    status: 'finished',
    class: {
      system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
      code: 'AMB',
      display: 'ambulatory',
    },
    subject: { reference: patientReference },
    period: {
      start: formatFhirTime(start),
      end: formatFhirTime(new Date(start.getTime() + 45 * 60_000)),
    },
  };
}

/**
 * Builds a final Observation with a LOINC code and a UCUM quantity.
 *
 * @param vital - what was measured
 * @param patientReference - reference to the Patient
 * @param effective - when it was measured
 * @param extra - `id`, an `encounter` reference and a free-text `note`, each when wanted
 */
export function buildObservation(
  vital: SampleVital,
  patientReference: string,
  effective: Date,
  extra: { id?: string; encounterReference?: string; note?: string } = {},
): FhirResource {
  return {
    resourceType: 'Observation',
    ...(extra.id === undefined ? {} : { id: extra.id }),
    status: 'final',
    category: [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/observation-category',
            code: vital.category,
          },
        ],
      },
    ],
    code: { coding: [{ system: 'http://loinc.org', code: vital.code, display: vital.display }] },
    subject: { reference: patientReference },
    ...(extra.encounterReference === undefined
      ? {}
      : { encounter: { reference: extra.encounterReference } }),
    effectiveDateTime: formatFhirTime(effective),
    valueQuantity: {
      value: vital.value,
      unit: vital.unit,
      system: 'http://unitsofmeasure.org',
      code: vital.unit,
    },
    ...(extra.note === undefined ? {} : { note: [{ text: extra.note }] }),
  };
}

function identifier(system: string, typeCode: string, value: string): Record<string, unknown> {
  return { type: { coding: [{ system: V2_0203, code: typeCode }] }, system, value };
}
