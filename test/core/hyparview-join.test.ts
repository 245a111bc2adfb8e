import { describe, expect, it } from 'vitest';
import type { ProtocolAction } from '../../src/core/actions.js';
import { JOIN_FILL_PERIOD } from '../../src/core/membership/options.js';
import { actionsOf, greeting, Harness, ids, neighborRequests, peer, sends } from './helpers.js';

describe('HyParView join (§4.2)', () => {
  it('join sends Join to the contact and arms a timeout', () => {
    const node = new Harness();
    const actions = node.protocol.handle({ type: 'join', contact: peer(1) }, 0);
    expect(sends(actions)).toEqual([{ type: 'send', to: peer(1), message: { type: 'join' } }]);
    const timers = actionsOf(actions, 'setTimer');
    expect(timers).toHaveLength(1);
    expect(timers[0]?.timer).toMatchObject({ type: 'neighborTimeout', peer: peer(1).id });
    expect(timers[0]?.after).toBe(2_000);
  });

  it('ignores a join through itself', () => {
    const node = new Harness();
    expect(node.protocol.handle({ type: 'join', contact: node.self }, 0)).toEqual([]);
  });

  it('the contact adds the joiner, tells it so, and walks ForwardJoin to every other neighbour', () => {
    const node = new Harness().withNeighbours(1, 2);
    const actions = node.receive(3, { type: 'join' });
    expect(node.active()).toContain(peer(3).id);
    expect(actionsOf(actions, 'neighborUp').map((a) => a.peer)).toEqual([peer(3)]);
    expect(sends(actions, 'neighbor')).toEqual([
      { type: 'send', to: peer(3), message: { type: 'neighbor', priority: 'high' } },
    ]);
    const forwards = sends(actions, 'forwardJoin');
    expect(ids(forwards.map((s) => s.to)).sort()).toEqual([peer(1).id, peer(2).id].sort());
    for (const forward of forwards)
      expect(forward.message).toEqual({ type: 'forwardJoin', peer: peer(3), ttl: 6 });
  });

  it('a full contact evicts a random neighbour with Disconnect{alive:true}, handing it candidates first', () => {
    const node = new Harness().withNeighbours(1, 2, 3, 4, 5);
    const actions = node.receive(6, { type: 'join' });
    expect(node.active()).toHaveLength(5);
    expect(node.active()).toContain(peer(6).id);
    const disconnects = sends(actions, 'disconnect');
    expect(disconnects).toHaveLength(1);
    const victim = disconnects[0]?.to;
    expect(disconnects[0]?.message).toEqual({ type: 'disconnect', alive: true });
    expect(actionsOf(actions, 'neighborDown').map((a) => a.peer)).toEqual([victim]);
    expect(actionsOf(actions, 'disconnect').map((a) => a.peer)).toEqual([victim]);
    expect(node.passive()).toContain(victim?.id);
    expect(node.active()).not.toContain(victim?.id);
    const handover = sends(actions, 'shuffleReply');
    expect(handover.map((s) => s.to)).toEqual([victim]);
    const candidates = handover[0]?.message.type === 'shuffleReply' ? ids(handover[0].message.peers) : [];
    expect(candidates).toHaveLength(3);
    expect(candidates).not.toContain(victim?.id);
    // The Disconnect is flushed before the link is closed.
    const sendIndex = actions.findIndex((a) => a.type === 'send' && a.message.type === 'disconnect');
    const closeIndex = actions.findIndex((a) => a.type === 'disconnect');
    expect(sendIndex).toBeLessThan(closeIndex);
  });

  it('a joiner takes the contact as neighbour on its Neighbor{high} and answers it', () => {
    const node = new Harness();
    node.protocol.handle({ type: 'join', contact: peer(1) }, 0);
    const actions = node.receive(1, { type: 'neighbor', priority: 'high' });
    expect(node.active()).toEqual([peer(1).id]);
    expect(sends(actions)).toEqual([
      { type: 'send', to: peer(1), message: { type: 'neighborReply', accepted: true } },
      // It knows nobody else yet: it shuffles at once (see the next describe).
      { type: 'send', to: peer(1), message: { type: 'shuffle', origin: node.self, ttl: 6, peers: [] } },
      greeting(peer(1), node.protocol.overlayTag()),
    ]);
    expect(node.protocol.stats().pendingRequests).toBe(0);
  });
});

const CANDIDATES = [41, 42, 43, 44, 45, 46, 47, 48];

/** A node whose Join contact 1 took at time 0, then handed CANDIDATES by its shuffle's answer. */
function joinerWithCandidates(): { node: Harness; actions: ProtocolAction[] } {
  const node = new Harness();
  node.protocol.handle({ type: 'join', contact: peer(1) }, 0);
  node.receive(1, { type: 'neighbor', priority: 'high' });
  const actions = node.receive(40, { type: 'shuffleReply', peers: CANDIDATES.map(peer) });
  return { node, actions };
}

/**
 * Answers the Neighbor requests among `actions`, and those that follow, as a full overlay would:
 * Neighbor{low} refused, Neighbor{high} accepted (it evicts there), until `accepted` highs were.
 * Returns the priorities asked, in order, and the actions of the last answer.
 */
function answerAsFullPeers(
  node: Harness,
  first: ProtocolAction[],
  accepted: number,
): { asked: string[]; last: ProtocolAction[] } {
  const asked: string[] = [];
  const queue = neighborRequests(first);
  let last = first;
  let accepts = 0;
  for (let request = queue.shift(); request !== undefined; request = queue.shift()) {
    asked.push(request.priority);
    if (request.priority === 'high' && accepts === accepted) continue;
    const from = CANDIDATES.find((index) => peer(index).id === request.to) ?? -1;
    if (request.priority === 'high') accepts++;
    last = node.receive(from, { type: 'neighborReply', accepted: request.priority === 'high' });
    queue.push(...neighborRequests(last));
  }
  return { asked, last };
}

describe('A joiner fills its own view (beyond §4.2, see fillAfterJoin)', () => {
  it('asks its shuffle’s answer at once, and once all refuse, insists with Neighbor{high} until full', () => {
    const { node, actions } = joinerWithCandidates();
    const { asked } = answerAsFullPeers(node, actions, 4);
    // Every candidate refused a low-priority request first; then one insistence at a time, each
    // sent as the previous one was accepted, with no tick in between (the time is still 0).
    expect(asked).toEqual([...CANDIDATES.map(() => 'low'), 'high', 'high', 'high', 'high']);
    expect(node.active()).toHaveLength(5);
    expect(node.protocol.stats().escalations).toBe(4);
  });

  it('starts its fill once, however many of its contacts take its Join', () => {
    const node = new Harness();
    node.protocol.handle({ type: 'join', contact: peer(1) }, 0);
    node.protocol.handle({ type: 'join', contact: peer(2) }, 0);
    node.protocol.handle({ type: 'join', contact: peer(3) }, 0);
    const shuffles = [1, 2, 3].map(
      (contact) => sends(node.receive(contact, { type: 'neighbor', priority: 'high' }), 'shuffle').length,
    );
    expect(shuffles).toEqual([1, 0, 0]);
  });

  it('stops counting as a joiner once its view is full, however it filled', () => {
    // Filled by others' requests, not by answers to its own: a later loss is repaired with
    // Neighbor{low} only, like any node one short, not with insistence.
    const node = new Harness();
    node.protocol.handle({ type: 'join', contact: peer(1) }, 0);
    node.receive(1, { type: 'neighbor', priority: 'high' });
    for (const index of [2, 3, 4, 5]) node.receive(index, { type: 'neighbor', priority: 'low' });
    expect(node.active()).toHaveLength(5);
    node.now = 3_000;
    const asked: string[] = [];
    const queue = neighborRequests(node.receive(5, { type: 'disconnect', alive: true }));
    node.withPassive(41, 42);
    node.now = 4_000;
    queue.push(
      ...neighborRequests(node.protocol.handle({ type: 'timer', timer: { type: 'repair' } }, node.now)),
    );
    for (let request = queue.shift(); request !== undefined && asked.length < 20; request = queue.shift()) {
      asked.push(request.priority);
      const from = [5, 41, 42].find((index) => peer(index).id === request.to) ?? -1;
      queue.push(...neighborRequests(node.receive(from, { type: 'neighborReply', accepted: false })));
    }
    expect(asked.length).toBeGreaterThan(0);
    expect(asked).not.toContain('high');
    expect(node.protocol.stats().escalations).toBe(0);
  });

  it('counts as a joiner for JOIN_FILL_PERIOD only: then, one short, it waits like any node', () => {
    for (const [at, insists] of [
      [JOIN_FILL_PERIOD - 1, true],
      [JOIN_FILL_PERIOD, false],
    ] as const) {
      const { node, actions } = joinerWithCandidates();
      // Three insistences accepted, the fourth left unanswered: four neighbours.
      const { asked, last } = answerAsFullPeers(node, actions, 3);
      expect(asked.slice(-4)).toEqual(['high', 'high', 'high', 'high']);
      expect(node.active()).toHaveLength(4);
      const timeout = actionsOf(last, 'setTimer').find((action) => action.timer.type === 'neighborTimeout');
      if (timeout === undefined) throw new Error('the last insistence armed no timeout');
      node.now = at;
      const retry = node.protocol.handle({ type: 'timer', timer: timeout.timer }, at);
      expect(neighborRequests(retry).map((request) => request.priority)).toEqual(insists ? ['high'] : []);
    }
  });
});

describe('HyParView join: a node with no neighbour holds Joins through it (beyond §4.2)', () => {
  // Taken in by a node outside the overlay, a joiner would found a new overlay with it (see
  // HyParView.holdJoin).
  it('a joiner holds a Join until its contact answers, then takes the joiner in and walks it', () => {
    const first = new Harness();
    expect(actionsOf(first.receive(2, { type: 'join' }), 'neighborUp').map((a) => a.peer)).toEqual([peer(2)]);

    const node = new Harness();
    node.protocol.handle({ type: 'join', contact: peer(1) }, 0);
    node.now = 10;
    expect(node.receive(2, { type: 'join' })).toEqual([]);
    expect(node.active()).toEqual([]);
    node.now = 20;
    const actions = node.receive(1, { type: 'neighbor', priority: 'high' });
    expect(node.active().sort()).toEqual([peer(1).id, peer(2).id].sort());
    expect(actionsOf(actions, 'neighborUp').map((a) => a.peer)).toEqual([peer(1), peer(2)]);
    expect(sends(actions, 'neighbor')).toEqual([
      { type: 'send', to: peer(2), message: { type: 'neighbor', priority: 'high' } },
    ]);
    expect(sends(actions, 'forwardJoin')).toEqual([
      { type: 'send', to: peer(1), message: { type: 'forwardJoin', peer: peer(2), ttl: 6 } },
    ]);
  });

  it('drops a held Join whose joiner has given up on it, and takes one from a peer it asked at once', () => {
    const node = new Harness();
    node.protocol.handle({ type: 'join', contact: peer(1) }, 0);
    node.receive(2, { type: 'join' });
    node.now = 2_000; // the joiner's request timeout: it joins again
    node.receive(1, { type: 'neighbor', priority: 'high' });
    expect(node.active()).toEqual([peer(1).id]);

    const crossing = new Harness();
    crossing.protocol.handle({ type: 'join', contact: peer(1) }, 0);
    crossing.receive(1, { type: 'join' });
    expect(crossing.active()).toEqual([peer(1).id]);
  });

  it('a node evicted by its only neighbour holds Joins until a repair gives it a neighbour again', () => {
    const node = new Harness().withNeighbours(1);
    node.now = 100;
    node.receive(1, { type: 'disconnect', alive: true });
    node.receive(2, { type: 'join' });
    expect(node.active()).toEqual([]);
    node.now = 1_000;
    const tick = node.protocol.handle({ type: 'timer', timer: { type: 'repair' } }, node.now);
    expect(neighborRequests(tick)).toEqual([{ to: peer(1).id, priority: 'high' }]);
    node.receive(1, { type: 'neighborReply', accepted: true });
    expect(node.active().sort()).toEqual([peer(1).id, peer(2).id].sort());
  });

  it('asks one peer at a time while it holds Joins: the first neighbour releases them, and a second would evict', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const node = new Harness({}, seed).withNeighbours(1);
      node.withPassive(3);
      node.now = 100;
      node.receive(1, { type: 'disconnect', alive: true });
      for (const joiner of [2, 4, 5, 6]) node.receive(joiner, { type: 'join' });
      expect(node.active()).toEqual([]);
      node.now = 1_000;
      const requests = neighborRequests(
        node.protocol.handle({ type: 'timer', timer: { type: 'repair' } }, node.now),
      );
      expect(requests).toHaveLength(1);
      const asked = requests[0]?.to === peer(1).id ? 1 : 3;
      const accepted = node.receive(asked, { type: 'neighborReply', accepted: true });
      expect(node.active()).toHaveLength(5);
      expect(node.active()).toContain(peer(asked).id);
      expect(sends(accepted, 'disconnect')).toEqual([]);
    }
  });

  it('holds Joins while the only peer it can reach for is one it evicted from the passive view', () => {
    const node = new Harness({ passiveViewSize: 1 }).withNeighbours(1);
    node.withPassive(3, 4); // 3 evicted for 4
    node.protocol.handle({ type: 'dialFailed', peer: peer(4).id }, 0);
    node.protocol.handle({ type: 'linkDown', peer: peer(1).id }, 0);
    expect(node.passive()).toEqual([]);
    node.now = 10;
    expect(node.receive(9, { type: 'join' })).toEqual([]);
    expect(node.active()).toEqual([]);
  });

  it('takes a joiner whose Join came twice while held in once: one Neighbor{high}', () => {
    const node = new Harness();
    node.protocol.handle({ type: 'join', contact: peer(1) }, 0);
    node.receive(2, { type: 'join' });
    node.now = 10;
    node.receive(2, { type: 'join' });
    node.now = 20;
    const actions = node.receive(1, { type: 'neighbor', priority: 'high' });
    expect(sends(actions, 'neighbor')).toEqual([
      { type: 'send', to: peer(2), message: { type: 'neighbor', priority: 'high' } },
    ]);
  });

  it('takes in at most as many held Joins as fit beside the contact: releasing them never evicts it', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const node = new Harness({}, seed);
      node.protocol.handle({ type: 'join', contact: peer(1) }, 0);
      for (let joiner = 2; joiner <= 7; joiner++) node.receive(joiner, { type: 'join' });
      expect(node.active()).toEqual([]);
      const actions = node.receive(1, { type: 'neighbor', priority: 'high' });
      expect(node.active()).toContain(peer(1).id);
      expect(node.active()).toHaveLength(5);
      expect(sends(actions, 'disconnect')).toEqual([]);
    }
  });

  it('holds for three of its own requests at most: nodes joining through each other in a ring link up', () => {
    const node = new Harness();
    node.protocol.handle({ type: 'join', contact: peer(1) }, 0);
    node.now = 8_999;
    node.receive(2, { type: 'join' });
    expect(node.active()).toEqual([]);
    node.now = 9_000;
    node.receive(3, { type: 'join' });
    // The Join held a millisecond before is taken in too: its joiner still waits for an answer.
    expect(node.active().sort()).toEqual([peer(2).id, peer(3).id].sort());
  });
});

describe('HyParView ForwardJoin walk (§4.2)', () => {
  // Beyond the paper, which takes the joiner at the end of the walk even if it must evict: here the
  // joiner gets a free slot only, through a Neighbor{low} it must accept (see endWalk).
  it('asks the joiner into a free slot when the ttl is spent, and takes it once it accepts', () => {
    const node = new Harness().withNeighbours(1, 2, 3);
    const actions = node.receive(1, { type: 'forwardJoin', peer: peer(9), ttl: 0 });
    expect(node.active()).not.toContain(peer(9).id);
    expect(actionsOf(actions, 'neighborUp')).toEqual([]);
    expect(sends(actions)).toEqual([
      { type: 'send', to: peer(9), message: { type: 'neighbor', priority: 'low' } },
    ]);
    const accepted = node.receive(9, { type: 'neighborReply', accepted: true });
    expect(node.active()).toContain(peer(9).id);
    expect(actionsOf(accepted, 'neighborUp').map((a) => a.peer)).toEqual([peer(9)]);
    expect(sends(accepted)).toEqual([greeting(peer(9), node.protocol.overlayTag())]);
  });

  it('asks the joiner when the sender is its only neighbour', () => {
    const node = new Harness().withNeighbours(1);
    const actions = node.receive(1, { type: 'forwardJoin', peer: peer(9), ttl: 5 });
    expect(sends(actions).map((s) => [s.to, s.message])).toEqual([
      [peer(9), { type: 'neighbor', priority: 'low' }],
    ]);
    node.receive(9, { type: 'neighborReply', accepted: true });
    expect(node.active().sort()).toEqual([peer(1).id, peer(9).id].sort());
  });

  it('at ttl == PRWL stores the joiner as passive and walks on with ttl - 1', () => {
    const node = new Harness().withNeighbours(1, 2, 3);
    const actions = node.receive(1, { type: 'forwardJoin', peer: peer(9), ttl: 3 });
    expect(node.passive()).toContain(peer(9).id);
    expect(node.active()).not.toContain(peer(9).id);
    const forwards = sends(actions, 'forwardJoin');
    expect(forwards).toHaveLength(1);
    expect(forwards[0]?.message).toEqual({ type: 'forwardJoin', peer: peer(9), ttl: 2 });
    expect([peer(2).id, peer(3).id]).toContain(forwards[0]?.to.id);
  });

  it('above PRWL only walks on, to a random neighbour other than the sender', () => {
    const targets = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const node = new Harness({}, seed).withNeighbours(1, 2, 3);
      const actions = node.receive(1, { type: 'forwardJoin', peer: peer(8), ttl: 5 });
      expect(node.passive()).not.toContain(peer(8).id);
      expect(node.active()).not.toContain(peer(8).id);
      const forwards = sends(actions, 'forwardJoin');
      expect(forwards).toHaveLength(1);
      expect(forwards[0]?.message).toEqual({ type: 'forwardJoin', peer: peer(8), ttl: 4 });
      targets.add(forwards[0]?.to.id ?? '');
    }
    expect([...targets].sort()).toEqual([peer(2).id, peer(3).id].sort());
  });

  it('ignores a walk announcing itself or an active neighbour', () => {
    const node = new Harness().withNeighbours(1, 2);
    expect(node.receive(1, { type: 'forwardJoin', peer: node.self, ttl: 0 })).toEqual([]);
    expect(node.receive(1, { type: 'forwardJoin', peer: peer(2), ttl: 0 })).toEqual([]);
  });

  it('counts a malformed ttl instead of throwing', () => {
    const node = new Harness().withNeighbours(1, 2);
    expect(node.receive(1, { type: 'forwardJoin', peer: peer(9), ttl: -1 })).toEqual([]);
    expect(node.receive(1, { type: 'forwardJoin', peer: peer(9), ttl: 1.5 })).toEqual([]);
    expect(node.protocol.stats().invalidMessages).toBe(2);
  });

  it('clamps an oversized ttl to ARWL so a walk stays bounded', () => {
    const node = new Harness().withNeighbours(1, 2, 3);
    const actions = node.receive(1, { type: 'forwardJoin', peer: peer(9), ttl: 1_000_000 });
    expect(sends(actions, 'forwardJoin')[0]?.message).toMatchObject({ ttl: 5 });
  });
});
