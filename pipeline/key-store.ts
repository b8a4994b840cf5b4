import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import { PipelineError } from './errors.js';
import { createLocalKekProvider, type KekProvider } from './kek-provider.js';

/** Key material a batch needs. Never logged; only `TaskKeys` cross to worker threads. */
export interface KeyRing {
  /** Names the local key encryption key. */
  encryptionKeyId: string;
  /** The version new batch keys are wrapped under (local provider). */
  currentKeyVersion: number;
  /** Every local key encryption key version, so older batch keys still unwrap. */
  keyEncryptionKeys: Record<number, Uint8Array>;
  /** HMAC key for pseudonyms; it never rotates, or pseudonyms would stop joining. */
  pseudonymKey: Uint8Array;
  /** Ed25519 key that signs manifests and audit events. */
  signingKey: KeyObject;
  /** Id of `signingKey`: the first 16 hex digits of the SHA-256 of its public key. */
  signingKeyId: string;
  /** Public keys that verify signatures, by id; includes the current one. */
  verifyKeys: Record<string, KeyObject>;
  /** Wraps batch keys: the key file's KEK, or Azure Key Vault when configured. */
  kekProvider: KekProvider;
}

interface KeyFile {
  formatVersion: 1;
  encryptionKeyId: string;
  currentKeyVersion: number;
  keyEncryptionKeys: Record<string, string>;
  pseudonymKey: string;
  /** Ed25519 private keys, PKCS#8 DER in base64, by key id. Added to older files on load. */
  signingKeys?: Record<string, string>;
  currentSigningKeyId?: string;
  createdAt: string;
}

/**
 * Loads the local key file, creating it (mode 0600) when it does not exist. A file that other
 * users can read is refused: the keys in it unlock every batch.
 *
 * @param keyFile - path of the key file
 * @param options - `create: false` makes a missing file an error instead
 */
export function loadOrCreateKeyRing(keyFile: string, options: { create?: boolean } = {}): KeyRing {
  let created = false;
  try {
    statSync(keyFile);
  } catch {
    if (options.create === false) {
      throw new PipelineError('KEY_FILE_INVALID', 'Key file not found; run phi-ingest keys init');
    }
    writeNewKeyFile(keyFile, 'wx');
    created = true;
  }

  if (!created) {
    assertPrivate(keyFile);
  }
  let file = parseKeyFile(readFileSync(keyFile, 'utf8'));
  if (!file.signingKeys || !file.currentSigningKeyId) {
    // Key files from before signing existed get a signing key once, in place.
    file = withLock(keyFile, () => {
      const latest = parseKeyFile(readFileSync(keyFile, 'utf8'));
      if (!latest.signingKeys || !latest.currentSigningKeyId) {
        Object.assign(latest, newSigningKey());
        replaceKeyFile(keyFile, latest);
      }
      return latest;
    });
  }
  return toKeyRing(file);
}

/**
 * Creates a new key file with mode 0600 for `phi-ingest keys init`. Refuses to replace one:
 * losing a key file loses every batch it protects.
 *
 * @param keyFile - path of the key file
 */
export function initKeyFile(keyFile: string): KeyRing {
  try {
    statSync(keyFile);
    throw new PipelineError('KEY_FILE_EXISTS', 'A key file already exists; it is never replaced');
  } catch (error) {
    if (error instanceof PipelineError) {
      throw error;
    }
  }
  writeNewKeyFile(keyFile, 'wx');
  return loadOrCreateKeyRing(keyFile, { create: false });
}

/**
 * Adds a new local KEK version and makes it current. Older versions stay, so batch keys wrapped
 * under them still unwrap until `keys rewrap` moves them.
 *
 * @param keyFile - path of the key file
 * @returns the new version
 */
export function rotateKeyFile(keyFile: string): number {
  assertPrivate(keyFile);
  return withLock(keyFile, () => {
    const file = parseKeyFile(readFileSync(keyFile, 'utf8'));
    const versions = Object.keys(file.keyEncryptionKeys).map(Number);
    const next = Math.max(...versions) + 1;
    file.keyEncryptionKeys[String(next)] = randomBytes(32).toString('base64');
    file.currentKeyVersion = next;
    replaceKeyFile(keyFile, file);
    return next;
  });
}

function assertPrivate(keyFile: string): void {
  const mode = statSync(keyFile).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new PipelineError(
      'KEY_FILE_PERMISSIONS',
      `Key file permissions are ${mode.toString(8)}; they must be 600 (chmod 600 the key file)`,
    );
  }
}

function writeNewKeyFile(keyFile: string, flag: 'wx'): void {
  mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
  const content: KeyFile = {
    formatVersion: 1,
    encryptionKeyId: `local-${randomBytes(4).toString('hex')}`,
    currentKeyVersion: 1,
    keyEncryptionKeys: { '1': randomBytes(32).toString('base64') },
    pseudonymKey: randomBytes(32).toString('base64'),
    ...newSigningKey(),
    createdAt: new Date().toISOString(),
  };
  // 'wx': never overwrite a key file another process created a moment ago.
  try {
    writeFileSync(keyFile, JSON.stringify(content, null, 2) + '\n', { mode: 0o600, flag });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw error;
    }
  }
}

/** Writes a complete new file beside the old one, then renames it over: never a half file. */
function replaceKeyFile(keyFile: string, file: KeyFile): void {
  const temporary = `${keyFile}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, JSON.stringify(file, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  renameSync(temporary, keyFile);
}

/** Serialises changes to the key file between processes; a lost KEK version loses data. */
function withLock<T>(keyFile: string, change: () => T): T {
  const lock = `${keyFile}.lock`;
  try {
    writeFileSync(lock, String(process.pid), { mode: 0o600, flag: 'wx' });
  } catch {
    throw new PipelineError(
      'KEY_FILE_INVALID',
      'The key file is locked by another command; remove the .lock file if none is running',
      { retryable: true },
    );
  }
  try {
    return change();
  } finally {
    rmSync(lock, { force: true });
  }
}

function newSigningKey(): Pick<KeyFile, 'signingKeys' | 'currentSigningKeyId'> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const keyId = signingKeyIdOf(createPublicKey(privateKey));
  const der = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
  return { signingKeys: { [keyId]: der }, currentSigningKeyId: keyId };
}

/**
 * Returns the id of an Ed25519 public key: the first 16 hex digits of the SHA-256 of its DER.
 *
 * @param publicKey - the key
 */
export function signingKeyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

function parseKeyFile(text: string): KeyFile {
  let file: KeyFile;
  try {
    file = JSON.parse(text) as KeyFile;
  } catch {
    throw new PipelineError('KEY_FILE_INVALID', 'Key file is not valid JSON');
  }
  if (file.formatVersion !== 1 || typeof file.keyEncryptionKeys !== 'object') {
    throw new PipelineError('KEY_FILE_INVALID', 'Key file has no formatVersion 1 or no KEKs');
  }
  return file;
}

function toKeyRing(file: KeyFile): KeyRing {
  const keyEncryptionKeys: Record<number, Uint8Array> = {};
  for (const [version, value] of Object.entries(file.keyEncryptionKeys)) {
    keyEncryptionKeys[Number(version)] = decodeKey(value, 'keyEncryptionKeys');
  }
  if (!keyEncryptionKeys[file.currentKeyVersion]) {
    throw new PipelineError('KEY_FILE_INVALID', 'Key file has no key for its current version');
  }

  const verifyKeys: Record<string, KeyObject> = {};
  let signingKey: KeyObject | undefined;
  for (const [keyId, der] of Object.entries(file.signingKeys ?? {})) {
    const privateKey = decodeSigningKey(der);
    verifyKeys[keyId] = createPublicKey(privateKey);
    if (keyId === file.currentSigningKeyId) {
      signingKey = privateKey;
    }
  }
  if (!signingKey || !file.currentSigningKeyId) {
    throw new PipelineError('KEY_FILE_INVALID', 'Key file has no current signing key');
  }

  const keyRing = {
    encryptionKeyId: file.encryptionKeyId,
    currentKeyVersion: file.currentKeyVersion,
    keyEncryptionKeys,
    pseudonymKey: decodeKey(file.pseudonymKey, 'pseudonymKey'),
    signingKey,
    signingKeyId: file.currentSigningKeyId,
    verifyKeys,
  } as KeyRing;
  // The provider reads the ring itself, so a rotation applied to the ring is seen at once.
  keyRing.kekProvider = createLocalKekProvider(keyRing);
  return keyRing;
}

function decodeSigningKey(der: string): KeyObject {
  try {
    const key = createPrivateKey({ key: Buffer.from(der, 'base64'), format: 'der', type: 'pkcs8' });
    if (key.asymmetricKeyType === 'ed25519') {
      return key;
    }
  } catch {
    // Fall through to the fixed message; OpenSSL's text adds nothing.
  }
  throw new PipelineError('KEY_FILE_INVALID', 'Key file entry signingKeys must hold Ed25519 keys');
}

function decodeKey(value: string, name: string): Uint8Array {
  const bytes = Buffer.from(value ?? '', 'base64');
  if (bytes.length !== 32) {
    throw new PipelineError(
      'KEY_FILE_INVALID',
      `Key file entry ${name} must be 32 bytes of base64`,
    );
  }
  return new Uint8Array(bytes);
}
