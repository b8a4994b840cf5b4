import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv } from 'node:crypto';

import { ByteQueue } from './byte-queue.js';
import { EnvelopeError } from './envelope-error.js';
import {
  createEnvelopeHeader,
  decodeEnvelopeHeader,
  ENVELOPE_PREAMBLE_BYTES,
  measureEnvelopeHeader,
  NONCE_PREFIX_BYTES,
} from './envelope-header.js';
import type { EncodedEnvelopeHeader, EncryptEnvelopeOptions } from './envelope-header.js';
import { GCM_TAG_BYTES, KEY_BYTES, unwrapDataKey } from './key-wrap.js';

/**
 * Returns the KEK for an id and version, or undefined when the key store has no such key (which
 * becomes `ENVELOPE_UNKNOWN_KEY`); an error it throws passes through unchanged. It is synchronous
 * so decryption can run inside a stream without awaiting: load the keys before decrypting.
 */
export type KekResolver = (kekId: string, kekVersion: number) => Uint8Array | undefined;

/** The chunk index is a u32 in the nonce, so an envelope holds at most 2^32 chunks. */
const MAX_CHUNK_INDEX = 0xffffffff;

/**
 * Turns plaintext into envelope bytes incrementally. A chunk is sealed only once a byte beyond it
 * has arrived, because its nonce must say whether it is the last; so at most one chunk of
 * plaintext is held at a time.
 */
export class EnvelopeSealer {
  private readonly queue = new ByteQueue();

  private readonly encoded: EncodedEnvelopeHeader;

  private readonly dek: Uint8Array;

  private readonly noncePrefix: Buffer;

  private chunkIndex = 0;

  private headerSent = false;

  private ended = false;

  /**
   * @param options - keys, ids and chunk size; checked here, so bad options throw at once
   */
  constructor(options: EncryptEnvelopeOptions) {
    this.encoded = createEnvelopeHeader(options);
    this.dek = options.dek;
    this.noncePrefix = Buffer.from(this.encoded.header.noncePrefix, 'base64');
  }

  /** The header as written at the start of the envelope. */
  get header(): EncodedEnvelopeHeader {
    return this.encoded;
  }

  /**
   * Accepts more plaintext and returns the envelope bytes that are now final.
   *
   * @param plaintext - the next bytes of the file
   */
  push(plaintext: Uint8Array): Uint8Array[] {
    if (this.ended) {
      throw new EnvelopeError('ENVELOPE_INVALID_OPTION', 'Cannot write after the envelope ended');
    }

    const out = this.takeHeader();
    this.queue.push(plaintext);
    const chunkSizeBytes = this.encoded.header.chunkSizeBytes;
    while (this.queue.length > chunkSizeBytes) {
      out.push(this.seal(this.queue.take(chunkSizeBytes), false));
    }
    return out;
  }

  /** Seals whatever is left as the final chunk, which may be empty, and returns the last bytes. */
  end(): Uint8Array[] {
    if (this.ended) {
      throw new EnvelopeError('ENVELOPE_INVALID_OPTION', 'Cannot end the envelope twice');
    }

    const out = this.takeHeader();
    out.push(this.seal(this.queue.take(this.queue.length), true));
    this.ended = true;
    return out;
  }

  private takeHeader(): Uint8Array[] {
    if (this.headerSent) {
      return [];
    }
    this.headerSent = true;
    return [this.encoded.bytes];
  }

  private seal(plaintext: Uint8Array, final: boolean): Uint8Array {
    if (this.chunkIndex > MAX_CHUNK_INDEX) {
      throw new EnvelopeError('ENVELOPE_TOO_LARGE', 'Plaintext needs more than 2^32 chunks');
    }

    const nonce = chunkNonce(this.noncePrefix, this.chunkIndex, final);
    const cipher = createCipheriv('aes-256-gcm', this.dek, nonce, { authTagLength: GCM_TAG_BYTES });
    cipher.setAAD(this.encoded.bytes);
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    this.chunkIndex++;
    return sealed;
  }
}

/**
 * Turns envelope bytes back into plaintext incrementally. Every chunk is authenticated before
 * its plaintext is returned; a chunk is opened only once it is known whether more follow, so at
 * most one sealed chunk is held at a time.
 */
export class EnvelopeOpener {
  private readonly queue = new ByteQueue();

  private readonly resolveKek: KekResolver;

  private encoded: EncodedEnvelopeHeader | undefined;

  private dek: Uint8Array | undefined;

  private noncePrefix: Buffer | undefined;

  private chunkIndex = 0;

  /**
   * @param resolveKek - looks up the KEK the header names
   */
  constructor(resolveKek: KekResolver) {
    this.resolveKek = resolveKek;
  }

  /**
   * Accepts more envelope bytes and returns the plaintext that has been authenticated so far.
   *
   * @param bytes - the next bytes of the envelope, in any split
   */
  push(bytes: Uint8Array): Uint8Array[] {
    this.queue.push(bytes);
    if (this.encoded === undefined && !this.tryReadHeader()) {
      return [];
    }

    const out: Uint8Array[] = [];
    const sealedChunkBytes = this.sealedChunkBytes();
    while (this.queue.length > sealedChunkBytes) {
      out.push(this.open(this.queue.take(sealedChunkBytes), false));
    }
    return out;
  }

  /**
   * Opens the remaining bytes as the final chunk. Throws `ENVELOPE_TRUNCATED` when the envelope
   * stops before its final chunk, even at a chunk boundary.
   */
  end(): Uint8Array[] {
    if (this.encoded === undefined && !this.tryReadHeader()) {
      throw new EnvelopeError('ENVELOPE_TRUNCATED', 'Envelope ended inside the header');
    }
    if (this.queue.length < GCM_TAG_BYTES) {
      throw new EnvelopeError('ENVELOPE_TRUNCATED', 'Envelope ended before its final chunk');
    }

    const sealed = this.queue.take(this.queue.length);
    try {
      return [this.open(sealed, true)];
    } catch (error) {
      // A chunk that authenticates as non-final proves the stream was cut at a chunk boundary.
      if (this.tryOpen(sealed, false) !== undefined) {
        throw new EnvelopeError('ENVELOPE_TRUNCATED', 'Envelope ended before its final chunk');
      }
      throw error;
    }
  }

  private tryReadHeader(): boolean {
    const preamble = this.queue.peek(Math.min(this.queue.length, ENVELOPE_PREAMBLE_BYTES));
    const headerBytes = measureEnvelopeHeader(preamble);
    if (headerBytes === undefined || this.queue.length < headerBytes) {
      return false;
    }

    // Copy so the header does not pin the caller's (possibly large) input buffer.
    const encoded = decodeEnvelopeHeader(Buffer.from(this.queue.take(headerBytes)));
    const { header } = encoded;
    const kek = this.lookUpKek(header.kekId, header.kekVersion);
    const wrapped = { wrappedKey: header.wrappedKey, wrapNonce: header.wrapNonce };
    this.dek = unwrapDataKey(kek, wrapped, header.batchId ?? '');
    this.noncePrefix = Buffer.from(header.noncePrefix, 'base64');
    this.encoded = encoded;
    return true;
  }

  private lookUpKek(kekId: string, kekVersion: number): Uint8Array {
    const kek = this.resolveKek(kekId, kekVersion);
    if (!(kek instanceof Uint8Array) || kek.length !== KEY_BYTES) {
      throw new EnvelopeError('ENVELOPE_UNKNOWN_KEY', 'No 32-byte KEK for kekId and kekVersion');
    }
    return kek;
  }

  private sealedChunkBytes(): number {
    return (this.encoded as EncodedEnvelopeHeader).header.chunkSizeBytes + GCM_TAG_BYTES;
  }

  private open(sealed: Uint8Array, final: boolean): Uint8Array {
    if (this.chunkIndex > MAX_CHUNK_INDEX) {
      throw new EnvelopeError('ENVELOPE_AUTH_FAILED', 'Envelope has more than 2^32 chunks');
    }

    const plaintext = this.tryOpen(sealed, final);
    if (plaintext === undefined) {
      throw new EnvelopeError('ENVELOPE_AUTH_FAILED', 'Chunk did not authenticate');
    }
    this.chunkIndex++;
    return plaintext;
  }

  private tryOpen(sealed: Uint8Array, final: boolean): Uint8Array | undefined {
    const nonce = chunkNonce(this.noncePrefix as Buffer, this.chunkIndex, final);
    const decipher = createDecipheriv('aes-256-gcm', this.dek as Uint8Array, nonce, {
      authTagLength: GCM_TAG_BYTES,
    });
    decipher.setAAD((this.encoded as EncodedEnvelopeHeader).bytes);
    decipher.setAuthTag(sealed.subarray(sealed.length - GCM_TAG_BYTES));
    const ciphertext = sealed.subarray(0, sealed.length - GCM_TAG_BYTES);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      return undefined;
    }
  }
}

/** STREAM nonce: prefix (7) || chunk index (u32 BE) || final flag (1 on the last chunk). */
function chunkNonce(noncePrefix: Buffer, chunkIndex: number, final: boolean): Buffer {
  const nonce = Buffer.alloc(NONCE_PREFIX_BYTES + 5);
  noncePrefix.copy(nonce, 0);
  nonce.writeUInt32BE(chunkIndex, NONCE_PREFIX_BYTES);
  nonce[NONCE_PREFIX_BYTES + 4] = final ? 1 : 0;
  return nonce;
}
