import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { messageKey } from '../../src/core/broadcast/message-id.js';

const origin = fc.constantFrom('a'.repeat(64), 'b'.repeat(64), `${'c'.repeat(63)}d`, 'e'.repeat(64));
/**
 * Small seqs (small-integer keys), wall-clock microseconds (number keys within an origin's window,
 * strings around its edges) and any others (mostly string keys).
 */
const seq = fc.oneof(
  fc.integer({ min: 0, max: 20_000 }),
  fc.integer({ min: 1_700_000_000_000_000 - 2 ** 38, max: 1_700_000_000_000_000 + 2 ** 41 }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
);

describe('messageKey', () => {
  it('gives equal keys exactly to equal (origin, seq) pairs', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(origin, seq), { maxLength: 40 }), (pairs) => {
        for (const [o1, s1] of pairs) {
          for (const [o2, s2] of pairs) {
            expect(messageKey(o1, s1) === messageKey(o2, s2)).toBe(o1 === o2 && s1 === s2);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it("gives number keys to an origin's small seqs and to its wall-clock seqs, a string far outside them", () => {
    const origin = 'f'.repeat(64);
    const now = 1_700_000_000_000_000;
    expect(typeof messageKey(origin, 1)).toBe('number');
    expect(typeof messageKey(origin, now)).toBe('number');
    // Twelve days of microseconds later, still within the window the first large seq opened.
    expect(typeof messageKey(origin, now + 1_000_000_000_000)).toBe('number');
    expect(messageKey(origin, now + 1)).toBe((messageKey(origin, now) as number) + 1);
    expect(typeof messageKey(origin, now + 2 ** 41)).toBe('string');
    expect(typeof messageKey(origin, now - 2 ** 37)).toBe('string');
    // Every number key is exact: no two pairs can round to the same double.
    expect(Number.isSafeInteger(messageKey(origin, now))).toBe(true);
  });

  it("never gives an origin's seq at the small-seq limit the key of the next origin's seq 0", () => {
    const [x, y] = ['1'.repeat(64), '2'.repeat(64)];
    // Numbered one after the other: a small-seq key is number × 2^14 + seq.
    messageKey(x, 0);
    messageKey(y, 0);
    for (let seq = 2 ** 14 - 2; seq <= 2 ** 14 + 2; seq++) {
      expect(messageKey(x, seq)).not.toBe(messageKey(y, 0));
      expect(messageKey(x, seq)).not.toBe(messageKey(y, 1));
    }
  });

  it("never gives a seq just outside an origin's window the key of a seq in the next origin's", () => {
    const [x, y] = ['3'.repeat(64), '4'.repeat(64)];
    const now = 1_700_000_000_000_000;
    // Windows given one after the other, each opening 2^36 below the first large seq met and
    // spanning 2^40: x's keys run up to just below y's first.
    const start = now - 2 ** 36;
    messageKey(x, now);
    messageKey(y, now);
    expect(messageKey(x, start + 2 ** 40)).not.toBe(messageKey(y, start));
    expect(messageKey(y, start - 1)).not.toBe(messageKey(x, start + 2 ** 40 - 1));
    expect(typeof messageKey(x, start + 2 ** 40)).toBe('string');
    expect(typeof messageKey(y, start - 1)).toBe('string');
  });

  it('keeps the small-seq keys of every numbered origin below 2^30, where wall-clock keys start', () => {
    // Past 65,536 origins, small seqs get string keys: a number for the next origin would be the
    // key of the first window's first seq.
    let highest = 0;
    for (let i = 0; i < 65_600; i++) {
      const key = messageKey(`z${i}`, 2 ** 14 - 1);
      if (typeof key === 'number') highest = Math.max(highest, key);
    }
    expect(highest).toBeLessThan(2 ** 30);
  });
});
