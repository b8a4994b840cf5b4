import { Buffer } from 'node:buffer';

import { EnvelopeOpener, EnvelopeSealer } from './envelope-codec.js';
import type { KekResolver } from './envelope-codec.js';
import type { EncryptEnvelopeOptions } from './envelope-header.js';

/**
 * Encrypts a whole buffer into one envelope. Gives the same bytes as {@link createEncryptStream}
 * for the same options and plaintext; use the stream for anything that may be large.
 *
 * @param plaintext - the file to protect
 * @param options - data key, KEK (or the already wrapped data key), ids and chunk size
 */
export function encryptEnvelope(
  plaintext: Uint8Array,
  options: EncryptEnvelopeOptions,
): Uint8Array {
  const sealer = new EnvelopeSealer(options);
  return Buffer.concat([...sealer.push(plaintext), ...sealer.end()]);
}

/**
 * Decrypts a whole envelope after authenticating every chunk and the final-chunk flag. Throws an
 * `EnvelopeError`; branch on its `code`.
 *
 * @param bytes - the complete envelope
 * @param resolveKek - returns the KEK for the header's `kekId` and `kekVersion`
 */
export function decryptEnvelope(bytes: Uint8Array, resolveKek: KekResolver): Uint8Array {
  const opener = new EnvelopeOpener(resolveKek);
  return Buffer.concat([...opener.push(bytes), ...opener.end()]);
}
