import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NeighbourList } from '../../src/core/broadcast/neighbour-list.js';
import type { PeerInfo } from '../../src/core/types.js';

describe('NeighbourList', () => {
  it('behaves as a Map from id to peer, order included', () => {
    const op = fc.record({ set: fc.boolean(), id: fc.integer({ min: 0, max: 6 }), address: fc.nat(3) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const list = new NeighbourList();
        const model = new Map<string, PeerInfo>();
        for (const o of ops) {
          const id = `n${o.id}`;
          if (o.set) {
            const peer = { id, address: `a${o.address}` };
            list.set(peer);
            model.set(id, peer);
          } else {
            list.delete(id);
            model.delete(id);
          }
          expect(list.size).toBe(model.size);
          const peers = Array.from({ length: list.size }, (_, i) => list.peerAt(i));
          expect(peers).toEqual([...model.values()]);
          expect(list.has(id)).toBe(model.has(id));
          expect(list.get(id)).toBe(model.get(id));
        }
      }),
    );
  });
});
