import type { SampleVital } from './fhir-samples.js';
import type { SampleResult } from './hl7-samples.js';
import type { Prng } from './prng.js';

interface MeasureDefinition {
  code: string;
  display: string;
  unit: string;
  low: number;
  high: number;
  decimals: number;
}

const VITAL_SIGNS: readonly MeasureDefinition[] = [
  { code: '8867-4', display: 'Heart rate', unit: '/min', low: 55, high: 110, decimals: 0 },
  { code: '9279-1', display: 'Respiratory rate', unit: '/min', low: 12, high: 24, decimals: 0 },
  { code: '8310-5', display: 'Body temperature', unit: 'Cel', low: 36.1, high: 38.4, decimals: 1 },
  { code: '29463-7', display: 'Body weight', unit: 'kg', low: 45, high: 120, decimals: 1 },
  { code: '2708-6', display: 'Oxygen saturation', unit: '%', low: 91, high: 100, decimals: 0 },
];

/** Lab tests with their usual adult reference ranges; values are drawn a little wider. */
const LAB_TESTS: readonly MeasureDefinition[] = [
  { code: '2345-7', display: 'Glucose', unit: 'mg/dL', low: 70, high: 99, decimals: 0 },
  { code: '2160-0', display: 'Creatinine', unit: 'mg/dL', low: 0.6, high: 1.3, decimals: 1 },
  { code: '2823-3', display: 'Potassium', unit: 'mmol/L', low: 3.5, high: 5.1, decimals: 1 },
  { code: '2951-2', display: 'Sodium', unit: 'mmol/L', low: 136, high: 145, decimals: 0 },
  { code: '2075-0', display: 'Chloride', unit: 'mmol/L', low: 98, high: 107, decimals: 0 },
  { code: '3094-0', display: 'Urea nitrogen', unit: 'mg/dL', low: 7, high: 20, decimals: 0 },
  { code: '17861-6', display: 'Calcium', unit: 'mg/dL', low: 8.6, high: 10.3, decimals: 1 },
  { code: '1751-7', display: 'Albumin', unit: 'g/dL', low: 3.5, high: 5.2, decimals: 1 },
  { code: '6690-2', display: 'Leukocytes', unit: '10*3/uL', low: 4.5, high: 11, decimals: 1 },
  { code: '718-7', display: 'Hemoglobin', unit: 'g/dL', low: 12, high: 17.5, decimals: 1 },
];

/**
 * Clinical-sounding phrases with none of the fake names in them. Some hold HL7 separator
 * characters on purpose, so written text needs `\T\`, `\S\`, `\F\`, `\R\` and `\E\` escapes.
 */
const PHRASES = [
  'specimen received intact',
  'no hemolysis noted',
  'labs & imaging reviewed',
  'tolerating diet',
  'ambulating with assistance',
  'pain controlled on current regimen',
  'afebrile overnight',
  'wound clean and dry',
  'plan discussed at bedside',
  'score 2|10 at rest',
  'ratio 3^2 per protocol',
  'range 4~6 expected',
  'see path\\notes for details',
  'follow up in two weeks',
  'repeat panel in the morning',
  'results called to the ward',
  'sample slightly lipemic',
  'no acute distress',
];

/**
 * Draws a vital sign for a FHIR Observation.
 *
 * @param prng - the seeded generator
 */
export function createVital(prng: Prng): SampleVital {
  const definition = prng.pick(VITAL_SIGNS);
  return {
    code: definition.code,
    display: definition.display,
    value: drawValue(prng, definition),
    unit: definition.unit,
    category: 'vital-signs',
  };
}

/**
 * Draws numeric lab results (OBX NM) with reference ranges and H/L/N flags.
 *
 * @param prng - the seeded generator
 * @param count - how many; at most the number of known tests, each used once
 */
export function createLabResults(prng: Prng, count: number): SampleResult[] {
  const start = prng.int(0, LAB_TESTS.length - 1);
  return Array.from({ length: Math.min(count, LAB_TESTS.length) }, (_, index) => {
    const definition = LAB_TESTS[(start + index) % LAB_TESTS.length];
    const value = drawValue(prng, definition);
    const flag = value < definition.low ? 'L' : value > definition.high ? 'H' : 'N';
    return {
      valueType: 'NM',
      code: definition.code,
      display: definition.display,
      value: String(value),
      units: definition.unit,
      referenceRange: `${definition.low}-${definition.high}`,
      abnormalFlag: flag,
    };
  });
}

/**
 * Writes a few sentences of free text from the fixed phrases.
 *
 * @param prng - the seeded generator
 * @param sentences - how many sentences
 */
export function createFreeText(prng: Prng, sentences: number): string {
  return Array.from({ length: sentences }, () => {
    const phrase = `${prng.pick(PHRASES)}; ${prng.pick(PHRASES)}`;
    return `${phrase.charAt(0).toUpperCase()}${phrase.slice(1)}.`;
  }).join(' ');
}

function drawValue(prng: Prng, definition: MeasureDefinition): number {
  // Draw a little outside the reference range so some results are flagged.
  const spread = (definition.high - definition.low) * 0.15;
  const width = definition.high - definition.low + 2 * spread;
  const raw = definition.low - spread + prng.next() * width;
  const factor = 10 ** definition.decimals;
  return Math.round(raw * factor) / factor;
}
