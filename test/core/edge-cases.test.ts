import { describe, expect, it } from 'vitest';
import type { ProtocolAction } from '../../src/core/actions.js';
import { actionsOf, Harness, neighborRequests, peer, sends } from './helpers.js';

function repairTick(node: Harness, at: number): ProtocolAction[] {
  node.now = at;
  return node.protocol.handle({ type: 'timer', timer: { type: 'repair' } }, at);
}

describe('HyParView: edge cases no other test reached (found by mutation)', () => {
  it('a ForwardJoin walk ending at us names a peer we already asked: no second request', () => {
    const node = new Harness().withNeighbours(1);
    node.withPassive(3);
    expect(neighborRequests(repairTick(node, 1_000))).toEqual([{ to: peer(3).id, priority: 'low' }]);
    const actions = node.receive(1, { type: 'forwardJoin', peer: peer(3), ttl: 0 });
    expect(neighborRequests(actions)).toEqual([]);
    expect(node.protocol.stats().pendingRequests).toBe(1);
  });

  it('refusing a peer it had asked itself (requests crossed), drops its own request', () => {
    const node = new Harness({ activeViewSize: 2 }).withNeighbours(1);
    node.withPassive(3);
    expect(neighborRequests(repairTick(node, 1_000))).toEqual([{ to: peer(3).id, priority: 'low' }]);
    node.withNeighbours(2); // the view fills while our request to 3 is out
    const refused = node.receive(3, { type: 'neighbor', priority: 'low' });
    expect(sends(refused, 'neighborReply').map((s) => s.message)).toEqual([
      { type: 'neighborReply', accepted: false },
    ]);
    expect(node.protocol.stats().pendingRequests).toBe(0);
    // 3's acceptance of our (moot) request is undone, not taken in by evicting a neighbour.
    const late = node.receive(3, { type: 'neighborReply', accepted: true });
    expect(sends(late, 'disconnect').map((s) => s.message)).toEqual([{ type: 'disconnect', alive: true }]);
    expect([...node.active()].sort()).toEqual([peer(1).id, peer(2).id].sort());
  });

  it('undoing an acceptance it no longer waits for, keeps the peer as a replacement', () => {
    const node = new Harness().withNeighbours(1);
    const actions = node.receive(5, { type: 'neighborReply', accepted: true });
    expect(sends(actions, 'disconnect').map((s) => s.to)).toEqual([peer(5)]);
    expect(node.active()).toEqual([peer(1).id]);
    expect(node.passive()).toEqual([peer(5).id]);
  });

  it('a candidate that leaves for good while asked is replaced at once', () => {
    const node = new Harness().withNeighbours(1);
    node.withPassive(3, 4);
    const first = neighborRequests(repairTick(node, 1_000));
    expect(first).toHaveLength(1);
    const asked = first[0]?.to === peer(3).id ? 3 : 4;
    const other = asked === 3 ? 4 : 3;
    const actions = node.receive(asked, { type: 'disconnect', alive: false });
    expect(neighborRequests(actions)).toEqual([{ to: peer(other).id, priority: 'low' }]);
    expect(node.passive()).toEqual([peer(other).id]);
  });

  it('answering a Shuffle whose origin we asked to be a neighbour, keeps that link open', () => {
    const node = new Harness().withNeighbours(1);
    node.withPassive(5);
    expect(neighborRequests(repairTick(node, 1_000))).toEqual([{ to: peer(5).id, priority: 'low' }]);
    const actions = node.receive(1, { type: 'shuffle', origin: peer(5), ttl: 0, peers: [] });
    expect(sends(actions, 'shuffleReply').map((s) => s.to)).toEqual([peer(5)]);
    expect(actionsOf(actions, 'disconnect')).toEqual([]);
  });

  it('a neighbour repeating our own tag changes nothing and sends nothing', () => {
    const node = new Harness().withNeighbours(1, 2);
    const tag = node.protocol.overlayTag();
    const actions = node.receive(1, { type: 'overlayTag', tag, probe: false });
    expect(sends(actions)).toEqual([]);
    expect(actions.filter((a) => a.type === 'setTimer')).toEqual([]);
  });

  it('a candidate whose link drops before it answers is forgotten and another is asked', () => {
    const node = new Harness().withNeighbours(1);
    node.withPassive(3, 4);
    const first = neighborRequests(repairTick(node, 1_000));
    const asked = first[0]?.to === peer(3).id ? 3 : 4;
    const other = asked === 3 ? 4 : 3;
    const actions = node.protocol.handle({ type: 'linkDown', peer: peer(asked).id }, node.now);
    expect(neighborRequests(actions)).toEqual([{ to: peer(other).id, priority: 'low' }]);
    expect(node.passive()).toEqual([peer(other).id]);
  });

  it('integrating a ShuffleReply into a full passive view evicts the peers it sent first (§4.4)', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const node = new Harness({ passiveViewSize: 6, shufflePassiveCount: 1, shuffleActiveCount: 0 }, seed);
      node.withNeighbours(1);
      node.withPassive(3, 4, 5, 6, 7, 8);
      const shuffle = sends(
        node.protocol.handle({ type: 'timer', timer: { type: 'shuffle' } }, 0),
        'shuffle',
      );
      expect(shuffle).toHaveLength(1);
      const message = shuffle[0]?.message;
      const sent = message?.type === 'shuffle' ? message.peers.map((p) => p.id) : [];
      expect(sent).toHaveLength(1);
      node.receive(1, { type: 'shuffleReply', peers: [peer(9)] });
      expect(node.passive()).toContain(peer(9).id);
      expect(node.passive()).not.toContain(sent[0]);
      expect(node.passive()).toHaveLength(6);
    }
  });
});

function gossip(origin: number, seq: number, hops = 0) {
  return { type: 'gossip' as const, origin: peer(origin).id, seq, hops, payload: new Uint8Array([seq]) };
}

describe('Plumtree: edge cases no other test reached (found by mutation)', () => {
  it('a neighbour lost and back is not taken for one we just pruned: its first copy sends no Graft', () => {
    const node = new Harness().withNeighbours(1, 2);
    node.receive(2, gossip(9, 1));
    // The duplicate from 1 prunes it.
    expect(sends(node.receive(1, gossip(9, 1)), 'prune').map((s) => s.to)).toEqual([peer(1)]);
    node.protocol.handle({ type: 'linkDown', peer: peer(1).id }, node.now);
    node.withNeighbours(1);
    node.receive(1, { type: 'prune', origin: peer(9).id }); // we push to 1 lazily again
    const actions = node.receive(1, gossip(9, 2));
    expect(sends(actions, 'graft')).toEqual([]);
  });
});
