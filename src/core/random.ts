import { randomBytes } from 'node:crypto';

/**
 * The only source of randomness the core may use, injected so the simulator can replay a run
 * bit for bit from a seed.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

/** Uniform integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random.next() * n);
}

/** A uniformly chosen element, or undefined for an empty array. */
export function pickOne<T>(random: Random, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[randomInt(random, items.length)];
}

/** Up to `count` distinct elements in random order (partial Fisher-Yates on a copy). */
export function pickMany<T>(random: Random, items: readonly T[], count: number): T[] {
  return pickManyInPlace(random, items.slice(), count);
}

/**
 * As pickMany (same draws, same result), but shuffles and truncates `copy` itself: for a caller
 * whose array is already a fresh copy, such as the result of a filter.
 */
export function pickManyInPlace<T>(random: Random, copy: T[], count: number): T[] {
  const n = Math.min(count, copy.length);
  for (let i = 0; i < n; i++) {
    const j = i + randomInt(random, copy.length - i);
    const tmp = copy[i] as T;
    copy[i] = copy[j] as T;
    copy[j] = tmp;
  }
  copy.length = n;
  return copy;
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counter): 128 bits of state, passes PractRand, and is
 * a few nanoseconds per number, which matters when the simulator draws millions of them.
 */
export function seededRandom(seed: number): Random {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  // Discard the first outputs so that nearby seeds give unrelated streams.
  for (let i = 0; i < 12; i++) next32();
  return { next: () => next32() / 4294967296 };
}

/** A generator seeded from the operating system, for real nodes. */
export function systemRandom(): Random {
  return seededRandom(randomBytes(4).readUInt32LE(0));
}

/**
 * `value` spread uniformly over ±`fraction` of itself, so that periodic work started at the same
 * moment on many nodes drifts apart instead of firing in lock-step.
 */
export function jittered(random: Random, value: number, fraction: number): number {
  return value * (1 - fraction + 2 * fraction * random.next());
}
