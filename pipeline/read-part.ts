import type { App } from './app.js';
import { PipelineError } from './errors.js';
import { STORAGE_NAMES } from './storage.js';

/** Containers whose objects are sealed in the envelope format. */
export const SEALED_CONTAINERS: readonly string[] = [
  STORAGE_NAMES.outputContainer,
  STORAGE_NAMES.rejectsContainer,
  STORAGE_NAMES.archiveContainer,
  STORAGE_NAMES.quarantineContainer,
];

/**
 * The one path by which stored plaintext is read: downloads a sealed object and decrypts it on
 * the worker pool. Every command that shows or reuses plaintext goes through here.
 *
 * @param app - an app opened with keys and pool
 * @param path - `container/path`, or a path in the output container
 */
export async function readSealedPart(app: App, path: string): Promise<Uint8Array> {
  const slash = path.indexOf('/');
  const head = slash > 0 ? path.slice(0, slash) : '';
  const [container, blobPath] = SEALED_CONTAINERS.includes(head)
    ? [head, path.slice(slash + 1)]
    : [STORAGE_NAMES.outputContainer, path];

  let sealed: Buffer;
  try {
    sealed = await app.storage.blobService
      .getContainerClient(container)
      .getBlobClient(blobPath)
      .downloadToBuffer();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) {
      throw new PipelineError('PART_NOT_FOUND', `No such part in container ${container}`);
    }
    throw error;
  }
  if (!app.keyRing || !app.pool) {
    throw new Error('readSealedPart needs an app opened with keys and pool');
  }
  const opened = await app.pool.open({
    sealed,
    gunzip: blobPath.endsWith('.gz.enc'),
    encryptionKeyId: app.keyRing.encryptionKeyId,
    keyEncryptionKeys: app.keyRing.keyEncryptionKeys,
  });
  if (opened.status === 'failed') {
    throw new PipelineError('DECRYPT_FAILED', `The part could not be decrypted (${opened.code})`);
  }
  return opened.plaintext;
}

/**
 * Reads a sealed part as UTF-8 text.
 *
 * @param app - an app opened with keys and pool
 * @param path - `container/path`, or a path in the output container
 */
export async function decryptStored(app: App, path: string): Promise<string> {
  return Buffer.from(await readSealedPart(app, path)).toString('utf8');
}
