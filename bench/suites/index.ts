import type { BenchSuite } from '../suite.js';
import { cryptoCostSuite } from './crypto-cost.js';
import { deidSuite } from './deid.js';
import { endToEndSuite } from './end-to-end.js';
import { hl7ParseSuite } from './hl7-parse.js';
import { limitsSuite } from './limits.js';
import { transformSuite } from './transform.js';

/** Every suite `npm run bench` runs, in order. Suites add themselves here. */
export const SUITES: BenchSuite[] = [
  limitsSuite,
  transformSuite,
  endToEndSuite,
  hl7ParseSuite,
  cryptoCostSuite,
  deidSuite,
];
