import { describe, expect, it } from 'vitest';

import { packParts } from '../../pipeline/pack-parts.js';

const groups = (...counts: number[]) =>
  counts.map((recordCount, index) => ({ index, recordCount }));

describe('packParts', () => {
  it('keeps groups whole and in order, closing a part when the next would not fit', () => {
    const parts = packParts(groups(3, 4, 2, 5, 1), 7);
    const indexes = parts.map((part) => part.groups.map((group) => group.index));
    expect(indexes).toEqual([[0, 1], [2, 3], [4]]);
    expect(parts.map((part) => part.recordCount)).toEqual([7, 7, 1]);
  });

  it('gives one part when everything fits, and none for no groups', () => {
    expect(packParts(groups(1, 2, 3), 100)).toHaveLength(1);
    expect(packParts([], 100)).toEqual([]);
  });

  it('puts a group larger than the limit alone in its part', () => {
    expect(packParts(groups(2, 9, 2), 5).map((part) => part.recordCount)).toEqual([2, 9, 2]);
  });
});
