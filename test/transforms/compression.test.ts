import { describe, expect, it } from 'vitest';

import {
  codecOfPath,
  compressBytes,
  compressesInPieces,
  compressionLabel,
  compressionSuffix,
  decompressBytes,
  DEFAULT_COMPRESSION,
  type Compression,
} from '../../transforms/compression.js';

const line = '{"resourceType":"Observation","status":"final"}\n';
const text = new TextEncoder().encode(line.repeat(200));

describe('compressionSuffix and codecOfPath', () => {
  it('round-trips every codec through a part name', () => {
    for (const codec of ['gzip', 'brotli', 'none'] as const) {
      const folder = 'feed=f/type=ADT_A01/date=2026-12-03/batch=b';
      const path = `${folder}/part-00000.ndjson${compressionSuffix(codec)}.enc`;
      expect(codecOfPath(path)).toBe(codec);
    }
  });

  it('names gzip .gz and brotli .br', () => {
    expect(compressionSuffix('gzip')).toBe('.gz');
    expect(compressionSuffix('brotli')).toBe('.br');
    expect(codecOfPath('archive/feed=f/date=d/batch=b/source.gz.enc')).toBe('gzip');
    expect(codecOfPath('x/part-00000.ndjson.enc')).toBe('none');
  });
});

describe('compressBytes and decompressBytes', () => {
  const settings: Compression[] = [
    { codec: 'gzip', level: 1 },
    { codec: 'gzip', level: 6 },
    { codec: 'brotli', quality: 1 },
    { codec: 'brotli', quality: 4 },
  ];

  it.each(settings)('round-trips with %o', (compression) => {
    const compressed = compressBytes(text, compression);
    expect(compressed.length).toBeLessThan(text.length / 4);
    const restored = Buffer.from(decompressBytes(compressed, compression.codec));
    expect(restored.equals(Buffer.from(text))).toBe(true);
  });

  it('reads concatenated gzip members as one stream', () => {
    const half = text.length / 2;
    const members = Buffer.concat([
      compressBytes(text.subarray(0, half), DEFAULT_COMPRESSION),
      compressBytes(text.subarray(half), DEFAULT_COMPRESSION),
    ]);
    expect(compressesInPieces(DEFAULT_COMPRESSION)).toBe(true);
    expect(Buffer.from(decompressBytes(members, 'gzip')).equals(Buffer.from(text))).toBe(true);
  });

  it('does not compress brotli in pieces', () => {
    expect(compressesInPieces({ codec: 'brotli', quality: 1 })).toBe(false);
  });

  it('labels settings for figures', () => {
    expect(compressionLabel({ codec: 'gzip', level: 1 })).toBe('gzip-1');
    expect(compressionLabel({ codec: 'brotli', quality: 4 })).toBe('brotli-4');
  });
});
