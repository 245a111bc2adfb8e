import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { messageKey } from '../../src/core/broadcast/message-id.js';

const origin = fc.constantFrom('a'.repeat(64), 'b'.repeat(64), `${'c'.repeat(63)}d`, 'e'.repeat(64));
/** Small seqs (numbered keys) and large ones (string keys), the runtime's wall-clock ones included. */
const seq = fc.oneof(
  fc.integer({ min: 0, max: 20_000 }),
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

  it('keeps a string key for a seq too large to combine with the origin', () => {
    expect(typeof messageKey('f'.repeat(64), 1_700_000_000_000_000)).toBe('string');
    expect(typeof messageKey('f'.repeat(64), 1)).toBe('number');
  });
});
