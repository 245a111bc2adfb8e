import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Direction, type LinkCandidate, resolveDuplicates } from '../../src/transport/duplicate-rule.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

interface Link extends LinkCandidate {
  readonly name: string;
}

function link(name: string, direction: Direction, establishedSeq: number): Link {
  return { name, direction, establishedSeq };
}

/** The same physical links seen from each end: direction flips, handshake order is independent. */
const scenario = fc
  .array(fc.constantFrom<'x' | 'y'>('x', 'y'), { minLength: 1, maxLength: 5 })
  .chain((dialers) =>
    fc.record({
      dialers: fc.constant(dialers),
      orderX: fc.shuffledSubarray(
        dialers.map((_, i) => i),
        { minLength: dialers.length },
      ),
      orderY: fc.shuffledSubarray(
        dialers.map((_, i) => i),
        { minLength: dialers.length },
      ),
      xIsSmaller: fc.boolean(),
    }),
  );

describe('resolveDuplicates', () => {
  it('keeps the link dialed by the smaller id, on both ends', () => {
    const atA = resolveDuplicates(A, B, [link('ab', 'out', 2), link('ba', 'in', 1)]);
    const atB = resolveDuplicates(B, A, [link('ab', 'in', 1), link('ba', 'out', 2)]);
    expect(atA.active.name).toBe('ab');
    expect(atB.active.name).toBe('ab');
    expect(atA.retire.map((l) => l.name)).toEqual(['ba']);
    expect(atB.retire.map((l) => l.name)).toEqual(['ba']);
  });

  it('keeps a lone link whoever dialed it', () => {
    expect(resolveDuplicates(B, A, [link('ba', 'out', 1)])).toEqual({
      active: link('ba', 'out', 1),
      retire: [],
      standby: [],
    });
  });

  it('lets only the dialer choose among links it dialed', () => {
    const atDialer = resolveDuplicates(A, B, [link('late', 'out', 2), link('early', 'out', 1)]);
    expect(atDialer.active.name).toBe('early');
    expect(atDialer.retire.map((l) => l.name)).toEqual(['late']);
    const atAcceptor = resolveDuplicates(B, A, [link('late', 'in', 1), link('early', 'in', 2)]);
    expect(atAcceptor.retire).toEqual([]);
    expect(atAcceptor.standby).toHaveLength(1);
  });

  it('both ends agree without a round trip, whatever the handshake order', () => {
    fc.assert(
      fc.property(scenario, ({ dialers, orderX, orderY, xIsSmaller }) => {
        const [x, y] = xIsSmaller ? [A, B] : [B, A];
        const view = (me: 'x' | 'y', order: number[]): Link[] =>
          dialers.map((dialer, i) => link(String(i), dialer === me ? 'out' : 'in', order.indexOf(i)));
        const atX = resolveDuplicates(x, y, view('x', orderX));
        const atY = resolveDuplicates(y, x, view('y', orderY));
        const dialerOf = (l: Link): 'x' | 'y' => dialers[Number(l.name)] as 'x' | 'y';
        // Both keep a link of the same dialer: the smaller id whenever it dialed at least one.
        expect(dialerOf(atX.active)).toBe(dialerOf(atY.active));
        const smaller = xIsSmaller ? 'x' : 'y';
        if (dialers.includes(smaller)) expect(dialerOf(atX.active)).toBe(smaller);
        // The link the dialer keeps is never retired by the other end.
        const dialerSide = dialerOf(atX.active) === 'x' ? atX : atY;
        const otherSide = dialerSide === atX ? atY : atX;
        expect(otherSide.retire.map((l) => l.name)).not.toContain(dialerSide.active.name);
        // Everything is accounted for exactly once.
        for (const side of [atX, atY]) {
          const all = [side.active, ...side.retire, ...side.standby].map((l) => l.name).sort();
          expect(all).toEqual(dialers.map((_, i) => String(i)).sort());
        }
      }),
    );
  });
});
