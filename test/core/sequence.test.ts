import { describe, expect, it } from 'vitest';
import { SequenceCounter } from '../../src/core/broadcast/sequence.js';

describe('SequenceCounter', () => {
  it('numbers broadcasts from initialSeq, jumping forward to a larger minSeq, never back', () => {
    const counter = new SequenceCounter(5);
    expect(counter.last).toBe(4);
    expect(counter.take(undefined)).toBe(5);
    expect(counter.take(100)).toBe(100);
    expect(counter.take(50)).toBe(101);
    expect(counter.take(Number.NaN)).toBe(102);
    expect(counter.take(2 ** 60)).toBe(103);
    expect(counter.last).toBe(103);
  });
});
