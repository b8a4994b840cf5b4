/** A run of record groups, in order, with how many records it holds. */
export interface PackedPart<G extends { recordCount: number }> {
  groups: G[];
  recordCount: number;
}

/**
 * Packs one record type's groups, in input order, into parts of at most `maxRecords` records
 * without splitting a group: a part closes when the next group would not fit. Groups are whole
 * worker outputs (already encoded, possibly compressed), so they are concatenated, never
 * re-split. The packing depends only on the groups' counts, so a retry writes the same parts.
 *
 * @param groups - one record type's groups, in input order; none may exceed `maxRecords`
 * @param maxRecords - the most records in one part
 */
export function packParts<G extends { recordCount: number }>(
  groups: G[],
  maxRecords: number,
): Array<PackedPart<G>> {
  const parts: Array<PackedPart<G>> = [];
  let current: PackedPart<G> = { groups: [], recordCount: 0 };
  for (const group of groups) {
    if (current.groups.length > 0 && current.recordCount + group.recordCount > maxRecords) {
      parts.push(current);
      current = { groups: [], recordCount: 0 };
    }
    current.groups.push(group);
    current.recordCount += group.recordCount;
  }
  if (current.groups.length > 0) {
    parts.push(current);
  }
  return parts;
}

/**
 * Copies views into one new buffer that owns its memory, so the pool can move it. (Buffer.concat
 * may hand back a slice of Node's shared pool, which must never be transferred.)
 *
 * @param pieces - the byte views, in order
 */
export function concatBytes(pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}
