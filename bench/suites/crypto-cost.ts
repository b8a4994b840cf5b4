import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

import { encryptEnvelope } from '../../transforms/crypto/index.js';
import { generateFhirNdjson, generateHl7Corpus } from '../../samples/index.js';
import type { TransformOutcome } from '../../workers/task-types.js';
import { prepareHl7, prepareNdjson, transformRecords } from '../../workers/records.js';
import { measure } from '../measure.js';
import type { BenchFigure, BenchSuite } from '../suite.js';

/** Records per task, as `PHI_INGEST_TASK_MAX_RECORDS` defaults. */
const TASK_RECORDS = 500;

/**
 * What encryption and hashing cost next to the transform stage, on one thread, on the bytes a
 * batch really seals: the gzipped output parts and the gzipped archive copy of the source, plus
 * the SHA-256 of the source and of every sealed object. Also the same cost had nothing been
 * compressed, as an upper bound. The budget is 5% of the transform stage.
 */
export const cryptoCostSuite: BenchSuite = {
  name: 'crypto-cost',
  description: 'encryption + hashing as a share of the transform stage (single thread)',
  async run(options) {
    const approxBytes = options.sizeMb * 1e6;
    const corpora = [
      ['hl7v2', Buffer.from(generateHl7Corpus({ seed: options.seed, approxBytes }).bytes)],
      ['ndjson', Buffer.from(generateFhirNdjson({ seed: options.seed, approxBytes }).bytes)],
    ] as const;
    const figures: BenchFigure[] = [];

    for (const [format, source] of corpora) {
      const ctx = { pseudonymKey: new Uint8Array(randomBytes(32)) };
      let outputs: string[] = [];
      const transform = await measure(() => {
        outputs = transformOnce(format, source, ctx);
      }, source.length);

      // What processBatch seals: each output part and the archive, gzipped first.
      const sealedInputs = [
        ...outputs.map((text) => gzipSync(Buffer.from(text), { level: 6 })),
        gzipSync(source, { level: 6 }),
      ];
      const plainInputs = [...outputs.map((text) => Buffer.from(text)), source];
      const kek = randomBytes(32);
      const sealAndHash = (inputs: Buffer[]) => () => {
        createHash('sha256').update(source).digest('hex');
        const dek = randomBytes(32);
        for (const input of inputs) {
          const sealed = encryptEnvelope(input, {
            dek,
            kek,
            kekId: 'batch:bench',
            kekVersion: 1,
            batchId: 'bench',
          });
          createHash('sha256').update(sealed).digest('hex');
        }
      };
      const crypto = await measure(sealAndHash(sealedInputs), source.length);
      const cryptoUncompressed = await measure(sealAndHash(plainInputs), source.length);

      const share = crypto.seconds / transform.seconds;
      const shareUncompressed = cryptoUncompressed.seconds / transform.seconds;
      const details = {
        sourceBytes: source.length,
        transformMs: Math.round(transform.seconds * 1000),
      };
      figures.push(
        {
          name: `crypto-cost.${format}.transform`,
          label: `${format} transform stage`,
          value: transform.mbPerSec,
          unit: 'MB/s',
          details,
        },
        {
          name: `crypto-cost.${format}.share`,
          label: `${format} encrypt+hash / transform`,
          value: share,
          unit: 'ratio',
          details: {
            cryptoMs: Math.round(crypto.seconds * 1000),
            sealedBytes: sum(sealedInputs),
            percent: (share * 100).toFixed(2),
          },
        },
        {
          name: `crypto-cost.${format}.share-uncompressed`,
          label: `${format} same, nothing compressed`,
          value: shareUncompressed,
          unit: 'ratio',
          details: {
            cryptoMs: Math.round(cryptoUncompressed.seconds * 1000),
            sealedBytes: sum(plainInputs),
            percent: (shareUncompressed * 100).toFixed(2),
          },
        },
      );
    }
    return figures;
  },
};

/** Prepare and transform the whole corpus in task-sized runs; returns NDJSON per record type. */
function transformOnce(
  format: 'hl7v2' | 'ndjson',
  source: Buffer,
  ctx: { pseudonymKey: Uint8Array },
): string[] {
  const prepared = format === 'hl7v2' ? prepareHl7(source, false) : prepareNdjson(source);
  if (prepared.status !== 'ok') {
    throw new Error(`The generated ${format} corpus did not prepare`);
  }
  const byType = new Map<string, string[]>();
  const step = TASK_RECORDS * 2;
  for (let offset = 0; offset < prepared.ranges.length; offset += step) {
    const outcome: TransformOutcome = transformRecords(
      format,
      source,
      prepared.ranges.slice(offset, offset + step),
      offset / 2,
      ctx,
    );
    for (const group of outcome.groups) {
      const list = byType.get(group.recordType) ?? [];
      list.push(group.ndjson);
      byType.set(group.recordType, list);
    }
  }
  return [...byType.values()].map((texts) => texts.join(''));
}

function sum(buffers: Buffer[]): number {
  return buffers.reduce((total, buffer) => total + buffer.length, 0);
}
