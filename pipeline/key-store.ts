import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import { PipelineError } from './errors.js';

/** Key material a batch needs. It crosses to worker threads by value and is never logged. */
export interface KeyRing {
  /** Names the key encryption key; stored in every envelope header. */
  encryptionKeyId: string;
  /** The version new batches are encrypted under. */
  currentKeyVersion: number;
  /** Every key encryption key version, so older batches still decrypt. */
  keyEncryptionKeys: Record<number, Uint8Array>;
  /** HMAC key for pseudonyms; it never rotates, or pseudonyms would stop joining. */
  pseudonymKey: Uint8Array;
}

interface KeyFile {
  formatVersion: 1;
  encryptionKeyId: string;
  currentKeyVersion: number;
  keyEncryptionKeys: Record<string, string>;
  pseudonymKey: string;
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
      throw new PipelineError('KEY_FILE_INVALID', 'Key file not found; run a command that creates it');
    }
    createKeyFile(keyFile);
    created = true;
  }

  const mode = statSync(keyFile).mode & 0o777;
  if (!created && (mode & 0o077) !== 0) {
    throw new PipelineError(
      'KEY_FILE_PERMISSIONS',
      `Key file permissions are ${mode.toString(8)}; they must be 600 (chmod 600 the key file)`,
    );
  }
  return parseKeyFile(readFileSync(keyFile, 'utf8'));
}

function createKeyFile(keyFile: string): void {
  mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
  const content: KeyFile = {
    formatVersion: 1,
    encryptionKeyId: `local-${randomBytes(4).toString('hex')}`,
    currentKeyVersion: 1,
    keyEncryptionKeys: { '1': randomBytes(32).toString('base64') },
    pseudonymKey: randomBytes(32).toString('base64'),
    createdAt: new Date().toISOString(),
  };
  // 'wx': never overwrite a key file another process created a moment ago.
  try {
    writeFileSync(keyFile, JSON.stringify(content, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw error;
    }
  }
}

function parseKeyFile(text: string): KeyRing {
  let file: KeyFile;
  try {
    file = JSON.parse(text) as KeyFile;
  } catch {
    throw new PipelineError('KEY_FILE_INVALID', 'Key file is not valid JSON');
  }
  const keyEncryptionKeys: Record<number, Uint8Array> = {};
  for (const [version, value] of Object.entries(file.keyEncryptionKeys ?? {})) {
    keyEncryptionKeys[Number(version)] = decodeKey(value, 'keyEncryptionKeys');
  }
  if (file.formatVersion !== 1 || !keyEncryptionKeys[file.currentKeyVersion]) {
    throw new PipelineError('KEY_FILE_INVALID', 'Key file has no key for its current version');
  }
  return {
    encryptionKeyId: file.encryptionKeyId,
    currentKeyVersion: file.currentKeyVersion,
    keyEncryptionKeys,
    pseudonymKey: decodeKey(file.pseudonymKey, 'pseudonymKey'),
  };
}

function decodeKey(value: string, name: string): Uint8Array {
  const bytes = Buffer.from(value ?? '', 'base64');
  if (bytes.length !== 32) {
    throw new PipelineError('KEY_FILE_INVALID', `Key file entry ${name} must be 32 bytes of base64`);
  }
  return new Uint8Array(bytes);
}
