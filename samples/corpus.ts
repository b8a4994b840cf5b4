import { createFreeText, createLabResults, createVital } from './clinical.js';
import { buildEncounter, buildObservation, buildPatient } from './fhir-samples.js';
import type { FhirResource } from './fhir-samples.js';
import type { AdtEvent, SampleResult } from './hl7-samples.js';
import { buildAdtSegments, buildOruSegments, joinSegments } from './hl7-samples.js';
import { escapeHl7, hl7Segment } from './hl7-text.js';
import { createPeople } from './people.js';
import type { SamplePerson } from './people.js';
import { createPrng, createUuid } from './prng.js';
import type { Prng } from './prng.js';
import { sampleTime } from './sample-time.js';

/** Options for the benchmark corpora. */
export interface CorpusOptions {
  /**
   * Seed of the pseudo-random generator; the same seed and size give the same bytes.
   * @default 20240301
   */
  seed?: number;
  /** Stop once the corpus reaches this size; it overshoots by less than one record group. */
  approxBytes: number;
}

/** A generated corpus and how many records (HL7 messages or NDJSON lines) it holds. */
export interface Corpus {
  bytes: Uint8Array;
  recordCount: number;
}

const DEFAULT_SEED = 20240301;

/** People are drawn in blocks; repeats across messages are realistic for a feed. */
const PEOPLE_PER_BLOCK = 500;

const ADT_EVENTS: readonly AdtEvent[] = ['A01', 'A04', 'A08'];

const ALLERGIES = [
  '7980^Penicillin G^RXNORM',
  '2670^Codeine^RXNORM',
  '1191^Aspirin^RXNORM',
  '256349002^Peanut protein^SCT',
];

const DIAGNOSES = [
  'I10^Essential (primary) hypertension^I10',
  'E11.9^Type 2 diabetes mellitus without complications^I10',
  'J45.909^Unspecified asthma, uncomplicated^I10',
  'K21.9^Gastro-esophageal reflux disease without esophagitis^I10',
  'M54.50^Low back pain, unspecified^I10',
];

/**
 * Generates HL7 v2 messages for benchmarks, alternating ADT (with OBX, AL1 and DG1) and ORU (with
 * ten results, a free-text OBX and NTE comments). Messages average about 1.5 KB and include
 * repetitions and escapes. Segments end with CR; there is no batch envelope.
 *
 * @param options - seed and approximate size
 */
export function generateHl7Corpus(options: CorpusOptions): Corpus {
  const prng = createPrng(checkOptions(options));
  const messages: string[] = [];
  let totalBytes = 0;
  let people: SamplePerson[] = [];

  while (totalBytes < options.approxBytes) {
    if (messages.length % PEOPLE_PER_BLOCK === 0) {
      people = createPeople(prng, PEOPLE_PER_BLOCK);
    }

    const person = prng.pick(people);
    const context = {
      controlId: `MSG${String(messages.length + 1).padStart(9, '0')}`,
      time: sampleTime(messages.length),
    };
    const segments =
      messages.length % 2 === 0
        ? buildBenchmarkAdt(prng, person, context)
        : buildBenchmarkOru(prng, person, context);
    const text = joinSegments(segments, '\r');
    messages.push(text);
    totalBytes += text.length;
  }

  return { bytes: new TextEncoder().encode(messages.join('')), recordCount: messages.length };
}

/**
 * Generates FHIR R4 NDJSON for benchmarks: per person a Patient, an Encounter and three to six
 * Observations, each line with an `id` and references as `Patient/<id>` and `Encounter/<id>`.
 *
 * @param options - seed and approximate size
 */
export function generateFhirNdjson(options: CorpusOptions): Corpus {
  const prng = createPrng(checkOptions(options));
  const lines: string[] = [];
  let totalBytes = 0;
  let groupIndex = 0;
  let people: SamplePerson[] = [];

  while (totalBytes < options.approxBytes) {
    if (groupIndex % PEOPLE_PER_BLOCK === 0) {
      people = createPeople(prng, PEOPLE_PER_BLOCK);
    }

    const person = people[groupIndex % PEOPLE_PER_BLOCK];
    const patientReference = `Patient/${person.patientId}`;
    const encounterId = createUuid(prng);
    const start = sampleTime(30 * groupIndex);
    const group: FhirResource[] = [
      buildPatient(person, true),
      buildEncounter(person, patientReference, start, encounterId),
    ];
    const observationCount = prng.int(3, 6);
    for (let index = 0; index < observationCount; index++) {
      group.push(
        buildObservation(createVital(prng), patientReference, start, {
          id: createUuid(prng),
          encounterReference: `Encounter/${encounterId}`,
          note: index === 0 ? createFreeText(prng, 2) : undefined,
        }),
      );
    }

    for (const resource of group) {
      const line = `${JSON.stringify(resource)}\n`;
      lines.push(line);
      totalBytes += line.length;
    }
    groupIndex++;
  }

  return { bytes: new TextEncoder().encode(lines.join('')), recordCount: lines.length };
}

function buildBenchmarkAdt(
  prng: Prng,
  person: SamplePerson,
  context: { controlId: string; time: Date },
): string[] {
  const segments = buildAdtSegments(person, prng.pick(ADT_EVENTS), context);
  const note = createFreeText(prng, 4);
  const height = String(prng.int(150, 195));
  const weight = String(prng.int(45, 120));
  segments.push(
    hl7Segment('OBX', { 1: '1', 2: 'NM', 3: '8302-2^Height^LN', 5: height, 6: 'cm', 11: 'F' }),
    hl7Segment('OBX', { 1: '2', 2: 'NM', 3: '29463-7^Weight^LN', 5: weight, 6: 'kg', 11: 'F' }),
    hl7Segment('OBX', { 1: '3', 2: 'TX', 3: '11329-0^History^LN', 5: escapeHl7(note), 11: 'F' }),
  );
  for (let index = 1; index <= 2; index++) {
    const allergen = prng.pick(ALLERGIES);
    segments.push(hl7Segment('AL1', { 1: String(index), 2: 'DA', 3: allergen, 4: 'MO' }));
  }
  for (let index = 1; index <= 2; index++) {
    const diagnosis = escapeHl7Coded(prng.pick(DIAGNOSES));
    segments.push(hl7Segment('DG1', { 1: String(index), 3: diagnosis, 6: 'A' }));
  }
  return segments;
}

function buildBenchmarkOru(
  prng: Prng,
  person: SamplePerson,
  context: { controlId: string; time: Date },
): string[] {
  const results: SampleResult[] = [
    ...createLabResults(prng, 10),
    { valueType: 'TX', code: '8251-1', display: 'Service comment', value: createFreeText(prng, 3) },
  ];
  const notes = [createFreeText(prng, 2), createFreeText(prng, 1)];
  return buildOruSegments(person, context, results, notes);
}

/** Escapes the text of a coded value but keeps its component separators. */
function escapeHl7Coded(coded: string): string {
  return coded.split('^').map(escapeHl7).join('^');
}

function checkOptions(options: CorpusOptions): number {
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed)) {
    throw new RangeError('seed must be an integer');
  }
  if (!Number.isFinite(options.approxBytes) || options.approxBytes < 1) {
    throw new RangeError('approxBytes must be a positive number');
  }
  return seed;
}
