import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

import { decodeBase64Exact, encodeBase64 } from './base64.js';
import { EnvelopeError } from './envelope-error.js';

/** AES-256 keys, both the data key (DEK) and the key-encryption key (KEK). */
export const KEY_BYTES = 32;

/** GCM nonce length for the key wrap. */
export const WRAP_NONCE_BYTES = 12;

/** GCM tag length; always the full 16 bytes, so no truncated tag is ever accepted. */
export const GCM_TAG_BYTES = 16;

/** A data key encrypted under a KEK, as it is stored in an envelope header. */
export interface WrappedDataKey {
  /** Base64 of the encrypted DEK followed by the 16-byte GCM tag (48 bytes). */
  wrappedKey: string;
  /** Base64 of the 12-byte GCM nonce used for the wrap. */
  wrapNonce: string;
}

/** Options for {@link wrapDataKey}. */
export interface WrapDataKeyOptions {
  /**
   * Fixed wrap nonce, for test vectors only. Reusing a nonce under one KEK breaks GCM, so
   * production code leaves this unset and gets 12 random bytes.
   */
  wrapNonce?: Uint8Array;
}

/**
 * Returns a new random 256-bit data key. Use one per batch; never reuse one across batches.
 */
export function generateDataKey(): Uint8Array {
  return randomBytes(KEY_BYTES);
}

/**
 * Encrypts a data key under a KEK with AES-256-GCM. The associated data binds the wrapped key to
 * its context (the batch id), so a wrapped key copied into another batch's header fails to unwrap.
 *
 * @param kek - the 32-byte key-encryption key
 * @param dek - the 32-byte data key to protect
 * @param aad - context the wrap is bound to; the envelope passes the batch id, or `''`
 * @param options - test-only overrides
 */
export function wrapDataKey(
  kek: Uint8Array,
  dek: Uint8Array,
  aad: string,
  options: WrapDataKeyOptions = {},
): WrappedDataKey {
  assertKeyLength(kek, 'kek must be 32 bytes');
  assertKeyLength(dek, 'dek must be 32 bytes');
  const wrapNonce = options.wrapNonce ?? randomBytes(WRAP_NONCE_BYTES);
  if (wrapNonce.length !== WRAP_NONCE_BYTES) {
    throw new EnvelopeError('ENVELOPE_INVALID_OPTION', 'wrapNonce must be 12 bytes');
  }

  const cipher = createCipheriv('aes-256-gcm', kek, wrapNonce, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const sealed = Buffer.concat([cipher.update(dek), cipher.final(), cipher.getAuthTag()]);

  return { wrappedKey: encodeBase64(sealed), wrapNonce: encodeBase64(wrapNonce) };
}

/**
 * Recovers a data key wrapped by {@link wrapDataKey}. A wrong KEK, an edited wrapped key or a
 * different `aad` all fail the same way, with `ENVELOPE_AUTH_FAILED`.
 *
 * @param kek - the 32-byte key-encryption key named in the header
 * @param wrapped - the wrapped key and its nonce, as base64
 * @param aad - the same context string given when wrapping
 */
export function unwrapDataKey(kek: Uint8Array, wrapped: WrappedDataKey, aad: string): Uint8Array {
  assertKeyLength(kek, 'kek must be 32 bytes');
  const sealed = decodeBase64Exact(wrapped.wrappedKey, KEY_BYTES + GCM_TAG_BYTES);
  const wrapNonce = decodeBase64Exact(wrapped.wrapNonce, WRAP_NONCE_BYTES);
  if (sealed === undefined || wrapNonce === undefined) {
    throw new EnvelopeError(
      'ENVELOPE_BAD_HEADER',
      'Expected a 48-byte wrappedKey and a 12-byte wrapNonce',
    );
  }

  const decipher = createDecipheriv('aes-256-gcm', kek, wrapNonce, {
    authTagLength: GCM_TAG_BYTES,
  });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(KEY_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, KEY_BYTES)), decipher.final()]);
  } catch {
    // OpenSSL's text adds nothing here and must not reach logs; the code says it all.
    throw new EnvelopeError('ENVELOPE_AUTH_FAILED', 'Data key did not authenticate under the KEK');
  }
}

function assertKeyLength(key: Uint8Array, message: string): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new EnvelopeError('ENVELOPE_INVALID_OPTION', message);
  }
}
