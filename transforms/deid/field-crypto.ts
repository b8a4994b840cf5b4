import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';

/*
 * The `encrypt` method: AES-256-GCM with the field's name as associated data, so a value moved
 * to another field does not decrypt. The key is derived from the pseudonym key with HKDF-SHA256
 * under its own label, so it never equals the HMAC key it comes from. The IV is derived from the
 * field and the value (a synthetic IV), which makes output reproducible: the same input, key and
 * rules give the same bytes, as a crash and retry must. The cost is that equal values in the
 * same field give equal ciphertexts, which a reader can see; it cannot read the values.
 */

/** Prefix of every encrypted value: version 1 of this layout. */
export const ENCRYPTED_PREFIX = 'enc1:';

const KEY_LABEL = 'phi-ingest field encryption key v1';
const IV_LABEL = 'phi-ingest field encryption iv v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The two keys one pseudonym key gives; derive once per worker and rules set. */
export interface FieldKeys {
  encryptionKey: Uint8Array;
  ivKey: Uint8Array;
}

/**
 * Derives the field encryption keys from the pseudonym key.
 *
 * @param pseudonymKey - the HMAC key from the key store
 */
export function deriveFieldKeys(pseudonymKey: Uint8Array): FieldKeys {
  const derive = (label: string): Uint8Array =>
    new Uint8Array(hkdfSync('sha256', pseudonymKey, new Uint8Array(0), label, 32));
  return { encryptionKey: derive(KEY_LABEL), ivKey: derive(IV_LABEL) };
}

/**
 * Encrypts one value: `enc1:` then base64url of IV, ciphertext and tag.
 *
 * @param keys - from {@link deriveFieldKeys}
 * @param field - names the field (`hl7:PID-5`, `fhir:Patient.name`); bound as associated data
 * @param value - the plaintext
 */
export function encryptField(keys: FieldKeys, field: string, value: string): string {
  return ENCRYPTED_PREFIX + sealField(keys, field, value).toString('base64url');
}

/**
 * Encrypts one value into IV, ciphertext and tag, for fields that hold bytes (base64).
 *
 * @param keys - from {@link deriveFieldKeys}
 * @param field - names the field; bound as associated data
 * @param value - the plaintext
 */
export function sealField(keys: FieldKeys, field: string, value: string): Buffer {
  const plaintext = Buffer.from(value, 'utf8');
  const iv = createHmac('sha256', keys.ivKey)
    .update(field)
    .update('\u0000')
    .update(plaintext)
    .digest()
    .subarray(0, IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keys.encryptionKey, iv);
  cipher.setAAD(Buffer.from(field, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, ciphertext, cipher.getAuthTag()]);
}

/**
 * Decrypts bytes from {@link sealField}; `undefined` when the field or key does not match.
 *
 * @param keys - from {@link deriveFieldKeys}
 * @param field - the field name it was encrypted for
 * @param sealed - IV, ciphertext and tag
 */
export function openField(keys: FieldKeys, field: string, sealed: Uint8Array): string | undefined {
  if (sealed.length < IV_BYTES + TAG_BYTES) {
    return undefined;
  }
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      keys.encryptionKey,
      sealed.subarray(0, IV_BYTES),
    );
    decipher.setAAD(Buffer.from(field, 'utf8'));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const body = sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * Decrypts a value from {@link encryptField}; `undefined` when it is not one, was made for
 * another field or under another key.
 *
 * @param keys - from {@link deriveFieldKeys}
 * @param field - the field name it was encrypted for
 * @param token - the `enc1:` value
 */
export function decryptField(keys: FieldKeys, field: string, token: string): string | undefined {
  if (!token.startsWith(ENCRYPTED_PREFIX)) {
    return undefined;
  }
  return openField(keys, field, Buffer.from(token.slice(ENCRYPTED_PREFIX.length), 'base64url'));
}
