import { describe, expect, it } from 'vitest';
import { KeyedRateLimiter, TokenBucket } from '../../src/transport/rate-limit.js';

/** How many of `tries` takes at `now` succeed. */
function taken(take: (now: number) => boolean, tries: number, now: number): number {
  let count = 0;
  for (let i = 0; i < tries; i++) if (take(now)) count++;
  return count;
}

describe('TokenBucket', () => {
  it('holds at most its burst, however long it stayed unused', () => {
    const bucket = new TokenBucket(10, 5, 0);
    expect(taken((now) => bucket.take(now), 20, 0)).toBe(5);
    // A minute idle would refill 600 tokens: the bucket keeps only its burst.
    expect(taken((now) => bucket.take(now), 20, 60_000)).toBe(5);
    // Then the rate: 10 a second, so 2 in 200 ms.
    expect(taken((now) => bucket.take(now), 20, 60_200)).toBe(2);
  });
});

describe('KeyedRateLimiter', () => {
  it('keeps a bucket per source, at most maxKeys of them, forgetting the oldest first', () => {
    const limiter = new KeyedRateLimiter(1, 2, 2);
    expect(taken((now) => limiter.take('a', now), 5, 0)).toBe(2);
    expect(taken((now) => limiter.take('b', now), 5, 0)).toBe(2);
    // 'a' and 'b' are tracked, each with its bucket spent.
    expect(limiter.take('a', 0)).toBe(false);
    // A third source pushes out the oldest, 'a', which starts again with a full bucket.
    expect(taken((now) => limiter.take('c', now), 5, 0)).toBe(2);
    expect(limiter.take('b', 0)).toBe(false);
    expect(taken((now) => limiter.take('a', now), 5, 0)).toBe(2);
  });
});
