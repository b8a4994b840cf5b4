import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';

import { EnvelopeOpener, EnvelopeSealer } from './envelope-codec.js';
import type { KekResolver } from './envelope-codec.js';
import type { EncryptEnvelopeOptions } from './envelope-header.js';

/**
 * Returns a Transform that turns plaintext into an envelope in constant memory (one chunk).
 * Options are checked before the stream is returned, so a bad option throws here.
 *
 * @param options - data key, KEK (or the already wrapped data key), ids and chunk size
 */
export function createEncryptStream(options: EncryptEnvelopeOptions): Transform {
  const sealer = new EnvelopeSealer(options);
  return createCodecStream(
    (bytes) => sealer.push(bytes),
    () => sealer.end(),
  );
}

/**
 * Returns a Transform that turns an envelope back into plaintext in constant memory. Each chunk
 * is authenticated before it is passed on, but truncation can only show at the end: treat the
 * output as provisional until the stream finishes without an error.
 *
 * @param resolveKek - returns the KEK for the header's `kekId` and `kekVersion`
 */
export function createDecryptStream(resolveKek: KekResolver): Transform {
  const opener = new EnvelopeOpener(resolveKek);
  return createCodecStream(
    (bytes) => opener.push(bytes),
    () => opener.end(),
  );
}

function createCodecStream(
  push: (bytes: Uint8Array) => Uint8Array[],
  end: () => Uint8Array[],
): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        for (const out of push(chunk)) {
          this.push(out);
        }
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },

    flush(callback: TransformCallback) {
      try {
        for (const out of end()) {
          this.push(out);
        }
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}
