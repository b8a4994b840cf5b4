import type { Transform } from 'node:stream';
import {
  brotliCompressSync,
  brotliDecompressSync,
  constants,
  createBrotliDecompress,
  createGunzip,
  gunzipSync,
  gzipSync,
} from 'node:zlib';

/** How a feed's output is compressed before it is encrypted. */
export type Compression = { codec: 'gzip'; level: number } | { codec: 'brotli'; quality: number };

/** The codec a stored object was compressed with, read from its name. */
export type CompressionCodec = Compression['codec'] | 'none';

/**
 * gzip level 1: the fastest level, chosen by `npm run bench` (docs/performance.md); gzip because
 * Spark, Data Factory, DuckDB and pandas all read it without a plug-in.
 */
export const DEFAULT_COMPRESSION: Readonly<Compression> = Object.freeze({
  codec: 'gzip',
  level: 1,
});

const SUFFIX_BY_CODEC: Record<CompressionCodec, string> = { gzip: '.gz', brotli: '.br', none: '' };

/**
 * The file-name suffix that goes before `.enc`: `.gz` for gzip, `.br` for brotli.
 *
 * @param codec - the codec, or `none`
 */
export function compressionSuffix(codec: CompressionCodec): string {
  return SUFFIX_BY_CODEC[codec];
}

/**
 * The codec of a sealed object from its name: `x.gz.enc` is gzip, `x.br.enc` brotli, any other
 * `.enc` was stored uncompressed. The name is the only record of it (docs/encryption.md).
 *
 * @param path - a blob path ending in `.enc`
 */
export function codecOfPath(path: string): CompressionCodec {
  const stem = path.endsWith('.enc') ? path.slice(0, -'.enc'.length) : path;
  if (stem.endsWith('.gz')) {
    return 'gzip';
  }
  return stem.endsWith('.br') ? 'brotli' : 'none';
}

/**
 * Whether independently compressed pieces may be concatenated into one valid stream. gzip may:
 * a file of several members is one gzip file to every reader (RFC 1952 section 2.2); brotli may
 * not, so brotli output is compressed once per part.
 *
 * @param compression - the feed's compression
 */
export function compressesInPieces(compression: Compression): boolean {
  return compression.codec === 'gzip';
}

/**
 * Compresses bytes in one call.
 *
 * @param bytes - the plaintext
 * @param compression - codec and level
 */
export function compressBytes(bytes: Uint8Array, compression: Compression): Uint8Array {
  if (compression.codec === 'gzip') {
    return gzipSync(bytes, { level: compression.level });
  }
  return brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: compression.quality,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
}

/**
 * Decompresses bytes in one call; `none` returns them unchanged.
 *
 * @param bytes - compressed bytes (several gzip members are read as one stream)
 * @param codec - the codec they were compressed with
 */
export function decompressBytes(bytes: Uint8Array, codec: CompressionCodec): Uint8Array {
  if (codec === 'gzip') {
    return gunzipSync(bytes);
  }
  return codec === 'brotli' ? brotliDecompressSync(bytes) : bytes;
}

/**
 * A streaming decompressor for a codec, or undefined for `none`.
 *
 * @param codec - the codec of the stream
 */
export function createDecompressStream(codec: CompressionCodec): Transform | undefined {
  if (codec === 'gzip') {
    return createGunzip();
  }
  return codec === 'brotli' ? createBrotliDecompress() : undefined;
}

/**
 * A short stable label for figures and manifests: `gzip-1`, `brotli-4`.
 *
 * @param compression - codec and level
 */
export function compressionLabel(compression: Compression): string {
  return compression.codec === 'gzip'
    ? `gzip-${compression.level}`
    : `brotli-${compression.quality}`;
}
