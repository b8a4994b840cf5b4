import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';

import { decodeBase64Exact, encodeBase64 } from './base64.js';
import { EnvelopeError } from './envelope-error.js';
import { GCM_TAG_BYTES, KEY_BYTES, WRAP_NONCE_BYTES, wrapDataKey } from './key-wrap.js';
import type { WrappedDataKey } from './key-wrap.js';

/** The first four bytes of every envelope. */
export const ENVELOPE_MAGIC = 'PHIE';

/** The format version this code writes and the only one it reads. */
export const ENVELOPE_FORMAT_VERSION = 1;

/** Chunk size used when the caller gives none. */
export const DEFAULT_CHUNK_SIZE_BYTES = 64 * 1024;

/** Upper bound on `chunkSizeBytes`; the decrypter buffers one chunk, so this bounds its memory. */
export const MAX_CHUNK_SIZE_BYTES = 16 * 1024 * 1024;

/** Length of the random per-envelope nonce prefix (STREAM construction). */
export const NONCE_PREFIX_BYTES = 7;

/** Magic (4) + version (1) + JSON length (u32 BE). */
export const ENVELOPE_PREAMBLE_BYTES = 9;

/** A header is a few hundred bytes; anything far larger is not one of ours. */
const MAX_HEADER_JSON_BYTES = 16 * 1024;

/** Ids are printable ASCII without spaces; this keeps free text (and so PHI) out of headers. */
const ID_PATTERN = /^[\x21-\x7e]{1,256}$/;

const MAGIC_BYTES = Buffer.from(ENVELOPE_MAGIC, 'latin1');

const REQUIRED_FIELDS = [
  'alg',
  'chunkSizeBytes',
  'noncePrefix',
  'kekId',
  'kekVersion',
  'wrappedKey',
  'wrapAlg',
  'wrapNonce',
] as const;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The JSON header of an envelope. It names keys and sizes only; it never holds PHI. */
export interface EnvelopeHeader {
  alg: 'A256GCM-STREAM';
  chunkSizeBytes: number;
  /** Base64 of the 7 random bytes that start every chunk nonce. */
  noncePrefix: string;
  /** Which KEK wrapped the data key, such as a Key Vault key name. */
  kekId: string;
  /** The KEK version (a positive integer), so files stay readable after the KEK rotates. */
  kekVersion: number;
  /** Base64 of the wrapped data key and its tag. */
  wrappedKey: string;
  wrapAlg: 'A256GCM';
  /** Base64 of the 12-byte key-wrap nonce. */
  wrapNonce: string;
  /** The batch the data key belongs to; the associated data of the key wrap. */
  batchId?: string;
}

/** A header together with its exact encoding, which is the associated data of every chunk. */
export interface EncodedEnvelopeHeader {
  header: EnvelopeHeader;
  /** Magic through the last JSON byte, exactly as stored. */
  bytes: Uint8Array;
}

/** Options shared by {@link createEnvelopeHeader} and the encrypt functions. */
export interface EncryptEnvelopeOptions {
  /** The 32-byte data key that encrypts the chunks. */
  dek: Uint8Array;
  /** The KEK to wrap `dek` with. Give either this or `wrappedDataKey`. */
  kek?: Uint8Array;
  /**
   * `dek` already wrapped (for example once per batch) under `kekId`/`kekVersion` with the batch
   * id as associated data. It is not checked against `dek` here; a mismatch shows on decrypt.
   */
  wrappedDataKey?: WrappedDataKey;
  kekId: string;
  kekVersion: number;
  batchId?: string;
  /** @default 65536 */
  chunkSizeBytes?: number;
  /** Fixed nonce prefix, for test vectors only; production code must leave it unset. */
  noncePrefix?: Uint8Array;
  /** Fixed key-wrap nonce, for test vectors only; used only together with `kek`. */
  wrapNonce?: Uint8Array;
}

/**
 * Builds and encodes the header for a new envelope, wrapping the data key when a KEK is given and
 * drawing a fresh random nonce prefix.
 *
 * @param options - keys, ids and chunk size for the envelope
 */
export function createEnvelopeHeader(options: EncryptEnvelopeOptions): EncodedEnvelopeHeader {
  const chunkSizeBytes = options.chunkSizeBytes ?? DEFAULT_CHUNK_SIZE_BYTES;
  if (!isValidChunkSize(chunkSizeBytes)) {
    throw invalidOption('chunkSizeBytes must be an integer from 1 to 16777216');
  }
  if (!isValidId(options.kekId)) {
    throw invalidOption('kekId must be 1-256 printable ASCII characters');
  }
  if (!isValidKekVersion(options.kekVersion)) {
    throw invalidOption('kekVersion must be a positive integer');
  }
  if (options.batchId !== undefined && !isValidId(options.batchId)) {
    throw invalidOption('batchId must be 1-256 printable ASCII characters');
  }
  if (!(options.dek instanceof Uint8Array) || options.dek.length !== KEY_BYTES) {
    throw invalidOption('dek must be 32 bytes');
  }
  if ((options.kek === undefined) === (options.wrappedDataKey === undefined)) {
    throw invalidOption('Give exactly one of kek and wrappedDataKey');
  }

  const noncePrefix = options.noncePrefix ?? randomBytes(NONCE_PREFIX_BYTES);
  if (noncePrefix.length !== NONCE_PREFIX_BYTES) {
    throw invalidOption('noncePrefix must be 7 bytes');
  }

  const wrapped =
    options.wrappedDataKey ??
    wrapDataKey(options.kek as Uint8Array, options.dek, options.batchId ?? '', {
      wrapNonce: options.wrapNonce,
    });
  if (
    decodeBase64Exact(wrapped.wrappedKey, KEY_BYTES + GCM_TAG_BYTES) === undefined ||
    decodeBase64Exact(wrapped.wrapNonce, WRAP_NONCE_BYTES) === undefined
  ) {
    throw invalidOption('wrappedDataKey must hold a 48-byte wrappedKey and 12-byte wrapNonce');
  }

  // Property order is fixed here so the same inputs always give the same bytes.
  const header: EnvelopeHeader = {
    alg: 'A256GCM-STREAM',
    chunkSizeBytes,
    noncePrefix: encodeBase64(noncePrefix),
    kekId: options.kekId,
    kekVersion: options.kekVersion,
    wrappedKey: wrapped.wrappedKey,
    wrapAlg: 'A256GCM',
    wrapNonce: wrapped.wrapNonce,
  };
  if (options.batchId !== undefined) {
    header.batchId = options.batchId;
  }

  return { header, bytes: encodeEnvelopeHeader(header) };
}

/**
 * Reads and checks the header at the start of an envelope without decrypting anything, for
 * example to learn which KEK a file needs.
 *
 * @param bytes - the envelope, or at least its header
 */
export function readEnvelopeHeader(bytes: Uint8Array): EncodedEnvelopeHeader {
  const headerBytes = measureEnvelopeHeader(bytes);
  if (headerBytes === undefined || bytes.length < headerBytes) {
    throw new EnvelopeError('ENVELOPE_TRUNCATED', 'Envelope ended inside the header');
  }
  return decodeEnvelopeHeader(bytes.subarray(0, headerBytes));
}

/**
 * Checks the preamble as far as the given bytes reach and returns the full header length once
 * the preamble is complete. Bad magic or version fail at the first byte that shows it, so a
 * stream of the wrong kind is rejected early.
 *
 * @param bytes - the first bytes of a stream; fewer than nine is fine
 * @returns the header length in bytes, or undefined while the preamble is incomplete
 */
export function measureEnvelopeHeader(bytes: Uint8Array): number | undefined {
  const magicSeen = Math.min(bytes.length, MAGIC_BYTES.length);
  for (let index = 0; index < magicSeen; index++) {
    if (bytes[index] !== MAGIC_BYTES[index]) {
      throw new EnvelopeError('ENVELOPE_BAD_MAGIC', 'Expected PHIE magic at byte 0');
    }
  }
  if (bytes.length > MAGIC_BYTES.length && bytes[MAGIC_BYTES.length] !== ENVELOPE_FORMAT_VERSION) {
    throw new EnvelopeError('ENVELOPE_UNSUPPORTED_VERSION', 'Expected format version 1 at byte 4');
  }
  if (bytes.length < ENVELOPE_PREAMBLE_BYTES) {
    return undefined;
  }

  const jsonBytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32BE(5);
  if (jsonBytes === 0 || jsonBytes > MAX_HEADER_JSON_BYTES) {
    throw new EnvelopeError('ENVELOPE_BAD_HEADER', 'Header length out of range at byte 5');
  }
  return ENVELOPE_PREAMBLE_BYTES + jsonBytes;
}

/**
 * Parses a complete header, as measured by {@link measureEnvelopeHeader}, and checks every field.
 *
 * @param headerBytes - magic through the last JSON byte, nothing more
 */
export function decodeEnvelopeHeader(headerBytes: Uint8Array): EncodedEnvelopeHeader {
  const json = parseHeaderJson(headerBytes.subarray(ENVELOPE_PREAMBLE_BYTES));
  if (!isValidHeader(json)) {
    throw new EnvelopeError('ENVELOPE_BAD_HEADER', 'Header JSON is missing or has invalid fields');
  }
  return { header: json, bytes: headerBytes };
}

function encodeEnvelopeHeader(header: EnvelopeHeader): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const preamble = Buffer.alloc(ENVELOPE_PREAMBLE_BYTES);
  MAGIC_BYTES.copy(preamble, 0);
  preamble[4] = ENVELOPE_FORMAT_VERSION;
  preamble.writeUInt32BE(json.length, 5);
  return Buffer.concat([preamble, json]);
}

function parseHeaderJson(jsonBytes: Uint8Array): unknown {
  try {
    return JSON.parse(UTF8.decode(jsonBytes));
  } catch {
    // The parser's message quotes the input; the fixed text is enough.
    throw new EnvelopeError('ENVELOPE_BAD_HEADER', 'Header is not UTF-8 JSON');
  }
}

function isValidHeader(value: unknown): value is EnvelopeHeader {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return false;
  }

  const fields = value as Record<string, unknown>;
  const known: readonly string[] = [...REQUIRED_FIELDS, 'batchId'];
  if (Object.keys(fields).some((name) => !known.includes(name))) {
    return false;
  }

  return (
    fields.alg === 'A256GCM-STREAM' &&
    isValidChunkSize(fields.chunkSizeBytes) &&
    decodeBase64Exact(fields.noncePrefix, NONCE_PREFIX_BYTES) !== undefined &&
    isValidId(fields.kekId) &&
    isValidKekVersion(fields.kekVersion) &&
    decodeBase64Exact(fields.wrappedKey, KEY_BYTES + GCM_TAG_BYTES) !== undefined &&
    fields.wrapAlg === 'A256GCM' &&
    decodeBase64Exact(fields.wrapNonce, WRAP_NONCE_BYTES) !== undefined &&
    (fields.batchId === undefined || isValidId(fields.batchId))
  );
}

function isValidChunkSize(value: unknown): value is number {
  const size = value as number;
  return Number.isInteger(size) && size >= 1 && size <= MAX_CHUNK_SIZE_BYTES;
}

function isValidKekVersion(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

function invalidOption(message: string): EnvelopeError {
  return new EnvelopeError('ENVELOPE_INVALID_OPTION', message);
}
