import { hmacOf } from '../pseudonym.js';

/**
 * Moves a number by up to `span` of its size, either way, by an amount drawn from a keyed HMAC
 * of the field and value: the same input, key and rules give the same output.
 *
 * @param pseudonymKey - the HMAC key from the key store
 * @param field - names the field, so equal values in different fields move differently
 * @param value - the number as written
 * @param span - the largest relative change, such as 0.1
 * @param roundTo - decimals to keep; default the number written
 * @returns the new number as text, or `undefined` when the value is not a number
 */
export function perturbNumber(
  pseudonymKey: Uint8Array,
  field: string,
  value: string,
  span: number,
  roundTo?: number,
): string | undefined {
  const trimmed = value.trim();
  if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/.test(trimmed)) {
    return undefined;
  }
  // The digest's first four bytes, big-endian.
  const digest = hmacOf(pseudonymKey).hex(`perturb\u0000${field}\u0000${trimmed}`);
  const unit = Number.parseInt(digest.slice(0, 8), 16) / 0xffffffff;
  const number = Number(trimmed);
  const moved = number * (1 + (unit * 2 - 1) * span);
  const decimals = roundTo ?? trimmed.split('.')[1]?.length ?? 0;
  return moved.toFixed(decimals);
}
