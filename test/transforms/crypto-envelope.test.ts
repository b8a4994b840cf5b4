import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import {
  createEnvelopeHeader,
  decryptEnvelope,
  DEFAULT_CHUNK_SIZE_BYTES,
  encryptEnvelope,
  generateDataKey,
  readEnvelopeHeader,
  sha256Hex,
  unwrapDataKey,
  wrapDataKey,
} from '../../transforms/crypto/index.js';
import type { EncryptEnvelopeOptions } from '../../transforms/crypto/index.js';

const KEK = generateDataKey();
const resolveKek = (): Uint8Array => KEK;

/** The test vector in docs/encryption.md; an independent implementation gave the same bytes. */
const VECTOR = {
  kek: byteRange(0x00, 32),
  dek: byteRange(0x20, 32),
  wrapNonce: byteRange(0x40, 12),
  noncePrefix: byteRange(0x50, 7),
  plaintext: 'phi-ingest envelope test vector',
  hex:
    '5048494501000001137b22616c67223a224132353647434d2d53545245414d222c226368756e6b53' +
    '697a654279746573223a31362c226e6f6e6365507265666978223a22554646535531525656673d3d' +
    '222c226b656b4964223a226b656b2d746573742d766563746f72222c226b656b56657273696f6e22' +
    '3a312c22777261707065644b6579223a227770694d4141495a6f53546c3754306474306b3964456e' +
    '3359472b4441446b555433353033717375302b514842735833316c7855514959736b594870722b30' +
    '70222c2277726170416c67223a224132353647434d222c22777261704e6f6e6365223a2251454643' +
    '51305246526b64495355704c222c2262617463684964223a2262617463682d746573742d76656374' +
    '6f72227d9e5caa90b6c6922b42dd8e2a13edebf4ae2b2b2a68f730b7db5a7d56d83daf62a4013fcb' +
    'd97dc6aee553f696e1ec7624ade93aaf16da229b26909845d79060',
};

describe('encryptEnvelope and decryptEnvelope', () => {
  const chunk = DEFAULT_CHUNK_SIZE_BYTES;
  const sizes = [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk + 5];

  it.each(sizes)('round-trips %i bytes', (size) => {
    const plaintext = randomBytes(size);
    const sealed = encryptEnvelope(plaintext, baseOptions());

    const headerBytes = readEnvelopeHeader(sealed).bytes.length;
    const chunkCount = Math.max(1, Math.ceil(size / chunk));
    expect(sealed.length).toBe(headerBytes + size + 16 * chunkCount);
    expect(Buffer.from(decryptEnvelope(sealed, resolveKek)).equals(plaintext)).toBe(true);
  });

  it('reproduces the documented test vector byte for byte', () => {
    const sealed = encryptEnvelope(Buffer.from(VECTOR.plaintext, 'utf8'), {
      dek: VECTOR.dek,
      kek: VECTOR.kek,
      kekId: 'kek-test-vector',
      kekVersion: 1,
      batchId: 'batch-test-vector',
      chunkSizeBytes: 16,
      noncePrefix: VECTOR.noncePrefix,
      wrapNonce: VECTOR.wrapNonce,
    });

    expect(Buffer.from(sealed).toString('hex')).toBe(VECTOR.hex);
    expect(Buffer.from(decryptEnvelope(sealed, () => VECTOR.kek)).toString('utf8')).toBe(
      VECTOR.plaintext,
    );
  });

  it('matches the test vector printed in docs/encryption.md', () => {
    const doc = readFileSync(new URL('../../docs/encryption.md', import.meta.url), 'utf8');

    expect(doc.replace(/\s+/g, '')).toContain(VECTOR.hex);
  });

  it('gives different bytes for the same input because nonces are random', () => {
    const plaintext = Buffer.from('same input');

    const first = encryptEnvelope(plaintext, baseOptions());
    const second = encryptEnvelope(plaintext, baseOptions());
    expect(Buffer.from(first).equals(second)).toBe(false);
  });

  it('accepts a data key wrapped once for the whole batch', () => {
    const dek = generateDataKey();
    const wrappedDataKey = wrapDataKey(KEK, dek, 'batch-1');
    const sealed = encryptEnvelope(Buffer.from('part'), {
      dek,
      wrappedDataKey,
      kekId: 'kek-1',
      kekVersion: 1,
      batchId: 'batch-1',
    });

    expect(Buffer.from(decryptEnvelope(sealed, resolveKek)).toString()).toBe('part');
  });
});

describe('tampered envelopes', () => {
  const chunkSizeBytes = 16;
  const sealedChunkBytes = chunkSizeBytes + 16;
  const plaintext = randomBytes(3 * chunkSizeBytes + 5);

  function sealSample(): { sealed: Buffer; headerBytes: number } {
    const sealed = Buffer.from(encryptEnvelope(plaintext, baseOptions({ chunkSizeBytes })));
    return { sealed, headerBytes: readEnvelopeHeader(sealed).bytes.length };
  }

  it('rejects one flipped ciphertext byte with ENVELOPE_AUTH_FAILED', () => {
    const { sealed, headerBytes } = sealSample();
    sealed[headerBytes + sealedChunkBytes + 3] ^= 0x01;

    expect(codeOf(() => decryptEnvelope(sealed, resolveKek))).toBe('ENVELOPE_AUTH_FAILED');
  });

  it('rejects a removed last chunk with ENVELOPE_TRUNCATED', () => {
    const { sealed, headerBytes } = sealSample();
    const withoutLast = sealed.subarray(0, headerBytes + 3 * sealedChunkBytes);

    expect(codeOf(() => decryptEnvelope(withoutLast, resolveKek))).toBe('ENVELOPE_TRUNCATED');
  });

  it('rejects an envelope cut inside the header with ENVELOPE_TRUNCATED', () => {
    const { sealed, headerBytes } = sealSample();

    expect(codeOf(() => decryptEnvelope(sealed.subarray(0, headerBytes - 1), resolveKek))).toBe(
      'ENVELOPE_TRUNCATED',
    );
    expect(codeOf(() => decryptEnvelope(sealed.subarray(0, headerBytes), resolveKek))).toBe(
      'ENVELOPE_TRUNCATED',
    );
  });

  it('rejects two swapped chunks with ENVELOPE_AUTH_FAILED', () => {
    const { sealed, headerBytes } = sealSample();
    const first = Buffer.from(sealed.subarray(headerBytes, headerBytes + sealedChunkBytes));
    const second = Buffer.from(sealed.subarray(headerBytes + sealedChunkBytes, headerBytes + 64));
    second.copy(sealed, headerBytes);
    first.copy(sealed, headerBytes + sealedChunkBytes);

    expect(codeOf(() => decryptEnvelope(sealed, resolveKek))).toBe('ENVELOPE_AUTH_FAILED');
  });

  it('rejects bytes appended after the final chunk with ENVELOPE_AUTH_FAILED', () => {
    const { sealed } = sealSample();
    const extended = Buffer.concat([sealed, Buffer.from([0])]);

    expect(codeOf(() => decryptEnvelope(extended, resolveKek))).toBe('ENVELOPE_AUTH_FAILED');
  });

  it('rejects an edited header field with ENVELOPE_AUTH_FAILED', () => {
    const { sealed } = sealSample();
    const edited = replaceInHeader(sealed, '"kekId":"kek-1"', '"kekId":"kek-2"');

    expect(codeOf(() => decryptEnvelope(edited, resolveKek))).toBe('ENVELOPE_AUTH_FAILED');
  });

  it('rejects a header that is no longer valid JSON with ENVELOPE_BAD_HEADER', () => {
    const { sealed } = sealSample();
    const edited = replaceInHeader(sealed, '"alg":', '"alg" ');

    expect(codeOf(() => decryptEnvelope(edited, resolveKek))).toBe('ENVELOPE_BAD_HEADER');
  });

  it('rejects unknown header fields with ENVELOPE_BAD_HEADER', () => {
    const { sealed } = sealSample();
    const edited = replaceInHeader(sealed, '"kekId":', '"note":"x","kekId":');

    expect(codeOf(() => readEnvelopeHeader(edited))).toBe('ENVELOPE_BAD_HEADER');
  });

  it('rejects a wrong KEK with ENVELOPE_AUTH_FAILED', () => {
    const { sealed } = sealSample();

    expect(codeOf(() => decryptEnvelope(sealed, () => generateDataKey()))).toBe(
      'ENVELOPE_AUTH_FAILED',
    );
  });

  it('reports a KEK the resolver does not have as ENVELOPE_UNKNOWN_KEY', () => {
    const { sealed } = sealSample();

    expect(codeOf(() => decryptEnvelope(sealed, () => undefined))).toBe('ENVELOPE_UNKNOWN_KEY');
  });

  it('rejects a wrapped key moved to another batchId with ENVELOPE_AUTH_FAILED', () => {
    const dek = generateDataKey();
    const original = readEnvelopeHeader(
      encryptEnvelope(plaintext, baseOptions({ dek, batchId: 'batch-a' })),
    ).header;
    const moved = encryptEnvelope(plaintext, {
      ...baseOptions({ dek, batchId: 'batch-b' }),
      kek: undefined,
      wrappedDataKey: { wrappedKey: original.wrappedKey, wrapNonce: original.wrapNonce },
    });

    expect(codeOf(() => decryptEnvelope(moved, resolveKek))).toBe('ENVELOPE_AUTH_FAILED');
  });

  it('rejects other magic bytes with ENVELOPE_BAD_MAGIC', () => {
    const { sealed } = sealSample();
    sealed[0] = 0x7b;

    expect(codeOf(() => decryptEnvelope(sealed, resolveKek))).toBe('ENVELOPE_BAD_MAGIC');
  });

  it('rejects another format version with ENVELOPE_UNSUPPORTED_VERSION', () => {
    const { sealed } = sealSample();
    sealed[4] = 2;

    expect(codeOf(() => decryptEnvelope(sealed, resolveKek))).toBe('ENVELOPE_UNSUPPORTED_VERSION');
  });

  it('keeps crypto library text out of error messages', () => {
    const { sealed, headerBytes } = sealSample();
    sealed[headerBytes] ^= 0x80;

    const error = errorOf(() => decryptEnvelope(sealed, resolveKek));
    expect(error.message).toBe('Chunk did not authenticate');
    expect(error).not.toHaveProperty('cause');
  });
});

describe('createEnvelopeHeader and readEnvelopeHeader', () => {
  it('writes PHIE, version 1, the JSON length and only key metadata', () => {
    const { bytes, header } = createEnvelopeHeader(baseOptions({ batchId: 'batch-7' }));
    const view = Buffer.from(bytes);

    expect(view.subarray(0, 4).toString('latin1')).toBe('PHIE');
    expect(view[4]).toBe(1);
    expect(view.readUInt32BE(5)).toBe(bytes.length - 9);
    expect(Object.keys(header)).toEqual([
      'alg',
      'chunkSizeBytes',
      'noncePrefix',
      'kekId',
      'kekVersion',
      'wrappedKey',
      'wrapAlg',
      'wrapNonce',
      'batchId',
    ]);
    expect(readEnvelopeHeader(bytes).header).toEqual(header);
  });

  it('names the option that is wrong', () => {
    expect(errorOf(() => createEnvelopeHeader(baseOptions({ chunkSizeBytes: 0 }))).message).toBe(
      'chunkSizeBytes must be an integer from 1 to 16777216',
    );
    const shortKey = new Uint8Array(16);
    expect(errorOf(() => createEnvelopeHeader(baseOptions({ dek: shortKey }))).message).toBe(
      'dek must be 32 bytes',
    );
    expect(codeOf(() => createEnvelopeHeader(baseOptions({ batchId: 'has space' })))).toBe(
      'ENVELOPE_INVALID_OPTION',
    );
  });
});

describe('wrapDataKey and unwrapDataKey', () => {
  it('round-trips a data key under the same associated data', () => {
    const dek = generateDataKey();
    const wrapped = wrapDataKey(KEK, dek, 'batch-1');

    expect(Buffer.from(unwrapDataKey(KEK, wrapped, 'batch-1')).equals(dek)).toBe(true);
    expect(codeOf(() => unwrapDataKey(KEK, wrapped, 'batch-2'))).toBe('ENVELOPE_AUTH_FAILED');
  });
});

describe('generateDataKey and sha256Hex', () => {
  it('returns 32 fresh random bytes', () => {
    expect(generateDataKey()).toHaveLength(32);
    expect(Buffer.from(generateDataKey()).equals(generateDataKey())).toBe(false);
  });

  it('hashes to lower-case hex', () => {
    expect(sha256Hex(Buffer.from('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

function baseOptions(overrides: Partial<EncryptEnvelopeOptions> = {}): EncryptEnvelopeOptions {
  return {
    dek: generateDataKey(),
    kek: KEK,
    kekId: 'kek-1',
    kekVersion: 1,
    batchId: 'batch-1',
    ...overrides,
  };
}

function byteRange(start: number, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => start + index);
}

/** Edits the header JSON and rewrites its length, as an attacker with write access could. */
function replaceInHeader(sealed: Buffer, search: string, replacement: string): Buffer {
  const jsonBytes = sealed.readUInt32BE(5);
  const json = sealed.subarray(9, 9 + jsonBytes).toString('utf8');
  expect(json).toContain(search);

  const edited = Buffer.from(json.replace(search, replacement), 'utf8');
  const preamble = Buffer.from(sealed.subarray(0, 9));
  preamble.writeUInt32BE(edited.length, 5);
  return Buffer.concat([preamble, edited, sealed.subarray(9 + jsonBytes)]);
}

function errorOf(action: () => unknown): Error & { code?: string } {
  try {
    action();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('Expected the action to throw');
}

function codeOf(action: () => unknown): string | undefined {
  return errorOf(action).code;
}
