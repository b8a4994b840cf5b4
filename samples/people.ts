import type { Prng } from './prng.js';
import { createUuid } from './prng.js';
import { pad2 } from './sample-time.js';

/** Everyone is obviously fake: these surnames belong to no one. */
const FAMILY_NAMES = [
  'Testpatient',
  'Fakename',
  'Sampleson',
  'Mockworth',
  'Placeholder',
  'Dummyfield',
  'Notreal',
  'Examplova',
];

/** NATO spelling words, minus those that are common English words and could turn up in text. */
const GIVEN_NAMES = [
  'Alpha',
  'Bravo',
  'Charlie',
  'Delta',
  'Foxtrot',
  'Juliett',
  'Kilo',
  'Oscar',
  'Quebec',
  'Romeo',
  'Sierra',
  'Tango',
  'Victor',
  'Whiskey',
  'Yankee',
  'Zulu',
];

const RELATIONSHIPS = [
  { code: 'SPO', display: 'Spouse' },
  { code: 'PAR', display: 'Parent' },
  { code: 'SIB', display: 'Sibling' },
  { code: 'CHD', display: 'Child' },
];

/** A fake patient with every direct identifier the samples plant. */
export interface SamplePerson {
  /** FHIR logical id (a UUID); also the `urn:uuid:` of the Patient entry in a Bundle. */
  patientId: string;
  mrn: string;
  accountNumber: string;
  visitNumber: string;
  /** `999-xx-xxxx`: the 9xx area is never issued, so no real SSN can match. */
  ssn: string;
  familyName: string;
  givenName: string;
  middleInitial: string;
  /** `YYYY-MM-DD`. */
  birthDate: string;
  sex: 'F' | 'M';
  /** `NNN Fake Street`. */
  street: string;
  /** `555-01xx`, the range set aside for fiction; the area code is written separately. */
  phone: string;
  email: string;
  nextOfKin: {
    familyName: string;
    givenName: string;
    relationshipCode: string;
    relationship: string;
    phone: string;
  };
}

/** City of every fake address. */
export const SAMPLE_CITY = 'Testville';

/** State of every fake address; `TS` is no US state. */
export const SAMPLE_STATE = 'TS';

/** Postal code of every fake address; no ZIP code is all zeros. */
export const SAMPLE_POSTAL_CODE = '00000';

/** Area code written in front of the fictional `555-01xx` numbers. */
export const SAMPLE_AREA_CODE = '210';

/**
 * Creates fake people with distinct MRNs, account and visit numbers.
 *
 * @param prng - the seeded generator
 * @param count - how many people
 */
export function createPeople(prng: Prng, count: number): SamplePerson[] {
  // Random starting points, then consecutive values, keep identifiers distinct and fixed-width.
  const mrnStart = prng.int(1_000_000, 8_999_999 - count);
  const accountStart = prng.int(10_000_000, 89_999_999 - count);
  const visitStart = prng.int(10_000_000, 89_999_999 - count);
  const phoneStart = prng.int(0, 99);

  return Array.from({ length: count }, (_, index) => {
    const familyName = prng.pick(FAMILY_NAMES);
    const givenName = prng.pick(GIVEN_NAMES);
    const relationship = prng.pick(RELATIONSHIPS);
    return {
      patientId: createUuid(prng),
      mrn: `MRN${mrnStart + index}`,
      accountNumber: `ACCT${accountStart + index}`,
      visitNumber: `VN${visitStart + index}`,
      ssn: `999-${prng.int(10, 99)}-${prng.int(1000, 9999)}`,
      familyName,
      givenName,
      middleInitial: String.fromCharCode(prng.int(65, 90)),
      birthDate: `${prng.int(1940, 2015)}-${pad2(prng.int(1, 12))}-${pad2(prng.int(1, 28))}`,
      sex: prng.next() < 0.5 ? 'F' : 'M',
      street: `${prng.int(100, 999)} Fake Street`,
      phone: fictionalPhone(phoneStart + 2 * index),
      email: `${givenName}.${familyName}${index + 1}@example.invalid`.toLowerCase(),
      nextOfKin: {
        familyName: prng.pick(FAMILY_NAMES),
        givenName: prng.pick(GIVEN_NAMES),
        relationshipCode: relationship.code,
        relationship: relationship.display,
        phone: fictionalPhone(phoneStart + 2 * index + 1),
      },
    };
  });
}

/**
 * Lists the direct identifiers of one person as they are written into the samples.
 *
 * @param person - a person from {@link createPeople}
 */
export function listPersonIdentifiers(person: SamplePerson): string[] {
  return [
    person.familyName,
    person.givenName,
    person.mrn,
    person.accountNumber,
    person.visitNumber,
    person.ssn,
    person.street,
    person.phone,
    person.email,
    person.nextOfKin.familyName,
    person.nextOfKin.givenName,
    person.nextOfKin.phone,
  ];
}

function fictionalPhone(index: number): string {
  return `555-01${pad2(index % 100)}`;
}
