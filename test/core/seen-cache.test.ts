import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeenCache } from '../../src/core/broadcast/seen-cache.js';

describe('SeenCache', () => {
  it('reports a key as new once', () => {
    const cache = new SeenCache(10, 1_000);
    expect(cache.add('a', 0)).toBe(true);
    expect(cache.add('a', 5)).toBe(false);
    expect(cache.size).toBe(1);
  });

  it('sweeps only entries older than the maximum age', () => {
    const cache = new SeenCache(10, 1_000);
    cache.add('a', 0);
    cache.add('b', 500);
    cache.add('c', 1_000);
    cache.sweep(1_500);
    expect(['a', 'b', 'c'].map((key) => cache.has(key))).toEqual([false, false, true]);
  });

  it('says whether it ever forgot a key for the count bound, not for age', () => {
    const cache = new SeenCache(2, 1_000);
    cache.add('a', 0);
    cache.add('b', 10);
    cache.sweep(1_005);
    expect(cache.forgotByCount).toBe(false);
    // 'a' went for its age; 'b' and 'c' fill the bound, and 'd' pushes 'b' out.
    cache.add('c', 1_010);
    expect(cache.forgotByCount).toBe(false);
    cache.add('d', 1_020);
    expect(cache.forgotByCount).toBe(true);
    expect(cache.has('b')).toBe(false);
  });

  it('never exceeds its count bound, keeping the newest keys (model check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 80 }),
        (max, keys) => {
          const cache = new SeenCache(max, 1_000_000);
          const model: string[] = [];
          for (const key of keys.map(String)) {
            const fresh = !model.includes(key);
            expect(cache.add(key, 0)).toBe(fresh);
            if (fresh) model.push(key);
            if (model.length > max) model.shift();
            expect(cache.size).toBe(model.length);
          }
          for (const key of model) expect(cache.has(key)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
