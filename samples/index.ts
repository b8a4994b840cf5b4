export { generateFhirNdjson, generateHl7Corpus } from './corpus.js';
export type { Corpus, CorpusOptions } from './corpus.js';
export {
  DEFAULT_SAMPLES_DIR,
  generateSamples,
  listSampleIdentifiers,
  writeSamples,
} from './generate.js';
export type { GenerateSamplesOptions, SampleFile } from './generate.js';
export { createPrng } from './prng.js';
export type { Prng } from './prng.js';
