import type { BenchSuite } from '../suite.js';
import { limitsSuite } from './limits.js';

/** Every suite `npm run bench` runs, in order. Suites add themselves here. */
export const SUITES: BenchSuite[] = [
  limitsSuite,
];
