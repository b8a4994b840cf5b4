import { escapeHl7, hl7HeaderSegment, hl7Segment } from './hl7-text.js';
import type { SamplePerson } from './people.js';
import { SAMPLE_AREA_CODE, SAMPLE_CITY, SAMPLE_POSTAL_CODE, SAMPLE_STATE } from './people.js';
import { formatHl7Time, toHl7Date } from './sample-time.js';

/** The facility name has an ampersand, so every PV1 carries an `\T\` escape. */
export const SAMPLE_FACILITY = 'Testville General & Clinics';

/** ADT events the samples use; A04 and A08 share the ADT_A01 structure (HL7 v2.5.1 3.3). */
export type AdtEvent = 'A01' | 'A04' | 'A08';

/** One OBX to write. */
export interface SampleResult {
  valueType: 'NM' | 'TX';
  /** LOINC code and display. */
  code: string;
  display: string;
  /** Plain text; escaped when written. */
  value: string;
  units?: string;
  referenceRange?: string;
  abnormalFlag?: string;
}

/** Where and when a message was sent. */
export interface MessageContext {
  /** MSH-10. Synthetic, but still never logged by the pipeline. */
  controlId: string;
  time: Date;
}

/** Options for {@link buildHl7BatchFile}. */
export interface Hl7BatchFileOptions {
  /** Segment terminator: `\r` as the standard says, or `\n` as some feeds send. */
  terminator: string;
  time: Date;
  fileControlId: string;
  /** BTS-1 to write instead of the true message count; only for files meant to be rejected. */
  declaredMessageCount?: number;
}

/**
 * Builds the segments of an ADT message: MSH, EVN, PID, NK1 and PV1.
 *
 * @param person - the patient
 * @param event - the trigger event
 * @param context - MSH-10 and the message time
 */
export function buildAdtSegments(
  person: SamplePerson,
  event: AdtEvent,
  context: MessageContext,
): string[] {
  const time = formatHl7Time(context.time);
  return [
    buildMsh('FAKEADT', 'TESTHOSP', `ADT^${event}^ADT_A01`, context),
    hl7Segment('EVN', { 1: event, 2: time }),
    buildPid(person),
    buildNk1(person),
    buildPv1(person, event === 'A04' ? 'O' : 'I', time),
  ];
}

/**
 * Builds the segments of an ORU^R01 message: MSH, PID, PV1, ORC, OBR, one OBX per result and
 * one NTE per note.
 *
 * @param person - the patient
 * @param context - MSH-10 and the message time
 * @param results - the OBX segments to write, in order
 * @param notes - free-text NTE comments on the order
 */
export function buildOruSegments(
  person: SamplePerson,
  context: MessageContext,
  results: readonly SampleResult[],
  notes: readonly string[],
): string[] {
  const time = formatHl7Time(context.time);
  const placerNumber = `ORD${context.controlId}`;
  const fillerNumber = `FIL${context.controlId}`;
  return [
    buildMsh('FAKELAB', 'TESTLAB', 'ORU^R01^ORU_R01', context),
    buildPid(person),
    buildPv1(person, 'O', time),
    hl7Segment('ORC', { 1: 'RE', 2: placerNumber, 3: fillerNumber }),
    hl7Segment('OBR', {
      1: '1',
      2: placerNumber,
      3: fillerNumber,
      4: '24323-8^Comprehensive metabolic panel^LN',
      7: time,
      25: 'F',
    }),
    ...results.map((result, index) => buildObx(result, index + 1, time)),
    ...notes.map((note, index) =>
      hl7Segment('NTE', { 1: String(index + 1), 2: 'L', 3: escapeHl7(note) }),
    ),
  ];
}

/**
 * Wraps messages in one batch inside one file: FHS, BHS, the messages, BTS and FTS. BTS-1 counts
 * the messages and FTS-1 the batches (HL7 v2.5.1 section 2.10.3).
 *
 * @param messages - each message as its segments
 * @param options - terminator, header time and control id, and an optional wrong count
 */
export function buildHl7BatchFile(
  messages: readonly string[][],
  options: Hl7BatchFileOptions,
): string {
  const time = formatHl7Time(options.time);
  const header = { 3: 'FAKEADT', 4: 'TESTHOSP', 5: 'PHIINGEST', 6: 'TESTDEST', 7: time };
  const segments = [
    hl7HeaderSegment('FHS', { ...header, 11: options.fileControlId }),
    hl7HeaderSegment('BHS', { ...header, 11: `${options.fileControlId}-1` }),
    ...messages.flat(),
    hl7Segment('BTS', { 1: String(options.declaredMessageCount ?? messages.length) }),
    hl7Segment('FTS', { 1: '1' }),
  ];
  return joinSegments(segments, options.terminator);
}

/**
 * Joins segments into message or file text, ending every segment with the terminator.
 *
 * @param segments - segment strings without terminators
 * @param terminator - `\r` or `\n`
 */
export function joinSegments(segments: readonly string[], terminator: string): string {
  return segments.map((segment) => segment + terminator).join('');
}

/**
 * Builds an XCN-style phone for PID-13 and NK1-5: the fictional number with an area code.
 *
 * @param phone - `555-01xx`
 */
export function formatHl7Phone(phone: string): string {
  return `(${SAMPLE_AREA_CODE})${phone}^PRN^PH`;
}

function buildMsh(
  sendingApplication: string,
  sendingFacility: string,
  messageType: string,
  context: MessageContext,
): string {
  return hl7HeaderSegment('MSH', {
    3: sendingApplication,
    4: sendingFacility,
    5: 'PHIINGEST',
    6: 'TESTDEST',
    7: formatHl7Time(context.time),
    9: messageType,
    10: context.controlId,
    11: 'P',
    12: '2.5.1',
  });
}

function buildPid(person: SamplePerson): string {
  return hl7Segment('PID', {
    1: '1',
    // PID-3 repeats: the medical record number first, then the account number.
    3: `${person.mrn}^^^TESTHOSP^MR~${person.accountNumber}^^^TESTHOSP^AN`,
    5: `${person.familyName}^${person.givenName}^${person.middleInitial}`,
    7: toHl7Date(person.birthDate),
    8: person.sex,
    11: buildAddress(person),
    13: `${formatHl7Phone(person.phone)}~^NET^Internet^${person.email}`,
    18: `${person.accountNumber}^^^TESTHOSP^AN`,
    19: person.ssn,
  });
}

function buildNk1(person: SamplePerson): string {
  const kin = person.nextOfKin;
  return hl7Segment('NK1', {
    1: '1',
    2: `${kin.familyName}^${kin.givenName}`,
    3: `${kin.relationshipCode}^${kin.relationship}^HL70063`,
    4: buildAddress(person),
    5: formatHl7Phone(kin.phone),
  });
}

function buildPv1(person: SamplePerson, patientClass: string, time: string): string {
  return hl7Segment('PV1', {
    1: '1',
    2: patientClass,
    3: `WARD2^214^B^${escapeHl7(SAMPLE_FACILITY)}`,
    7: '4821^Doctor^Sample^^^Dr',
    10: 'MED',
    19: person.visitNumber,
    44: time,
  });
}

function buildObx(result: SampleResult, setId: number, time: string): string {
  return hl7Segment('OBX', {
    1: String(setId),
    2: result.valueType,
    3: `${result.code}^${escapeHl7(result.display)}^LN`,
    5: escapeHl7(result.value),
    6: result.units === undefined ? '' : `${result.units}^${result.units}^UCUM`,
    7: result.referenceRange ?? '',
    8: result.abnormalFlag ?? '',
    11: 'F',
    14: time,
  });
}

function buildAddress(person: SamplePerson): string {
  return `${person.street}^^${SAMPLE_CITY}^${SAMPLE_STATE}^${SAMPLE_POSTAL_CODE}^USA^H`;
}
