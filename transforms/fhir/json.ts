/** A parsed JSON object: what `JSON.parse` gives for `{...}`. */
export type JsonObject = Record<string, unknown>;

/**
 * Tells whether a parsed JSON value is an object (not an array and not null).
 *
 * @param value - any parsed JSON value
 */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
