import { describe, expect, it } from 'vitest';
import { SCRATCH_GROWTH_BYTES, ScratchBuffer } from '../../src/transport/scratch-buffer.js';

describe('ScratchBuffer', () => {
  it('hands out views of one memory while requests fit, growing in steps', () => {
    const scratch = new ScratchBuffer(64 * 1024);
    const first = scratch.take(100);
    const second = scratch.take(SCRATCH_GROWTH_BYTES);
    expect(second.buffer).toBe(first.buffer);
    expect(scratch.holds(first)).toBe(true);
    const grown = scratch.take(SCRATCH_GROWTH_BYTES + 1);
    expect(grown.length).toBe(SCRATCH_GROWTH_BYTES + 1);
    expect(grown.buffer).not.toBe(first.buffer);
    expect(grown.buffer.byteLength).toBe(2 * SCRATCH_GROWTH_BYTES);
    expect(scratch.holds(first)).toBe(false);
  });

  it('uses new memory after surrender(), so a view kept by someone else is never overwritten', () => {
    const scratch = new ScratchBuffer(64 * 1024);
    const kept = scratch.take(10).fill(1);
    scratch.surrender();
    scratch.take(10).fill(2);
    expect([...kept]).toEqual(new Array(10).fill(1));
    expect(scratch.holds(kept)).toBe(false);
  });

  it('gives a request above the maximum a buffer of its own, and counts every take', () => {
    const scratch = new ScratchBuffer(1024);
    const before = scratch.generation;
    const large = scratch.take(4096);
    expect(large.length).toBe(4096);
    expect(scratch.holds(large)).toBe(false);
    scratch.take(10);
    expect(scratch.generation).toBe(before + 2);
  });
});
