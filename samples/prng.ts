/** A seeded pseudo-random source; the same seed always gives the same sequence. */
export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer from `min` to `max`, both included. */
  int(min: number, max: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** `count` pseudo-random bytes. */
  bytes(count: number): Uint8Array;
}

/**
 * Returns a mulberry32 generator: 32 bits of state, fast, and plenty for fake test data. It is
 * not for anything secret; keys come from `node:crypto`.
 *
 * @param seed - any 32-bit integer; other numbers are truncated to one
 */
export function createPrng(seed: number): Prng {
  let state = seed >>> 0;

  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 0x1_0000_0000;
  };

  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));

  return {
    next,
    int,
    pick: (items) => items[int(0, items.length - 1)],
    bytes: (count) => Uint8Array.from({ length: count }, () => int(0, 255)),
  };
}

/**
 * Formats 16 pseudo-random bytes as a version 4 UUID, so fake resources get stable ids.
 *
 * @param prng - the generator to draw from
 */
export function createUuid(prng: Prng): string {
  const bytes = prng.bytes(16);
  // RFC 9562 section 5.4: version 4 in the high nibble of byte 6, variant 10 in byte 8.
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;

  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    hex.slice(12, 16),
    hex.slice(16, 20),
    hex.slice(20),
  ].join('-');
}
