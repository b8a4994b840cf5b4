import { createHash, randomBytes } from 'node:crypto';
import type { Transform } from 'node:stream';
import { constants, createBrotliCompress, createGzip } from 'node:zlib';

import type { BlockBlobClient } from '@azure/storage-blob';

import type { Compression } from '../transforms/compression.js';
import { EnvelopeSealer, type EncryptEnvelopeOptions } from '../transforms/crypto/index.js';

/** What a finished sealed blob is: its size and the SHA-256 of its stored (sealed) bytes. */
export interface SealedBlob {
  sizeBytes: number;
  sha256: string;
}

/**
 * Staged block size: small enough that a batch's open writers (one per record type, rejects,
 * archive) hold little, large enough that a 256 MB file needs few requests.
 */
const BLOCK_BYTES = 1024 * 1024;

/**
 * Writes one encrypted blob as a stream: bytes are compressed (optionally, with zlib on the
 * thread pool), sealed chunk by chunk with the envelope format, hashed, and uploaded as staged
 * blocks, committed by `finish` (or `stage` now and `commit` later). At most one block is
 * uploading while the next fills, so memory stays at about two blocks whatever the blob's size.
 * Nothing is visible before the commit. Block ids carry a nonce of this writer's, so two runs of
 * one batch at once (a duplicate delivery) cannot commit each other's blocks; an interrupted
 * run's blocks are never committed and expire on their own.
 */
export class SealedBlobWriter {
  private readonly sealer: EnvelopeSealer;
  private readonly hash = createHash('sha256');
  private readonly compressor: Transform | undefined;
  private readonly blockIds: string[] = [];
  private readonly nonce = randomBytes(6).toString('hex');
  private sealed: SealedBlob | undefined;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private sizeBytes = 0;
  private staging: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  /**
   * @param client - the block blob to write
   * @param envelope - data key, key encryption key and batch id for the envelope header
   * @param compression - how to compress the bytes first; null when they come compressed
   */
  constructor(
    private readonly client: BlockBlobClient,
    envelope: EncryptEnvelopeOptions,
    compression: Compression | null,
  ) {
    this.sealer = new EnvelopeSealer(envelope);
    if (compression) {
      const compressor = createCompressor(compression);
      compressor.on('data', (chunk: Buffer) => this.take(this.sealer.push(chunk)));
      compressor.on('error', (error: Error) => {
        this.failure ??= error;
      });
      this.compressor = compressor;
    }
  }

  /**
   * Adds bytes; resolves once they are taken in and any full block is on its way. The caller may
   * reuse `bytes` afterwards.
   *
   * @param bytes - the next plaintext bytes
   */
  async write(bytes: Uint8Array): Promise<void> {
    this.throwIfFailed();
    if (bytes.length === 0) {
      return;
    }
    const compressor = this.compressor;
    if (compressor) {
      await new Promise<void>((resolve, reject) =>
        compressor.write(bytes, (error) => (error ? reject(error) : resolve())),
      );
    } else {
      this.take(this.sealer.push(bytes));
    }
    await this.stageBlocks(false);
  }

  /** Seals the last chunk, uploads what is left and commits the blob. */
  async finish(): Promise<SealedBlob> {
    const sealed = await this.stage();
    await this.commit();
    return sealed;
  }

  /** Seals the last chunk and uploads what is left, without making the blob visible. */
  async stage(): Promise<SealedBlob> {
    const compressor = this.compressor;
    if (compressor) {
      await new Promise<void>((resolve, reject) => {
        compressor.once('end', resolve);
        compressor.once('error', reject);
        compressor.end();
      });
    }
    this.throwIfFailed();
    this.take(this.sealer.end());
    await this.stageBlocks(true);
    await this.staging;

    this.sealed = { sizeBytes: this.sizeBytes, sha256: this.hash.digest('hex') };
    return this.sealed;
  }

  /** Makes the staged blob visible; call after `stage`. */
  async commit(): Promise<void> {
    if (this.sealed === undefined) {
      throw new Error('commit before stage');
    }
    await this.client.commitBlockList(this.blockIds, {
      blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
      metadata: { sha256: this.sealed.sha256 },
    });
  }

  /** Stops the stream; staged blocks that were never committed expire on their own. */
  abort(): void {
    this.failure ??= new Error('Aborted');
    this.compressor?.destroy();
  }

  private take(sealed: Uint8Array[]): void {
    for (const bytes of sealed) {
      this.hash.update(bytes);
      this.pending.push(bytes);
      this.pendingBytes += bytes.length;
      this.sizeBytes += bytes.length;
    }
  }

  private async stageBlocks(all: boolean): Promise<void> {
    while (this.pendingBytes >= BLOCK_BYTES || (all && this.pendingBytes > 0)) {
      const block = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      // Block ids of one blob must all have the same length.
      const blockId = Buffer.from(
        `${this.nonce}-${String(this.blockIds.length).padStart(8, '0')}`,
      ).toString('base64');
      this.blockIds.push(blockId);
      const before = this.staging;
      this.staging = before.then(() => this.stageBlock(blockId, block));
      // Marks the chain as handled; its failure surfaces from the next await of it.
      this.staging.catch(() => undefined);
      await before;
    }
  }

  private async stageBlock(blockId: string, block: Buffer): Promise<void> {
    this.throwIfFailed();
    await this.client.stageBlock(blockId, block, block.length);
  }

  private throwIfFailed(): void {
    if (this.failure) {
      throw this.failure;
    }
  }
}

function createCompressor(compression: Compression): Transform {
  if (compression.codec === 'gzip') {
    return createGzip({ level: compression.level });
  }
  return createBrotliCompress({
    params: { [constants.BROTLI_PARAM_QUALITY]: compression.quality },
  });
}
