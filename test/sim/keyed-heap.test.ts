import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyedHeap } from '../../src/sim/keyed-heap.js';

describe('KeyedHeap', () => {
  it('pops by (time, order) for any mix of pushes and pops, growing from room for one', () => {
    // Each operation: a time (few values, so ties are common) or null to pop.
    const operations = fc.array(fc.option(fc.integer({ min: 0, max: 8 }), { nil: null, freq: 3 }), {
      maxLength: 300,
    });
    fc.assert(
      fc.property(operations, (ops) => {
        const heap = new KeyedHeap<number>(1);
        const model: { time: number; order: number }[] = [];
        let order = 0;
        for (const op of ops) {
          if (op === null) {
            model.sort((a, b) => a.time - b.time || a.order - b.order);
            const expected = model.shift();
            expect(heap.peekTime()).toBe(expected?.time);
            expect(heap.peekOrder()).toBe(expected?.order);
            expect(heap.pop()).toBe(expected?.order);
          } else {
            heap.push(op, order, order);
            model.push({ time: op, order });
            order++;
          }
          expect(heap.size).toBe(model.length);
        }
      }),
    );
  });

  it('clear() empties it, and it fills again in order', () => {
    const heap = new KeyedHeap<string>(2);
    heap.push(3, 0, 'x');
    heap.push(1, 1, 'y');
    heap.push(2, 2, 'z');
    heap.clear();
    expect(heap.size).toBe(0);
    expect(heap.pop()).toBeUndefined();
    expect(heap.peekTime()).toBeUndefined();
    heap.push(5, 3, 'b');
    heap.push(4, 4, 'a');
    expect([heap.pop(), heap.pop(), heap.pop()]).toEqual(['a', 'b', undefined]);
  });
});
