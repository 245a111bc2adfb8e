import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/sim/event-queue.js';

describe('EventQueue', () => {
  it('pops by time, and equal times in insertion order', () => {
    const queue = new EventQueue<string>();
    queue.push(5, 'e');
    queue.push(1, 'a');
    queue.push(3, 'c1');
    queue.push(3, 'c2');
    queue.push(1, 'b');
    queue.push(3, 'c3');
    const out: string[] = [];
    while (queue.size > 0) out.push(queue.pop() as string);
    expect(out).toEqual(['a', 'b', 'c1', 'c2', 'c3', 'e']);
    expect(queue.pop()).toBeUndefined();
    expect(queue.peekTime()).toBeUndefined();
  });

  it('peekTime is the time of the event pop returns', () => {
    const queue = new EventQueue<number>();
    queue.push(7, 7);
    queue.push(2, 2);
    expect(queue.peekTime()).toBe(2);
    expect(queue.pop()).toBe(2);
    expect(queue.peekTime()).toBe(7);
  });

  it('matches a stable sort for any mix of pushes and pops, whatever the bucket width', () => {
    // Each operation: a delay after the last popped time (small range with halves, so ties are
    // common and bucket edges are hit) or null to pop. The simulator never schedules in the past.
    const delay = fc.integer({ min: 0, max: 40 }).map((n) => n / 2);
    const operations = fc.array(fc.option(delay, { nil: null, freq: 3 }), { maxLength: 400 });
    const widths = fc.constantFrom(0.5, 1, 3, 10, 1e12);
    fc.assert(
      fc.property(operations, widths, (ops, width) => {
        const queue = new EventQueue<number>(width);
        let now = 0;
        const model: { time: number; id: number }[] = [];
        let id = 0;
        for (const op of ops) {
          if (op === null) {
            // The model: earliest time, then lowest id (insertion order).
            let best = -1;
            for (let i = 0; i < model.length; i++) {
              const entry = model[i] as { time: number; id: number };
              const current = model[best];
              if (current === undefined || entry.time < current.time) best = i;
            }
            const expected = best < 0 ? undefined : model.splice(best, 1)[0];
            expect(queue.peekTime()).toBe(expected?.time);
            expect(queue.pop()).toBe(expected?.id);
            if (expected !== undefined) now = expected.time;
          } else {
            queue.push(now + op, id);
            model.push({ time: now + op, id });
            id++;
          }
          expect(queue.size).toBe(model.length);
        }
      }),
    );
  });
});
