import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.js';
import {
  ANNOUNCE_JITTER,
  jittered,
  nextAnnounceDelay,
  STARTUP_BURST_OFFSETS_MS,
  startupBurstGaps,
} from '../../src/discovery/cadence.js';

const fixed = (value: number) => ({ next: () => value });

describe('cadence', () => {
  it('jitters within ±25% of the nominal delay (property)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.double({ min: 1, max: 1e6, noNaN: true }), (seed, nominal) => {
        const delay = jittered(seededRandom(seed), nominal);
        expect(delay).toBeGreaterThanOrEqual(nominal * (1 - ANNOUNCE_JITTER));
        expect(delay).toBeLessThan(nominal * (1 + ANNOUNCE_JITTER));
      }),
    );
  });

  it('spans the whole jitter range', () => {
    expect(jittered(fixed(0), 1000)).toBe(750);
    expect(jittered(fixed(0.5), 1000)).toBe(1000);
    expect(jittered(fixed(0.999999), 1000)).toBeCloseTo(1250, 2);
  });

  it('spaces the start-up burst as documented', () => {
    expect(STARTUP_BURST_OFFSETS_MS).toEqual([0, 150, 400]);
    expect(startupBurstGaps(fixed(0.5))).toEqual([150, 250]);
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const [first, second] = startupBurstGaps(seededRandom(seed));
        expect(first).toBeGreaterThanOrEqual(112.5);
        expect(first).toBeLessThan(187.5);
        expect(second).toBeGreaterThanOrEqual(187.5);
        expect(second).toBeLessThan(312.5);
      }),
    );
  });

  it('never makes a burst gap negative, even for offsets out of order', () => {
    expect(startupBurstGaps(fixed(0.5), [0, 100, 50, 50])).toEqual([100, 0, 0]);
  });

  it('uses the eager interval while peers are wanted, the steady one otherwise', () => {
    const intervals = { announceIntervalMs: 5000, eagerIntervalMs: 1000 };
    expect(nextAnnounceDelay(fixed(0.5), true, intervals)).toBe(1000);
    expect(nextAnnounceDelay(fixed(0.5), false, intervals)).toBe(5000);
  });

  it('desynchronises nodes started together', () => {
    const delays = new Set([1, 2, 3, 4, 5].map((seed) => jittered(seededRandom(seed), 1000)));
    expect(delays.size).toBe(5);
  });
});
