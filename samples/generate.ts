/**
 * Synthetic feed files for tests, the demo and benchmarks. Every person in them is made up and
 * obviously so; see samples/README.md. Run `tsx samples/generate.ts [dir]` to write them out.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { createFreeText, createLabResults, createVital } from './clinical.js';
import { buildEncounter, buildObservation, buildPatient } from './fhir-samples.js';
import type { FhirResource } from './fhir-samples.js';
import {
  buildAdtSegments,
  buildHl7BatchFile,
  buildOruSegments,
  joinSegments,
} from './hl7-samples.js';
import type { AdtEvent } from './hl7-samples.js';
import { createPeople, listPersonIdentifiers } from './people.js';
import type { SamplePerson } from './people.js';
import { createPrng, createUuid } from './prng.js';
import type { Prng } from './prng.js';
import { sampleTime } from './sample-time.js';

/** Options for {@link generateSamples}; every field is optional. */
export interface GenerateSamplesOptions {
  /**
   * Seed of the pseudo-random generator; the same seed gives the same bytes.
   * @default 20240301
   */
  seed?: number;
  /**
   * ADT messages in `adt-feed/adt-batch.hl7`; the lab feed gets a quarter as many ORU messages.
   * @default 20
   */
  hl7Messages?: number;
  /**
   * Patients in the FHIR files. They are the first people of the HL7 files, with the same MRNs.
   * @default 5
   */
  fhirPatients?: number;
}

/** One generated file. */
export interface SampleFile {
  /** Base name, such as `adt-batch.hl7`. */
  fileName: string;
  /** The feed (and folder) it belongs to, such as `adt-feed`. */
  feed: string;
  bytes: Uint8Array;
}

/** Where `writeSamples` and the command line write by default: `samples/generated/`. */
export const DEFAULT_SAMPLES_DIR = fileURLToPath(new URL('./generated/', import.meta.url));

const DEFAULT_SEED = 20240301;
const DEFAULT_HL7_MESSAGES = 20;
const DEFAULT_FHIR_PATIENTS = 5;

/** Minutes from the base time at which each file's events start, a day apart. */
const DAY_MINUTES = 24 * 60;

/** Sub-streams of the generator, so changing one file does not reshuffle the others. */
const STREAM = { people: 1, adt: 2, oru: 3, bundle: 4, ndjson: 5, bad: 6 } as const;

/**
 * Generates the sample feed files: an HL7 ADT batch, an ORU file, a FHIR transaction Bundle,
 * FHIR NDJSON and two files meant to be rejected. Pure and deterministic for a seed.
 *
 * @param options - seed and sizes
 */
export function generateSamples(options: GenerateSamplesOptions = {}): SampleFile[] {
  return buildSampleSet(options).files;
}

/**
 * Lists every direct identifier planted in the samples (names, MRNs, account and visit numbers,
 * SSNs, phone numbers, streets and emails), each once, so a test can assert none leaks.
 *
 * @param options - the same options given to {@link generateSamples}
 */
export function listSampleIdentifiers(options: GenerateSamplesOptions = {}): string[] {
  return buildSampleSet(options).identifiers;
}

/**
 * Writes the samples to `<dir>/<feed>/<fileName>`, replacing files of the same name.
 *
 * @param dir - target folder; created when missing
 * @param options - the same options given to {@link generateSamples}
 * @returns the paths written
 */
export function writeSamples(
  dir: string = DEFAULT_SAMPLES_DIR,
  options: GenerateSamplesOptions = {},
): string[] {
  return generateSamples(options).map((sample) => {
    const path = join(dir, sample.feed, sample.fileName);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, sample.bytes);
    return path;
  });
}

function buildSampleSet(options: GenerateSamplesOptions): {
  files: SampleFile[];
  identifiers: string[];
} {
  const seed = options.seed ?? DEFAULT_SEED;
  const hl7Messages = options.hl7Messages ?? DEFAULT_HL7_MESSAGES;
  const fhirPatients = options.fhirPatients ?? DEFAULT_FHIR_PATIENTS;
  if (!Number.isInteger(seed)) {
    throw new RangeError('seed must be an integer');
  }
  if (!Number.isInteger(hl7Messages) || hl7Messages < 1) {
    throw new RangeError('hl7Messages must be a positive integer');
  }
  if (!Number.isInteger(fhirPatients) || fhirPatients < 1) {
    throw new RangeError('fhirPatients must be a positive integer');
  }

  const prngFor = (stream: number): Prng => createPrng(Math.imul(seed, 0x9e3779b1) ^ stream);

  // Each person is in the ADT batch (index below hl7Messages) or the FHIR files, often both.
  const peopleCount = Math.max(fhirPatients, Math.ceil(hl7Messages / 2));
  const people = createPeople(prngFor(STREAM.people), peopleCount);
  const fhirPeople = people.slice(0, fhirPatients);

  const adtText = buildAdtBatch(people, hl7Messages);
  const oruText = buildOruFile(prngFor(STREAM.oru), people, hl7Messages);
  // A byte order mark, as some FHIR servers write; readers must strip it before JSON.parse.
  const bundleText = `\uFEFF${buildBundle(prngFor(STREAM.bundle), fhirPeople)}`;
  const ndjsonText = buildObservationsNdjson(prngFor(STREAM.ndjson), fhirPeople);

  const files: SampleFile[] = [
    textFile('adt-feed', 'adt-batch.hl7', adtText),
    textFile('lab-feed', 'oru-results.hl7', oruText),
    textFile('fhir-feed', 'patients-bundle.json', bundleText),
    textFile('fhir-feed', 'observations.ndjson', ndjsonText),
    textFile('bad-feed', 'corrupt.hl7', buildCorruptBatch(people)),
    { feed: 'bad-feed', fileName: 'unknown.bin', bytes: buildUnknownBytes(prngFor(STREAM.bad)) },
  ];
  const identifiers = new Set(people.flatMap((person) => listPersonIdentifiers(person)));
  return { files, identifiers: [...identifiers] };
}

function buildAdtBatch(people: SamplePerson[], messageCount: number): string {
  const messages = Array.from({ length: messageCount }, (_, index) => {
    const person = people[index % people.length];
    // Each person is admitted or registered once, and later messages update them.
    const event: AdtEvent = index >= people.length ? 'A08' : index % 2 === 0 ? 'A01' : 'A04';
    const controlId = `ADT${String(index + 1).padStart(5, '0')}`;
    return buildAdtSegments(person, event, { controlId, time: sampleTime(15 * index) });
  });
  return buildHl7BatchFile(messages, {
    terminator: '\r',
    time: sampleTime(0),
    fileControlId: 'ADTFILE1',
  });
}

function buildOruFile(prng: Prng, people: SamplePerson[], hl7Messages: number): string {
  const messageCount = Math.max(1, Math.ceil(hl7Messages / 4));
  const messages = Array.from({ length: messageCount }, (_, index) => {
    const results = [
      ...createLabResults(prng, 3),
      {
        valueType: 'TX' as const,
        code: '8251-1',
        display: 'Service comment',
        value: createFreeText(prng, 1),
      },
    ];
    const context = {
      controlId: `LAB${String(index + 1).padStart(5, '0')}`,
      time: sampleTime(DAY_MINUTES + 30 * index),
    };
    const segments = buildOruSegments(people[index % people.length], context, results, [
      'Synthetic result generated for testing; not a real patient.',
    ]);
    // This feed ends segments with LF, as some lab systems do, to exercise tolerant parsing.
    return joinSegments(segments, '\n');
  });
  return messages.join('');
}

function buildBundle(prng: Prng, people: SamplePerson[]): string {
  const entries = people.flatMap((person, index) => {
    const patientUrl = `urn:uuid:${person.patientId}`;
    const encounterUrl = `urn:uuid:${createUuid(prng)}`;
    const start = sampleTime(2 * DAY_MINUTES + 60 * index);
    const measured = new Date(start.getTime() + 10 * 60_000);
    const observations = [createVital(prng), createVital(prng)].map((vital) =>
      transactionEntry(
        `urn:uuid:${createUuid(prng)}`,
        buildObservation(vital, patientUrl, measured, { encounterReference: encounterUrl }),
      ),
    );
    return [
      transactionEntry(patientUrl, buildPatient(person, false)),
      transactionEntry(encounterUrl, buildEncounter(person, patientUrl, start)),
      ...observations,
    ];
  });
  const bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries };
  return `${JSON.stringify(bundle, null, 2)}\n`;
}

function buildObservationsNdjson(prng: Prng, people: SamplePerson[]): string {
  const lines = people.flatMap((person, index) => {
    const measured = sampleTime(3 * DAY_MINUTES + 60 * index);
    return [0, 1, 2].map((position) => {
      const note = position === 0 ? createFreeText(prng, 1) : undefined;
      const patientReference = `Patient/${person.patientId}`;
      const observation = buildObservation(createVital(prng), patientReference, measured, {
        id: createUuid(prng),
        note,
      });
      return JSON.stringify(observation);
    });
  });
  return lines.map((line) => `${line}\n`).join('');
}

function buildCorruptBatch(people: SamplePerson[]): string {
  const messages = people.slice(0, 3).map((person, index) =>
    buildAdtSegments(person, 'A08', {
      controlId: `BAD${String(index + 1).padStart(5, '0')}`,
      time: sampleTime(4 * DAY_MINUTES + 5 * index),
    }),
  );
  // BTS-1 claims two more messages than the batch holds, as if some were lost in transit.
  return buildHl7BatchFile(messages, {
    terminator: '\r',
    time: sampleTime(4 * DAY_MINUTES),
    fileControlId: 'BADFILE1',
    declaredMessageCount: messages.length + 2,
  });
}

/** Starts with a NUL byte, so it reads as neither HL7 nor JSON nor text of any kind. */
function buildUnknownBytes(prng: Prng): Uint8Array {
  const bytes = prng.bytes(256);
  bytes.set([0x00, 0x9c, 0x7f, 0x00], 0);
  return bytes;
}

function transactionEntry(fullUrl: string, resource: FhirResource): Record<string, unknown> {
  return { fullUrl, resource, request: { method: 'POST', url: resource.resourceType } };
}

function textFile(feed: string, fileName: string, text: string): SampleFile {
  return { feed, fileName, bytes: new TextEncoder().encode(text) };
}

function isRunDirectly(): boolean {
  const script = process.argv[1];
  return script !== undefined && pathToFileURL(resolve(script)).href === import.meta.url;
}

if (isRunDirectly()) {
  const dir = process.argv[2] ?? DEFAULT_SAMPLES_DIR;
  const written = writeSamples(dir);
  process.stdout.write(`Wrote ${written.length} sample files to ${dir}\n`);
}
