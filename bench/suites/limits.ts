import { createCipheriv, createHash, randomBytes } from 'node:crypto';

import { generateFhirNdjson, generateHl7Corpus } from '../../samples/index.js';
import {
  compressBytes,
  compressionLabel,
  DEFAULT_COMPRESSION,
  type Compression,
} from '../../transforms/compression.js';
import { chainBound, measure } from '../measure.js';
import type { BenchFigure, BenchSuite } from '../suite.js';

/** Compression settings measured beside the configured one, to justify the default. */
const COMPRESSION_CANDIDATES: Compression[] = [
  { codec: 'gzip', level: 1 },
  { codec: 'gzip', level: 6 },
  { codec: 'brotli', quality: 1 },
  { codec: 'brotli', quality: 4 },
];

/**
 * What this machine can do at best, per core, on the bytes the pipeline handles: decoding,
 * splitting, JSON, the configured compression, encryption and hashing, each alone; and the chain
 * bound they imply for a transform that must do all of them once. Also each candidate
 * compression's speed and ratio, on the input and on the NDJSON the pipeline writes.
 */
export const limitsSuite: BenchSuite = {
  name: 'limits',
  description: 'per-core limit figures on the same bytes (single thread)',
  async run(options) {
    const approxBytes = options.sizeMb * 1e6;
    const hl7 = Buffer.from(generateHl7Corpus({ seed: options.seed, approxBytes }).bytes);
    const fhir = Buffer.from(generateFhirNdjson({ seed: options.seed, approxBytes }).bytes);
    const figures: BenchFigure[] = [];

    for (const [format, bytes] of [
      ['hl7v2', hl7],
      ['fhir', fhir],
    ] as const) {
      const legs = boundLegs(format, bytes);
      const stages: Array<[string, number]> = [];
      for (const leg of legs) {
        stages.push([leg.stage, (await measure(leg.run, bytes.length)).mbPerSec]);
      }
      for (const [stage, rate] of stages) {
        figures.push({
          name: `limits.${format}.${stage}`,
          label: `${format} ${stage}`,
          value: rate,
          unit: 'MB/s',
        });
      }
      const configured = compressionLabel(DEFAULT_COMPRESSION);
      figures.push({
        name: `limits.${format}.chain-bound`,
        label: `${format} combined per-core bound`,
        value: chainBound(stages.map(([, rate]) => rate)),
        unit: 'MB/s',
        details: { inputBytes: bytes.length, compression: configured },
      });

      // What the candidates do with the text parts really hold: one JSON line per record.
      const text = new TextDecoder('utf-8').decode(bytes);
      const values =
        format === 'hl7v2' ? splitHl7(text) : splitLines(text).map((line) => JSON.parse(line));
      const ndjson = Buffer.from(
        format === 'hl7v2'
          ? values.map((segment) => JSON.stringify(segment)).join('\n')
          : values.map((value) => JSON.stringify(value)).join('\n'),
      );
      for (const candidate of COMPRESSION_CANDIDATES) {
        const label = compressionLabel(candidate);
        const rate = await measure(() => compressBytes(ndjson, candidate), ndjson.length, {
          minSeconds: 0.5,
        });
        const ratio = ndjson.length / compressBytes(ndjson, candidate).length;
        figures.push({
          name: `limits.${format}.compress.${label}`,
          label: `${format} ${label} on NDJSON`,
          value: rate.mbPerSec,
          unit: 'MB/s',
          details: { ratio: ratio.toFixed(2), ndjsonBytes: ndjson.length },
        });
      }
    }
    return figures;
  },
};

/** One leg of the chain bound: a stage alone over the whole input. */
export interface BoundLeg {
  stage: string;
  run: () => unknown;
}

/**
 * The stages whose per-core rates make the chain bound, each a pass over `bytes`: UTF-8 decode,
 * splitting (HL7 v2 to segments and fields; NDJSON to lines, then JSON parse), JSON
 * serialisation, the configured compression, AES-256-GCM and SHA-256. Legs after the first read
 * what the first leg decoded, so run them in order.
 *
 * @param format - which corpus the bytes are
 * @param bytes - the input
 */
export function boundLegs(format: 'hl7v2' | 'fhir', bytes: Buffer): BoundLeg[] {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let text = decoder.decode(bytes);
  const values =
    format === 'hl7v2' ? splitHl7(text) : splitLines(text).map((line) => JSON.parse(line));
  const key = randomBytes(32);
  return [
    { stage: 'utf8-decode', run: () => (text = decoder.decode(bytes)) },
    {
      stage: format === 'hl7v2' ? 'split-fields' : 'split-lines',
      run: () => (format === 'hl7v2' ? splitHl7(text) : splitLines(text)),
    },
    ...(format === 'fhir'
      ? [{ stage: 'json-parse', run: () => splitLines(text).map((line) => JSON.parse(line)) }]
      : []),
    {
      stage: 'json-serialise',
      run: () =>
        format === 'hl7v2'
          ? JSON.stringify(values)
          : values.map((value) => JSON.stringify(value)).join('\n'),
    },
    {
      stage: compressionLabel(DEFAULT_COMPRESSION),
      run: () => compressBytes(bytes, DEFAULT_COMPRESSION),
    },
    {
      stage: 'aes-256-gcm',
      run: () => {
        const cipher = createCipheriv('aes-256-gcm', key, randomBytes(12));
        cipher.update(bytes);
        cipher.final();
        return cipher.getAuthTag();
      },
    },
    { stage: 'sha-256', run: () => createHash('sha256').update(bytes).digest() },
  ];
}

/** The simplest split of ER7 text into segments and fields, as the figure counts it. */
function splitHl7(text: string): string[][] {
  return text.split(/\r\n|\r|\n/).map((segment) => segment.split('|'));
}

function splitLines(text: string): string[] {
  return text.split('\n').filter((line) => line.length > 0);
}
