import { describe, expect, it } from 'vitest';

import { KeyedMemo } from '../../transforms/pseudonym.js';

describe('KeyedMemo', () => {
  it('keeps a value that is used while many others pass through', () => {
    const memo = new KeyedMemo<string>();
    memo.set('hot', 'value-of-hot');

    let hotHits = 0;
    for (let index = 0; index < 50_000; index++) {
      memo.set(`cold-${index}`, `value-${index}`);
      if (index % 5_000 === 0) {
        hotHits += memo.get('hot') === 'value-of-hot' ? 1 : 0;
      }
    }

    expect(hotHits).toBe(10);
    expect(memo.get('hot')).toBe('value-of-hot');
  });

  it('forgets what is not used, and holds at most two generations', () => {
    const memo = new KeyedMemo<number>();
    for (let index = 0; index < 50_000; index++) {
      memo.set(`key-${index}`, index);
    }

    expect(memo.size).toBeLessThanOrEqual(20_000);
    expect(memo.get('key-0')).toBeUndefined();
    expect(memo.get('key-29999')).toBeUndefined();
    expect(memo.get('key-30000')).toBe(30_000);
    expect(memo.get('key-49999')).toBe(49_999);
  });
});
