import { Buffer } from 'node:buffer';

import { unwrapDataKey, wrapDataKey } from '../transforms/crypto/index.js';
import { PipelineError } from './errors.js';

/** A key wrapped by a KEK provider, as stored in a batch key row. */
export interface WrappedKeyRecord {
  /** Which KEK: the local key file's id, or the Key Vault key URL without version. */
  kekId: string;
  /** Which version of it: `'3'` for the key file, the vault's version string for Key Vault. */
  kekVersion: string;
  /** `A256GCM` (key file) or `RSA-OAEP-256` (Key Vault). */
  wrapAlg: string;
  /** Base64 of the wrapped key; for `A256GCM`, the 12-byte nonce, then ciphertext and tag. */
  wrappedKey: string;
}

/**
 * Wraps and unwraps 32-byte keys under a key-encryption key (KEK) that the provider holds. The
 * pipeline never sees a Key Vault KEK; it only sends keys to be wrapped or unwrapped.
 */
export interface KekProvider {
  /** `local` (key file) or `key-vault`. */
  readonly kind: 'local' | 'key-vault';
  /** The KEK's id, as recorded in `WrappedKeyRecord.kekId`. */
  readonly kekId: string;
  /** The version new keys are wrapped under; asked every time, since `keys rotate` moves it. */
  currentVersion(): Promise<string>;
  /**
   * Wraps a key under the current KEK version.
   *
   * @param key - 32 bytes
   * @param context - what the key belongs to; bound as associated data where the algorithm allows
   */
  wrapKey(key: Uint8Array, context: string): Promise<WrappedKeyRecord>;
  /**
   * Unwraps a key wrapped by this provider under any version it still holds.
   *
   * @param record - as returned by `wrapKey`
   * @param context - the same context given to `wrapKey`
   */
  unwrapKey(record: WrappedKeyRecord, context: string): Promise<Uint8Array>;
}

/** The key file's KEK versions, as `LocalKekProvider` reads them. */
export interface LocalKekSource {
  encryptionKeyId: string;
  currentKeyVersion: number;
  keyEncryptionKeys: Record<number, Uint8Array>;
}

/**
 * A KEK provider over the local key file: AES-256-GCM key wrap with a random nonce and the
 * context as associated data. It reads the key ring's fields on every call, so a ring updated by
 * `keys rotate` in this process takes effect at once.
 *
 * @param source - the key ring (or anything with its KEK fields)
 */
export function createLocalKekProvider(source: LocalKekSource): KekProvider {
  return {
    kind: 'local',
    get kekId() {
      return source.encryptionKeyId;
    },
    currentVersion: async () => String(source.currentKeyVersion),

    wrapKey: async (key, context) => {
      const version = source.currentKeyVersion;
      const wrapped = wrapDataKey(source.keyEncryptionKeys[version], key, context);
      const packed = Buffer.concat([
        Buffer.from(wrapped.wrapNonce, 'base64'),
        Buffer.from(wrapped.wrappedKey, 'base64'),
      ]);
      return {
        kekId: source.encryptionKeyId,
        kekVersion: String(version),
        wrapAlg: 'A256GCM',
        wrappedKey: packed.toString('base64'),
      };
    },

    unwrapKey: async (record, context) => {
      const kek = source.keyEncryptionKeys[Number(record.kekVersion)];
      if (record.kekId !== source.encryptionKeyId || record.wrapAlg !== 'A256GCM' || !kek) {
        throw new PipelineError(
          'KEY_UNKNOWN',
          'The key file has no KEK for this kekId and version',
        );
      }
      const packed = Buffer.from(record.wrappedKey, 'base64');
      const wrapped = {
        wrapNonce: packed.subarray(0, 12).toString('base64'),
        wrappedKey: packed.subarray(12).toString('base64'),
      };
      try {
        return unwrapDataKey(kek, wrapped, context);
      } catch (cause) {
        throw new PipelineError(
          'KEY_PROVIDER_FAILED',
          'A wrapped key did not authenticate under the KEK',
          {
            cause,
          },
        );
      }
    },
  };
}
