import { createHash } from 'node:crypto';

/**
 * Returns the SHA-256 of some bytes as lower-case hex, as recorded in batch manifests.
 *
 * @param bytes - the bytes to hash, typically a whole `.enc` blob
 */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
