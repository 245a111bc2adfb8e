import { describe, expect, it } from 'vitest';
import type { Gossip } from '../../src/core/messages.js';
import { actionsOf, Harness, ids, peer, sends } from './helpers.js';

/** The default strategy is Plumtree; these tests pin flooding. */
const FLOOD = { broadcast: 'flood' } as const;

function gossip(origin: number, seq: number, hops = 0, payload = new Uint8Array([seq & 0xff])): Gossip {
  return { type: 'gossip', origin: peer(origin).id, seq, hops, payload };
}

describe('flood broadcast', () => {
  it('sends a broadcast to every neighbour, numbered from initialSeq, and never delivers it to itself', () => {
    const node = new Harness({ ...FLOOD, initialSeq: 1_000 }).withNeighbours(1, 2, 3);
    const payload = new Uint8Array([7, 7]);
    const actions = node.protocol.handle({ type: 'broadcast', payload }, 0);
    const sent = sends(actions, 'gossip');
    expect(ids(sent.map((s) => s.to)).sort()).toEqual([peer(1).id, peer(2).id, peer(3).id].sort());
    for (const s of sent)
      expect(s.message).toEqual({ type: 'gossip', origin: node.self.id, seq: 1_000, hops: 0, payload });
    expect(actionsOf(actions, 'deliver')).toEqual([]);
    expect(node.protocol.lastSeq()).toBe(1_000);
    const next = sends(node.protocol.handle({ type: 'broadcast', payload }, 0), 'gossip');
    expect(next[0]?.message).toMatchObject({ seq: 1_001 });
    // Our own message flooding back is a duplicate, not a delivery.
    const echo = node.receive(2, { type: 'gossip', origin: node.self.id, seq: 1_000, hops: 2, payload });
    expect(echo).toEqual([]);
    expect(node.protocol.stats()).toMatchObject({
      broadcasts: 2,
      payloadsSent: 6,
      duplicates: 1,
      delivered: 0,
    });
  });

  it('never delivers nor relays its own message, even once the seen cache forgot it', () => {
    const node = new Harness({ ...FLOOD, seenCacheMaxEntries: 1 }).withNeighbours(1, 2);
    const payload = new Uint8Array([7]);
    node.protocol.handle({ type: 'broadcast', payload }, 0);
    node.protocol.handle({ type: 'broadcast', payload }, 0); // message 0 leaves the seen cache
    expect(node.receive(1, { type: 'gossip', origin: node.self.id, seq: 0, hops: 3, payload })).toEqual([]);
    expect(node.protocol.stats()).toMatchObject({ duplicates: 1, delivered: 0 });
  });

  it('delivers a new payload once and relays it to every neighbour but the sender, one hop further', () => {
    const node = new Harness(FLOOD).withNeighbours(1, 2, 3);
    const message = gossip(9, 5, 2);
    const actions = node.receive(1, message);
    expect(actionsOf(actions, 'deliver')).toEqual([
      { type: 'deliver', origin: peer(9).id, seq: 5, hops: 3, payload: message.payload },
    ]);
    const relayed = sends(actions, 'gossip');
    expect(ids(relayed.map((s) => s.to)).sort()).toEqual([peer(2).id, peer(3).id].sort());
    for (const s of relayed) expect(s.message).toEqual({ ...message, hops: 3 });
    // The relays first, as in Plumtree: the runtime calls the listeners at the deliver action.
    const lastRelay = actions.findLastIndex((a) => a.type === 'send' && a.message.type === 'gossip');
    expect(actions.findIndex((a) => a.type === 'deliver')).toBeGreaterThan(lastRelay);
  });

  it('counts a duplicate and neither delivers nor relays it', () => {
    const node = new Harness(FLOOD).withNeighbours(1, 2, 3);
    node.receive(1, gossip(9, 5));
    expect(node.receive(2, gossip(9, 5))).toEqual([]);
    expect(node.receive(3, gossip(9, 5, 4))).toEqual([]);
    // Same origin, other seq; other origin, same seq: both new.
    expect(actionsOf(node.receive(2, gossip(9, 6)), 'deliver')).toHaveLength(1);
    expect(actionsOf(node.receive(2, gossip(8, 5)), 'deliver')).toHaveLength(1);
    expect(node.protocol.stats()).toMatchObject({ payloadsReceived: 5, duplicates: 2, delivered: 3 });
  });

  it('stops relaying to a neighbour once it is down', () => {
    const node = new Harness(FLOOD).withNeighbours(1, 2, 3);
    node.protocol.handle({ type: 'linkDown', peer: peer(3).id }, 0);
    const relayed = sends(node.receive(1, gossip(9, 1)), 'gossip');
    expect(relayed.map((s) => s.to.id)).toEqual([peer(2).id]);
  });

  it('forgets the oldest entries beyond seenCacheMaxEntries', () => {
    const node = new Harness({ ...FLOOD, seenCacheMaxEntries: 3 }).withNeighbours(1);
    for (let seq = 1; seq <= 4; seq++) node.receive(1, gossip(9, seq));
    expect(node.protocol.stats().seenCacheSize).toBe(3);
    // seq 2..4 are still duplicates; seq 1 was forgotten, and is refused by the origin's horizon
    // instead of being delivered again (a flush of the cache must not open it to replays).
    expect(actionsOf(node.receive(1, gossip(9, 4)), 'deliver')).toEqual([]);
    expect(actionsOf(node.receive(1, gossip(9, 1)), 'deliver')).toEqual([]);
    expect(node.protocol.stats()).toMatchObject({ duplicates: 1, staleMessages: 1 });
    expect(actionsOf(node.receive(1, gossip(9, 5)), 'deliver')).toHaveLength(1);
  });

  it('forgets entries older than seenCacheMaxAge on the sweep timer, which re-arms itself', () => {
    const options = { ...FLOOD, seenCacheMaxAge: 60_000, seenSweepInterval: 10_000 };
    const node = new Harness(options).withNeighbours(1);
    const start = node.protocol.handle({ type: 'start' }, 0);
    expect(actionsOf(start, 'setTimer').map((a) => a.timer)).toContainEqual({ type: 'seenSweep' });
    node.protocol.handle({ type: 'message', from: peer(1), message: gossip(9, 1) }, 0);
    node.protocol.handle({ type: 'message', from: peer(1), message: gossip(9, 2) }, 30_000);
    const sweep = node.protocol.handle({ type: 'timer', timer: { type: 'seenSweep' } }, 70_000);
    expect(actionsOf(sweep, 'setTimer')).toEqual([
      { type: 'setTimer', after: 10_000, timer: { type: 'seenSweep' } },
    ]);
    expect(node.protocol.stats().seenCacheSize).toBe(1);
    node.protocol.handle({ type: 'timer', timer: { type: 'seenSweep' } }, 90_001);
    expect(node.protocol.stats().seenCacheSize).toBe(0);
  });

  it('arms the sweep timer once, however often it is started', () => {
    const node = new Harness(FLOOD).withNeighbours(1);
    node.protocol.handle({ type: 'start' }, 0);
    const again = node.protocol.handle({ type: 'start' }, 0);
    expect(actionsOf(again, 'setTimer').map((a) => a.timer)).not.toContainEqual({ type: 'seenSweep' });
  });

  it('counts malformed payloads and broadcast messages it does not speak, without throwing', () => {
    const node = new Harness(FLOOD).withNeighbours(1);
    expect(node.receive(1, gossip(9, -1))).toEqual([]);
    expect(node.receive(1, gossip(9, 1.5))).toEqual([]);
    expect(node.receive(1, gossip(9, 1, -1))).toEqual([]);
    expect(node.receive(1, gossip(9, 1, Number.MAX_SAFE_INTEGER))).toEqual([]);
    expect(node.receive(1, { type: 'prune', origin: peer(9).id })).toEqual([]);
    expect(node.receive(1, { type: 'graft', origin: peer(9).id, seq: 1, request: true })).toEqual([]);
    expect(node.protocol.stats()).toMatchObject({ invalidPayloads: 6, delivered: 0 });
  });

  it('rejects options no node could run with', () => {
    expect(() => new Harness({ ...FLOOD, seenCacheMaxEntries: 0 })).toThrow(RangeError);
    expect(() => new Harness({ ...FLOOD, initialSeq: -1 })).toThrow(RangeError);
    expect(() => new Harness({ ...FLOOD, activeViewSize: 0 })).toThrow(RangeError);
    expect(() => new Harness({ ...FLOOD, shuffleJitter: 1 })).toThrow(RangeError);
  });
});
