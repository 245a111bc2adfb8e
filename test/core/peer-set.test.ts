import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PeerSet } from '../../src/core/membership/peer-set.js';
import { pickMany, randomInt, seededRandom } from '../../src/core/random.js';
import type { PeerInfo } from '../../src/core/types.js';

const peer = (n: number): PeerInfo => ({ id: n.toString(16).padStart(64, '0'), address: String(n) });

/** A set built by adds and removes, so that the order of its slots is not just insertion order. */
function build(adds: readonly number[], removes: readonly number[]): PeerSet {
  const set = new PeerSet();
  for (const n of adds) set.add(peer(n));
  for (const n of removes) set.remove(peer(n).id);
  return set;
}

const arbitraries = {
  adds: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 35 }),
  removes: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 10 }),
  except: fc.array(fc.option(fc.integer({ min: 0, max: 45 }), { nil: undefined }), { maxLength: 6 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 }),
};

describe('PeerSet', () => {
  it('pickRandomExcept draws and picks as filtering first (model check)', () => {
    fc.assert(
      fc.property(
        arbitraries.adds,
        arbitraries.removes,
        arbitraries.except,
        arbitraries.seed,
        (a, r, e, seed) => {
          const set = build(a, r);
          const except = e.map((n) => (n === undefined ? undefined : peer(n).id));
          const kept = set.values().filter((p) => !except.includes(p.id));
          const reference = seededRandom(seed);
          const expected = kept.length === 0 ? undefined : kept[randomInt(reference, kept.length)];
          const random = seededRandom(seed);
          expect(set.pickRandomExcept(random, except)).toBe(expected);
          expect(random.next()).toBe(reference.next());
        },
      ),
      { numRuns: 500 },
    );
  });

  it('sampleExcept draws and samples as filtering first (model check)', () => {
    fc.assert(
      fc.property(
        arbitraries.adds,
        arbitraries.removes,
        arbitraries.except,
        fc.integer({ min: -1, max: 10 }),
        arbitraries.seed,
        (a, r, e, count, seed) => {
          const set = build(a, r);
          const except = e.map((n) => (n === undefined ? undefined : peer(n).id));
          const kept = set.values().filter((p) => !except.includes(p.id));
          const reference = seededRandom(seed);
          const expected = count <= 0 ? [] : pickMany(reference, kept, count);
          const random = seededRandom(seed);
          expect(set.sampleExcept(random, count, except)).toEqual(expected);
          expect(random.next()).toBe(reference.next());
        },
      ),
      { numRuns: 500 },
    );
  });

  it('sample draws and samples as pickMany, and gives nothing for a count of 0 or less (model check)', () => {
    fc.assert(
      fc.property(
        arbitraries.adds,
        arbitraries.removes,
        fc.integer({ min: -1, max: 10 }),
        arbitraries.seed,
        (a, r, count, seed) => {
          const set = build(a, r);
          const reference = seededRandom(seed);
          const expected = count <= 0 ? [] : pickMany(reference, set.values(), count);
          const random = seededRandom(seed);
          expect(set.sample(random, count)).toEqual(expected);
          expect(random.next()).toBe(reference.next());
        },
      ),
      { numRuns: 200 },
    );
  });

  it('add stores a new peer, and for a present id replaces its card, saying which it did', () => {
    const set = build([1, 2], []);
    expect(set.add(peer(3))).toBe(true);
    const moved = { id: peer(2).id, address: 'elsewhere' };
    expect(set.add(moved)).toBe(false);
    expect(set.get(peer(2).id)).toBe(moved);
    expect(set.size).toBe(3);
  });
});
