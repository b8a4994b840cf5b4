import { Buffer } from 'node:buffer';

/**
 * Decodes standard, padded base64 and checks the decoded length. Node's decoder skips characters
 * it does not know, so the text is re-encoded and compared to reject anything non-canonical.
 *
 * @param text - the base64 text from a header field
 * @param expectedBytes - how many bytes the field must decode to
 * @returns the decoded bytes, or undefined when the text is malformed or the length is wrong
 */
export function decodeBase64Exact(text: unknown, expectedBytes: number): Buffer | undefined {
  if (typeof text !== 'string') {
    return undefined;
  }

  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== expectedBytes || bytes.toString('base64') !== text) {
    return undefined;
  }
  return bytes;
}

/**
 * Encodes bytes as standard, padded base64.
 *
 * @param bytes - the bytes to encode
 */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
