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
