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
});
