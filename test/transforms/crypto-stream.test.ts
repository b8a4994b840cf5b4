import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { describe, expect, it } from 'vitest';

import {
  createDecryptStream,
  createEncryptStream,
  decryptEnvelope,
  encryptEnvelope,
  generateDataKey,
  readEnvelopeHeader,
} from '../../transforms/crypto/index.js';
import type { EncryptEnvelopeOptions } from '../../transforms/crypto/index.js';

const KEK = generateDataKey();
const resolveKek = (): Uint8Array => KEK;

describe('createEncryptStream', () => {
  it('encrypts 5 MB written in random-sized pieces into what decryptEnvelope reads', async () => {
    const plaintext = randomBytes(5 * 1024 * 1024);
    const options = fixedOptions();

    const sealed = await runThrough(createEncryptStream(options), splitRandomly(plaintext, 7));

    expect(Buffer.from(decryptEnvelope(sealed, resolveKek)).equals(plaintext)).toBe(true);
    expect(sealed.equals(encryptEnvelope(plaintext, options))).toBe(true);
  });

  it('writes the header and one empty final chunk when nothing is written', async () => {
    const sealed = await runThrough(createEncryptStream(fixedOptions()), []);

    expect(sealed.length).toBe(readEnvelopeHeader(sealed).bytes.length + 16);
    expect(decryptEnvelope(sealed, resolveKek)).toHaveLength(0);
  });

  it('throws on bad options before any stream exists', () => {
    expect(() => createEncryptStream({ ...fixedOptions(), kekVersion: 0 })).toThrow(
      'kekVersion must be a positive integer',
    );
  });
});

describe('createDecryptStream', () => {
  it('decrypts an envelope fed one byte at a time', async () => {
    const plaintext = randomBytes(5000);
    const sealed = encryptEnvelope(plaintext, { ...fixedOptions(), chunkSizeBytes: 1024 });
    const bytes = Array.from(sealed, (byte) => Buffer.from([byte]));

    const decrypted = await runThrough(createDecryptStream(resolveKek), bytes);

    expect(decrypted.equals(plaintext)).toBe(true);
  });

  it('decrypts an envelope fed in random-sized pieces', async () => {
    const plaintext = randomBytes(300_000);
    const sealed = encryptEnvelope(plaintext, fixedOptions());

    const decrypted = await runThrough(createDecryptStream(resolveKek), splitRandomly(sealed, 3));

    expect(decrypted.equals(plaintext)).toBe(true);
  });

  it('fails with ENVELOPE_TRUNCATED when the stream stops before the final chunk', async () => {
    const plaintext = randomBytes(3 * 1024 + 5);
    const sealed = encryptEnvelope(plaintext, { ...fixedOptions(), chunkSizeBytes: 1024 });
    const withoutLast = sealed.subarray(0, sealed.length - (5 + 16));

    await expect(runThrough(createDecryptStream(resolveKek), [withoutLast])).rejects.toMatchObject({
      code: 'ENVELOPE_TRUNCATED',
    });
  });

  it('fails with ENVELOPE_BAD_MAGIC as soon as the first bytes are wrong', async () => {
    const decrypt = createDecryptStream(resolveKek);
    const failure = new Promise((resolve) => decrypt.once('error', resolve));

    decrypt.write(Buffer.from('MSH|'));

    await expect(failure).resolves.toMatchObject({ code: 'ENVELOPE_BAD_MAGIC' });
  });
});

function fixedOptions(): EncryptEnvelopeOptions {
  return {
    dek: generateDataKey(),
    kek: KEK,
    kekId: 'kek-1',
    kekVersion: 1,
    batchId: 'batch-1',
    noncePrefix: randomBytes(7),
    wrapNonce: randomBytes(12),
  };
}

async function runThrough(stream: Transform, pieces: Iterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(pieces), stream, async (source: AsyncIterable<Buffer>) => {
    for await (const piece of source) {
      out.push(piece);
    }
  });
  return Buffer.concat(out);
}

/** Splits bytes into pieces of 1 byte to 200 KB; the seed makes a failure reproducible. */
function splitRandomly(bytes: Uint8Array, seed: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let state = seed;
  for (let offset = 0; offset < bytes.length;) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const size = 1 + (state % 200_000);
    pieces.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return pieces;
}
