import type { IdentifierKind, KnownIdentifiers } from '../transforms/deid/free-text.js';
import { createFreeText } from './clinical.js';
import {
  createPeople,
  SAMPLE_AREA_CODE,
  SAMPLE_CITY,
  SAMPLE_POSTAL_CODE,
  SAMPLE_STATE,
} from './people.js';
import type { SamplePerson } from './people.js';
import { createPrng } from './prng.js';
import type { Prng } from './prng.js';
import { pad2 } from './sample-time.js';

/*
 * A labelled synthetic free-text set for measuring the scrubber: clinical notes with
 * identifiers planted at known places, each labelled with its kind and whether the record's
 * structured fields carry it (names, MRN, phone, street, e-mail, birth date) or only a pattern
 * can find it (fax, other dates, SSN in text, URL, IP address, account numbers, ZIP). Every
 * value is as fake as the rest of the samples.
 */

/** Kinds as the scrubber names them. */
export type PlantedKind = IdentifierKind;

/** One planted identifier: where it is in the note and what it is. */
export interface PlantedSpan {
  start: number;
  end: number;
  kind: PlantedKind;
  /** True when the record's structured fields carry the same value. */
  carried: boolean;
}

/** One note with its record's structured identifiers. */
export interface LabelledNote {
  text: string;
  spans: PlantedSpan[];
  /** What the record's structured fields say, in the scrubber's `KnownIdentifiers` shape. */
  known: KnownIdentifiers;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * Generates labelled notes. The same seed and count give the same notes.
 *
 * @param options - seed and how many notes
 */
export function generateLabelledNotes(options: { seed: number; count: number }): LabelledNote[] {
  const prng = createPrng(options.seed);
  const people = createPeople(prng, options.count);
  return people.map((person) => buildNote(prng, person));
}

type Part = string | { text: string; kind: PlantedKind; carried: boolean };

function buildNote(prng: Prng, person: SamplePerson): LabelledNote {
  const kin = person.nextOfKin;
  const fax = `${SAMPLE_AREA_CODE}-555-01${pad2(prng.int(0, 99))}`;
  const visitDate = randomDate(prng);
  const ip = `192.0.2.${prng.int(1, 254)}`;
  const policy = `${prng.int(10_000_000, 99_999_999)}`;
  const carried = (text: string, kind: PlantedKind): Part => ({ text, kind, carried: true });
  const pattern = (text: string, kind: PlantedKind): Part => ({ text, kind, carried: false });

  const sentences: Part[][] = [
    [
      'Patient ',
      carried(person.givenName, 'name'),
      ' ',
      carried(person.familyName, 'name'),
      ' (MRN ',
      carried(person.mrn, 'id'),
      ') seen on ',
      pattern(formatDate(prng, visitDate), 'date'),
      '.',
    ],
    [
      'Spoke with ',
      kin.relationship.toLowerCase(),
      ' ',
      carried(kin.givenName, 'name'),
      ' ',
      carried(kin.familyName, 'name'),
      ' at ',
      carried(`(${SAMPLE_AREA_CODE}) ${kin.phone}`, 'phone'),
      '; fax results to ',
      pattern(fax, 'phone'),
      '.',
    ],
    [
      'Lives at ',
      carried(person.street, 'address'),
      ', ',
      carried(SAMPLE_CITY, 'address'),
      ', ',
      SAMPLE_STATE,
      ' ',
      pattern(SAMPLE_POSTAL_CODE, 'zip'),
      '. Email ',
      carried(person.email, 'email'),
      '.',
    ],
    [
      'SSN ',
      pattern(person.ssn, 'ssn'),
      ' on file; policy number ',
      pattern(policy, 'id'),
      ', account ',
      carried(person.accountNumber, 'id'),
      '.',
    ],
    [
      'Portal ',
      pattern(`https://portal.example.invalid/p/${prng.int(1000, 9999)}`, 'url'),
      ' accessed from ',
      pattern(ip, 'ip'),
      '.',
    ],
    [
      'Born ',
      carried(isoToUs(person.birthDate), 'date'),
      '; call back on ',
      carried(person.phone, 'phone'),
      ' before ',
      pattern(formatDate(prng, randomDate(prng)), 'date'),
      '.',
    ],
  ];

  // Clinical sentences with no identifier in between, in a shuffled order, test precision.
  const parts: Part[] = [];
  for (const sentence of shuffle(prng, sentences)) {
    parts.push(...sentence, ' ', createFreeText(prng, 1), ' ');
  }

  let text = '';
  const spans: PlantedSpan[] = [];
  for (const part of parts) {
    if (typeof part === 'string') {
      text += part;
      continue;
    }
    spans.push({
      start: text.length,
      end: text.length + part.text.length,
      kind: part.kind,
      carried: part.carried,
    });
    text += part.text;
  }

  return {
    text: text.trimEnd(),
    spans,
    known: {
      names: [person.familyName, person.givenName, kin.familyName, kin.givenName],
      ids: [person.mrn, person.accountNumber, person.visitNumber, person.ssn],
      phones: [`(${SAMPLE_AREA_CODE}) ${person.phone}`, `(${SAMPLE_AREA_CODE}) ${kin.phone}`],
      addresses: [person.street, SAMPLE_CITY],
      zips: [SAMPLE_POSTAL_CODE],
      dates: [person.birthDate],
      emails: [person.email],
    },
  };
}

function randomDate(prng: Prng): [number, number, number] {
  return [prng.int(2015, 2025), prng.int(1, 12), prng.int(1, 28)];
}

// The forms dates take in notes: ISO, US numeric, and with the month written out.
function formatDate(prng: Prng, [year, month, day]: [number, number, number]): string {
  switch (prng.int(0, 4)) {
    case 0:
      return `${year}-${pad2(month)}-${pad2(day)}`;
    case 1:
      return `${month}/${day}/${year}`;
    case 2:
      return `${MONTHS[month - 1]} ${day}, ${year}`;
    case 3:
      return `${day} ${MONTHS[month - 1].slice(0, 3)} ${year}`;
    default:
      return `${pad2(month)}/${pad2(day)}/${String(year).slice(2)}`;
  }
}

function isoToUs(iso: string): string {
  const [year, month, day] = iso.split('-');
  return `${month}/${day}/${year}`;
}

function shuffle<T>(prng: Prng, items: T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = prng.int(0, index);
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}
