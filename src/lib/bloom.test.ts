import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BloomFilter } from './bloom.js';

describe('BloomFilter', () => {
  it('never answers "surely new" for a key it was given', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 200 }), (keys) => {
        const filter = new BloomFilter(12);
        for (const k of keys) filter.add(k);
        return keys.every((k) => filter.has(k) && filter.add(k));
      }),
    );
  });

  it('tells a million emails apart from a million others with few false "perhaps" answers', () => {
    const filter = new BloomFilter();
    let repeats = 0;
    for (let i = 0; i < 1_000_000; i++) if (filter.add(`person${i}@company${i % 5000}.example`)) repeats += 1;
    let perhaps = 0;
    for (let i = 0; i < 1_000_000; i++) if (filter.has(`someone${i}@elsewhere${i % 5000}.example`)) perhaps += 1;
    // 2^24 bits and 7 hashes hold a million keys at about 0.07% false positives; allow for hash quality.
    expect(repeats).toBeLessThan(3_000);
    expect(perhaps).toBeLessThan(3_000);
  });

  it('rejects a size it cannot hold', () => {
    expect(() => new BloomFilter(40)).toThrow(/log2Bits/);
  });
});
