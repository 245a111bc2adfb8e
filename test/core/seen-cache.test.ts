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

  it("refuses an origin's messages up to the newest it forgot by count, for its maximum age", () => {
    const cache = new SeenCache(2, 1_000);
    cache.add('h5', 0, 'h', 5);
    cache.add('a1', 10, 'a', 1);
    expect(cache.refuses('h', 5)).toBe(false);
    cache.add('a2', 20, 'a', 2); // pushes h5 out
    expect(cache.has('h5')).toBe(false);
    expect([4, 5, 6].map((seq) => cache.refuses('h', seq))).toEqual([true, true, false]);
    expect(cache.refuses('a', 1)).toBe(false);
    cache.sweep(1_019);
    expect(cache.refuses('h', 5)).toBe(true);
    cache.sweep(1_020); // a replay of h5 is outside the freshness window by now
    expect(cache.refuses('h', 5)).toBe(false);
  });

  it("never lowers an origin's horizon when an older message of it is forgotten after a newer one", () => {
    const cache = new SeenCache(2, 1_000);
    // A Graft can bring an origin's message 3 after its message 5: the cache forgets them in that order.
    cache.add('h5', 0, 'h', 5);
    cache.add('h3', 10, 'h', 3);
    cache.add('a1', 20, 'a', 1); // pushes h5 out: horizon 5
    cache.add('a2', 30, 'a', 2); // pushes h3 out: the horizon stays at 5
    expect([3, 4, 5, 6].map((seq) => cache.refuses('h', seq))).toEqual([true, true, true, false]);
  });

  it('never refuses an origin without a horizon; a full horizon table forgets its oldest', () => {
    const cache = new SeenCache(1, 1_000);
    cache.add('a1', 0, 'a', 1);
    cache.add('b1', 10, 'b', 1); // a1 goes: a's horizon takes the only slot
    expect(cache.refuses('a', 1)).toBe(true);
    // Honest origins are not refused for want of a slot (before, every one was, mesh-wide).
    expect(cache.refuses('c', 1)).toBe(false);
    cache.add('c1', 20, 'c', 1); // b1 goes: b's horizon pushes out a's, the oldest
    expect(cache.refuses('b', 1)).toBe(true);
    expect(cache.refuses('a', 1)).toBe(false);
    expect(cache.has('c1')).toBe(true);
  });

  it('sets the horizon of the entry the count bound pushes out, after others went for their age', () => {
    const cache = new SeenCache(1, 1_000);
    cache.add('a1', 0, 'a', 1);
    cache.sweep(1_000); // a1 goes for its age: no horizon
    cache.add('b5', 1_000, 'b', 5);
    cache.add('c1', 1_010, 'c', 1); // pushes b5 out
    expect(cache.refuses('b', 5)).toBe(true);
    expect(cache.refuses('a', 1)).toBe(false);
  });

  it('forgets each horizon its maximum age after it was last raised, whatever order they were set in', () => {
    const cache = new SeenCache(2, 1_000);
    cache.add('a1', 0, 'a', 1);
    cache.add('b1', 5, 'b', 1);
    cache.add('a2', 10, 'a', 2); // a1 goes: a's horizon, set at 10
    cache.add('c1', 20, 'c', 1); // b1 goes: b's, at 20
    cache.add('d1', 30, 'd', 1); // a2 goes: a's raised, at 30
    cache.sweep(1_020);
    expect(cache.refuses('b', 1)).toBe(false);
    expect(cache.refuses('a', 2)).toBe(true);
  });

  it("lets go of forgotten entries' origins and seqs, however many messages it has seen", () => {
    const cache = new SeenCache(10, 1_000);
    for (let seq = 0; seq < 100_000; seq++) cache.add(`h${seq}`, seq, 'h', seq);
    cache.sweep(100_000);
    for (let seq = 100_000; seq < 110_000; seq++) cache.add(`h${seq}`, seq, 'h', seq);
    // Read from its private state: the parallel arrays show in no result, only in memory.
    const { origins, seqs } = cache as unknown as { origins: unknown[]; seqs: unknown[] };
    expect(origins.length).toBeLessThan(5_000);
    expect(seqs.length).toBeLessThan(5_000);
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
