import { describe, expect, it } from 'vitest';
import type { ProtocolAction } from '../../src/core/actions.js';
import { SHUFFLE_REPLY_WINDOW } from '../../src/core/membership/hyparview.js';
import type { ProtocolMessage } from '../../src/core/messages.js';
import type { AddressCheck } from '../../src/core/protocol.js';
import type { PeerInfo } from '../../src/core/types.js';
import { mayDialSecondHand } from '../../src/transport/second-hand.js';
import { actionsOf, Harness, ids, peer, sends } from './helpers.js';

/** The view invariants: no duplicates, disjoint views, never ourselves, within their sizes. */
function expectSaneViews(node: Harness, activeViewSize = 5, passiveViewSize = 30): void {
  const active = node.active();
  const passive = node.passive();
  expect(new Set(active).size).toBe(active.length);
  expect(new Set(passive).size).toBe(passive.length);
  expect(active.filter((id) => passive.includes(id))).toEqual([]);
  expect([...active, ...passive]).not.toContain(node.self.id);
  expect(active.length).toBeLessThanOrEqual(activeViewSize);
  expect(passive.length).toBeLessThanOrEqual(passiveViewSize);
}

function shuffleTimer(node: Harness): ProtocolAction[] {
  return node.protocol.handle({ type: 'timer', timer: { type: 'shuffle' } }, node.now);
}

/** A made-up peer at an address of the attacker's choosing. */
function fake(index: number): PeerInfo {
  return { id: peer(1000 + index).id, address: `attacker-${index}` };
}

const HONEST_PASSIVE = Array.from({ length: 30 }, (_, i) => 100 + i);

describe('HyParView against a hostile peer: passive view', () => {
  it('ignores a ShuffleReply when no shuffle of ours awaits one, from a stranger or a neighbour', () => {
    const node = new Harness().withNeighbours(1, 2, 3, 4, 5);
    node.withPassive(...HONEST_PASSIVE);
    const before = node.protocol.passiveView();
    for (const sender of [66, 1]) {
      for (let frame = 0; frame < 6; frame++) {
        const peers = Array.from({ length: 32 }, (_, j) => fake(frame * 32 + j));
        expect(node.receive(sender, { type: 'shuffleReply', peers })).toEqual([]);
      }
    }
    expect(node.protocol.passiveView()).toEqual(before);
    expectSaneViews(node);
  });

  it('integrates one reply per shuffle of ours, and no second one', () => {
    const node = new Harness().withNeighbours(1, 2);
    shuffleTimer(node);
    node.receive(40, { type: 'shuffleReply', peers: [peer(41), peer(42)] });
    node.receive(43, { type: 'shuffleReply', peers: [fake(1), fake(2)] });
    expect(node.passive().sort()).toEqual([peer(41).id, peer(42).id].sort());
    shuffleTimer(node);
    node.receive(44, { type: 'shuffleReply', peers: [peer(45)] });
    expect(node.passive()).toContain(peer(45).id);
    expectSaneViews(node);
  });

  it('takes the reply to its shuffle only within the reply window: a lost walk leaves no opening', () => {
    const node = new Harness().withNeighbours(1, 2);
    shuffleTimer(node);
    node.now = SHUFFLE_REPLY_WINDOW + 1;
    node.receive(40, { type: 'shuffleReply', peers: [fake(1), fake(2)] });
    expect(node.passive()).toEqual([]);
    // Past the window, a neighbour's reply is again what it is unasked: an eviction hint.
    node.receive(1, { type: 'shuffleReply', peers: [peer(50)] });
    node.receive(1, { type: 'disconnect', alive: true });
    expect(node.passive().sort()).toEqual([peer(1).id, peer(50).id].sort());
    shuffleTimer(node);
    node.now += SHUFFLE_REPLY_WINDOW;
    node.receive(41, { type: 'shuffleReply', peers: [peer(42)] });
    expect(node.passive()).toContain(peer(42).id);
    expectSaneViews(node);
  });

  it('learns the candidates an evicting neighbour hands it, once its Disconnect{alive:true} follows', () => {
    const node = new Harness().withNeighbours(1, 2);
    node.receive(1, { type: 'shuffleReply', peers: [peer(50), peer(51)] });
    expect(node.passive()).toEqual([]);
    node.receive(1, { type: 'disconnect', alive: true });
    expect(node.passive().sort()).toEqual([peer(1).id, peer(50).id, peer(51).id].sort());
    expect(node.active()).toEqual([peer(2).id]);
    expectSaneViews(node);
  });

  it('keeps no hint from a stranger: one that later becomes a neighbour and leaves hands it nothing', () => {
    const node = new Harness().withNeighbours(1, 2);
    node.receive(7, { type: 'shuffleReply', peers: [fake(1), fake(2)] });
    node.receive(7, { type: 'neighbor', priority: 'high' });
    node.receive(7, { type: 'disconnect', alive: true });
    expect(node.passive()).toEqual([peer(7).id]);
    expectSaneViews(node);
  });

  it('drops the hint of a neighbour it evicts: back later and leaving again, it hands nothing old', () => {
    const node = new Harness({ activeViewSize: 1 }).withNeighbours(1);
    node.receive(1, { type: 'shuffleReply', peers: [fake(1), fake(2)] });
    node.receive(3, { type: 'neighbor', priority: 'high' }); // evicts 1
    node.receive(1, { type: 'neighbor', priority: 'high' }); // evicts 3
    node.receive(1, { type: 'disconnect', alive: true });
    expect(node.passive().sort()).toEqual([peer(1).id, peer(3).id].sort());
    expectSaneViews(node, 1);
  });

  it('never takes a known peer’s address from a ShuffleReply or a Shuffle’s entries', () => {
    const node = new Harness().withNeighbours(1, 2, 3);
    node.withPassive(...HONEST_PASSIVE);
    shuffleTimer(node);
    const rewritten = HONEST_PASSIVE.map((index) => ({ id: peer(index).id, address: 'attacker-0' }));
    node.receive(66, { type: 'shuffleReply', peers: rewritten });
    node.receive(1, { type: 'shuffle', origin: peer(60), ttl: 0, peers: rewritten });
    // Every entry is an honest peer (or the origin, 60, which took one's place) at its own address.
    const honest = [...HONEST_PASSIVE, 60].map(peer);
    for (const known of node.protocol.passiveView()) expect(honest).toContainEqual(known);
    expect(node.passive()).toHaveLength(30);
    expectSaneViews(node);
  });

  it('answers a Shuffle whose origin it knows at the address it knows, not the one the Shuffle names', () => {
    const node = new Harness().withNeighbours(1, 2, 3);
    node.withPassive(...HONEST_PASSIVE);
    const victim = peer(100);
    const actions = node.receive(1, {
      type: 'shuffle',
      origin: { id: victim.id, address: 'attacker-0' },
      ttl: 0,
      peers: [],
    });
    expect(sends(actions, 'shuffleReply').map((s) => s.to)).toEqual([victim]);
    expect(actionsOf(actions, 'disconnect').map((a) => a.peer)).toEqual([victim]);
    expect(node.protocol.passiveView().find((p) => p.id === victim.id)).toEqual(victim);
    expect(ids(node.protocol.passiveView())).toHaveLength(30);
    expectSaneViews(node);
  });
});

describe('HyParView against a hostile peer: active view', () => {
  const HONEST = [1, 2, 3, 4, 5];

  it('ignores a ForwardJoin or a Shuffle from a peer that is not an active neighbour', () => {
    const node = new Harness().withNeighbours(1, 2, 3);
    node.withPassive(7, 8);
    const passive = node.passive();
    expect(node.receive(66, { type: 'forwardJoin', peer: fake(1), ttl: 0 })).toEqual([]);
    expect(node.receive(66, { type: 'shuffle', origin: fake(2), ttl: 0, peers: [fake(3)] })).toEqual([]);
    expect(node.receive(7, { type: 'forwardJoin', peer: fake(4), ttl: 0 })).toEqual([]);
    expect(node.active()).toEqual([1, 2, 3].map((i) => peer(i).id));
    expect(node.passive()).toEqual(passive);
    expectSaneViews(node);
  });

  it('never evicts a neighbour for the joiner a ForwardJoin names: a full node keeps it passive', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const node = new Harness({}, seed).withNeighbours(...HONEST);
      for (let frame = 0; frame < 20; frame++) {
        const actions = node.receive(5, { type: 'forwardJoin', peer: fake(frame), ttl: 0 });
        expect(actionsOf(actions, 'neighborDown')).toEqual([]);
        expect(actionsOf(actions, 'disconnect')).toEqual([]);
        expect(sends(actions, 'neighbor')).toEqual([]);
        expect(sends(actions, 'disconnect')).toEqual([]);
      }
      expect(node.active()).toEqual(HONEST.map((i) => peer(i).id));
      expect(node.passive()).toHaveLength(20);
      expectSaneViews(node);
    }
  });

  it('takes a ForwardJoin’s joiner only once it accepts, into a free slot: a name nobody answers to never gets in', () => {
    const node = new Harness().withNeighbours(1, 2, 3, 4);
    const actions = node.receive(1, { type: 'forwardJoin', peer: fake(1), ttl: 0 });
    expect(sends(actions, 'neighbor').map((s) => [s.to, s.message])).toEqual([
      [fake(1), { type: 'neighbor', priority: 'low' }],
    ]);
    // The slot is held for the request: a second walk ending here only stores its joiner.
    const second = node.receive(2, { type: 'forwardJoin', peer: fake(2), ttl: 0 });
    expect(sends(second, 'neighbor')).toEqual([]);
    const failed = node.protocol.handle({ type: 'dialFailed', peer: fake(1).id }, node.now);
    expect(actionsOf(failed, 'neighborDown')).toEqual([]);
    expect(node.active()).toEqual([1, 2, 3, 4].map((i) => peer(i).id));
    expect(node.passive()).not.toContain(fake(1).id);
    expectSaneViews(node);
  });

  it('starts no ForwardJoin walks when an active neighbour joins again', () => {
    const node = new Harness().withNeighbours(...HONEST);
    let forwardJoins = 0;
    for (let frame = 0; frame < 100; frame++) {
      const actions = node.receive(5, { type: 'join' });
      forwardJoins += sends(actions, 'forwardJoin').length;
      expect(sends(actions, 'neighbor').map((s) => s.to)).toEqual([peer(5)]);
      expect(actionsOf(actions, 'neighborDown')).toEqual([]);
    }
    expect(forwardJoins).toBe(0);
    expect(node.active()).toEqual(HONEST.map((i) => peer(i).id));
    expectSaneViews(node);
  });
});

describe('HyParView against a hostile peer: addresses named second-hand', () => {
  /** Every check the node asked for, and its answer: addresses of the attacker's are refused. */
  function checkedNode(): { node: Harness; asked: [string, PeerInfo][] } {
    const asked: [string, PeerInfo][] = [];
    const check: AddressCheck = (address, namedBy) => {
      asked.push([address, namedBy]);
      return !address.startsWith('attacker-');
    };
    return { node: new Harness({}, 1, undefined, peer(0), check), asked };
  }

  it('takes an unknown peer only at an address the check allows, asking with the card of whoever named it', () => {
    const { node, asked } = checkedNode();
    node.withNeighbours(1, 2);
    shuffleTimer(node);
    node.receive(40, { type: 'shuffleReply', peers: [peer(41), fake(1)] });
    node.receive(1, { type: 'shuffle', origin: peer(60), ttl: 0, peers: [peer(61), fake(2)] });
    node.receive(2, { type: 'shuffleReply', peers: [peer(62), fake(3)] });
    node.receive(2, { type: 'disconnect', alive: true });
    expect(node.passive().sort()).toEqual([41, 60, 61, 2, 62].map((i) => peer(i).id).sort());
    expect(asked).toContainEqual([fake(1).address, peer(40)]);
    expect(asked).toContainEqual([fake(2).address, peer(1)]);
    expect(asked).toContainEqual([fake(3).address, peer(2)]);
    expect(node.protocol.stats().unusableAddresses).toBe(3);
    expectSaneViews(node);
  });

  it('refuses a stranger that names itself at a refused address in the reply to our shuffle', () => {
    const { node } = checkedNode();
    node.withNeighbours(1);
    shuffleTimer(node);
    const stranger = peer(40);
    node.receive(stranger, {
      type: 'shuffleReply',
      peers: [{ id: stranger.id, address: 'attacker-0' }, peer(41)],
    });
    expect(node.protocol.passiveView()).toEqual([peer(41)]);
    expect(node.protocol.stats().unusableAddresses).toBe(1);
  });

  it('drops a ForwardJoin or a Shuffle about an unknown peer at a refused address: it could not be reached', () => {
    const { node } = checkedNode();
    node.withNeighbours(1, 2, 3);
    expect(node.receive(1, { type: 'forwardJoin', peer: fake(1), ttl: 3 })).toEqual([]);
    expect(node.receive(1, { type: 'shuffle', origin: fake(2), ttl: 0, peers: [peer(61)] })).toEqual([]);
    expect(node.passive()).toEqual([]);
    expect(node.protocol.stats().unusableAddresses).toBe(2);
  });

  it('checks a Shuffle’s entries at every hop: a relay passes on each as named if it may take it so, else its own card, else nothing', () => {
    // The runtime's check: a loopback address only from a neighbour linked over loopback.
    const relay = new Harness(
      {},
      1,
      undefined,
      { id: peer(0).id, address: '127.0.0.1:4000' },
      mayDialSecondHand,
    );
    const member = { id: peer(1).id, address: '192.168.1.66:4000' };
    const sameHost = { id: peer(2).id, address: '127.0.0.1:4001' };
    for (const neighbour of [member, sameHost])
      relay.receive(neighbour, { type: 'neighbor', priority: 'high' });
    relay.withPassive(100, 101);
    // Known, named at a LAN address: passed on as named, which may serve the next hop better than
    // our own card (one we reached over loopback, say).
    const renamed = { id: peer(100).id, address: '192.168.1.99:4000' };
    // Known, named at an address we may not take from this link: passed on with our card.
    const knownAtLoopback = { id: peer(101).id, address: '127.0.0.1:9' };
    const hostService = { id: peer(50).id, address: '127.0.0.1:22' };
    const lanPeer = { id: peer(51).id, address: '192.168.1.51:4000' };
    const actions = relay.receive(member, {
      type: 'shuffle',
      origin: member,
      ttl: 3,
      peers: [hostService, renamed, knownAtLoopback, lanPeer, lanPeer],
    });
    expect(sends(actions, 'shuffle').map((s) => [s.to, s.message])).toEqual([
      [sameHost, { type: 'shuffle', origin: member, ttl: 2, peers: [renamed, peer(101), lanPeer] }],
    ]);
    expect(relay.protocol.stats().unusableAddresses).toBe(1);
  });

  describe('a walk about a peer on the relay’s own host, relayed over the LAN', () => {
    // Host 192.168.1.10 runs the relay (:4000) and B (:4001), linked over 127.0.0.1; M and N are
    // LAN members, and M names B at its LAN address.
    const relayCard = { id: peer(0).id, address: '192.168.1.10:4000' };
    const member = { id: peer(1).id, address: '192.168.1.66:4000' };
    const nextHop = { id: peer(2).id, address: '192.168.1.77:4000' };
    const bAtLoopback = { id: peer(3).id, address: '127.0.0.1:4001' };
    const bAtLan = { id: peer(3).id, address: '192.168.1.10:4001' };

    function node(self: PeerInfo, ...neighbours: PeerInfo[]): Harness {
      const harness = new Harness({}, 1, undefined, self, mayDialSecondHand);
      for (const neighbour of neighbours) harness.receive(neighbour, { type: 'neighbor', priority: 'high' });
      return harness;
    }

    /** What the next hop does with what the relay passed on: something, unless it dropped the walk. */
    function atNextHop(message: ProtocolMessage): ProtocolAction[] {
      const next = node(nextHop, relayCard, { id: peer(5).id, address: '192.168.1.55:4000' });
      const actions = next.receive(relayCard, message);
      expect(next.protocol.stats().unusableAddresses).toBe(0);
      return actions;
    }

    it('passes a Shuffle on with an origin the next hop can take, not its loopback card', () => {
      const relay = node(relayCard, member, nextHop, bAtLoopback);
      const [forwarded] = sends(
        relay.receive(member, { type: 'shuffle', origin: bAtLan, ttl: 3, peers: [] }),
        'shuffle',
      );
      expect(forwarded?.message).toMatchObject({ origin: bAtLan });
      expect(atNextHop(forwarded?.message as ProtocolMessage)).not.toEqual([]);
    });

    it('passes a ForwardJoin on with a joiner the next hop can take, not its loopback card', () => {
      const relay = node(relayCard, member, nextHop);
      relay.protocol.handle({ type: 'discovered', peer: bAtLoopback }, 0);
      const [forwarded] = sends(
        relay.receive(member, { type: 'forwardJoin', peer: bAtLan, ttl: 5 }),
        'forwardJoin',
      );
      expect(forwarded?.message).toMatchObject({ peer: bAtLan });
      expect(atNextHop(forwarded?.message as ProtocolMessage)).not.toEqual([]);
    });
  });

  it('judges a peer once per message: a Shuffle naming its origin again is not counted against it', () => {
    const { node } = checkedNode();
    node.withNeighbours(1, 2);
    node.receive(1, {
      type: 'shuffle',
      origin: peer(60),
      ttl: 0,
      peers: [{ id: peer(60).id, address: 'attacker-0' }],
    });
    expect(node.protocol.passiveView()).toContainEqual(peer(60));
    expect(node.protocol.stats().unusableAddresses).toBe(0);
  });

  it('judges a peer named twice in one message once', () => {
    const { node, asked } = checkedNode();
    node.withNeighbours(1, 2);
    node.receive(1, { type: 'shuffle', origin: peer(60), ttl: 0, peers: [fake(1), peer(61), fake(1)] });
    shuffleTimer(node);
    node.receive(40, { type: 'shuffleReply', peers: [fake(2), peer(41), fake(2)] });
    for (const named of [fake(1), fake(2)])
      expect(asked.filter(([address]) => address === named.address)).toHaveLength(1);
    expect(node.protocol.stats().unusableAddresses).toBe(2);
    expect(node.passive().sort()).toEqual([60, 61, 41].map((i) => peer(i).id).sort());
  });

  it('keeps the card of a neighbour whose link went silent, renamed or not, and does not count it', () => {
    const { node, asked } = checkedNode();
    node.withNeighbours(1, 2, 3);
    node.protocol.handle({ type: 'linkDown', peer: peer(3).id, silent: true }, node.now);
    const renamed = { id: peer(3).id, address: 'attacker-0' };
    const reply = node.receive(1, { type: 'shuffle', origin: renamed, ttl: 0, peers: [] });
    expect(sends(reply, 'shuffleReply').map((s) => s.to)).toEqual([peer(3)]);
    expect(asked).toEqual([]);
    expect(node.protocol.stats().unusableAddresses).toBe(0);
  });

  it('keeps the card of a peer it asked to link, or evicted from its passive view, whatever address a Shuffle names it at', () => {
    const node = new Harness({ passiveViewSize: 1 }).withNeighbours(1, 2, 3);
    node.protocol.handle({ type: 'join', contact: peer(7) }, node.now);
    node.withPassive(8, 9); // 8 evicted for 9
    for (const index of [7, 8]) {
      const renamed = { id: peer(index).id, address: 'attacker-0' };
      const reply = node.receive(1, { type: 'shuffle', origin: renamed, ttl: 0, peers: [] });
      expect(sends(reply, 'shuffleReply').map((s) => s.to)).toEqual([peer(index)]);
    }
    expect(node.protocol.passiveView()).toEqual([peer(8)]);
  });

  it('goes on with a walk about a peer it knows, whatever address the relay names it at, never asking about that', () => {
    const { node, asked } = checkedNode();
    node.withNeighbours(1, 2, 3);
    node.withPassive(100);
    const known = peer(100);
    const renamed = { id: known.id, address: 'attacker-0' };
    const reply = node.receive(1, { type: 'shuffle', origin: renamed, ttl: 0, peers: [] });
    expect(sends(reply, 'shuffleReply').map((s) => s.to)).toEqual([known]);
    const walk = node.receive(1, { type: 'forwardJoin', peer: renamed, ttl: 3 });
    expect(sends(walk, 'forwardJoin').map((s) => s.message)).toEqual([
      { type: 'forwardJoin', peer: known, ttl: 2 },
    ]);
    // Only its own card is checked (could the next hop take it from us?), never the renamed one.
    expect(asked.map(([address]) => address)).not.toContain(renamed.address);
    expect(node.protocol.stats().unusableAddresses).toBe(0);
  });
});
