import { describe, expect, it } from 'vitest';
import type { ProtocolAction } from '../../src/core/actions.js';
import {
  DEFAULT_REPAIR_INTERVAL,
  DEPARTED_MEMORY,
  DEPARTED_MEMORY_ENTRIES,
} from '../../src/core/membership/options.js';
import { actionsOf, greeting, Harness, neighborRequests, peer, sends } from './helpers.js';

/** A node with active view {1, 2} (full at size 2) and passive view {3, 4}. */
function smallFullNode(options: { maxConcurrentRequests?: number } = {}): Harness {
  const node = new Harness({ activeViewSize: 2, ...options }).withNeighbours(1, 2);
  node.withPassive(3, 4);
  return node;
}

function tick(node: Harness, at: number): ProtocolAction[] {
  node.now = at;
  return node.protocol.handle({ type: 'timer', timer: { type: 'repair' } }, at);
}

describe('HyParView neighbor requests (§4.3)', () => {
  it('accepts a low-priority request while it has room', () => {
    const node = new Harness().withNeighbours(1);
    const actions = node.receive(2, { type: 'neighbor', priority: 'low' });
    expect(node.active()).toContain(peer(2).id);
    expect(actionsOf(actions, 'neighborUp').map((a) => a.peer)).toEqual([peer(2)]);
    expect(sends(actions)).toEqual([
      { type: 'send', to: peer(2), message: { type: 'neighborReply', accepted: true } },
      greeting(peer(2), node.protocol.overlayTag()),
    ]);
  });

  it('refuses a low-priority request when full: reply first, then close the link', () => {
    const node = smallFullNode();
    const actions = node.receive(7, { type: 'neighbor', priority: 'low' });
    expect(node.active()).not.toContain(peer(7).id);
    expect(actions).toEqual([
      { type: 'send', to: peer(7), message: { type: 'neighborReply', accepted: false } },
      { type: 'disconnect', peer: peer(7) },
    ]);
    // A peer that asked is alive: kept as a replacement while there is room.
    expect(node.passive()).toContain(peer(7).id);
  });

  it('keeps its passive view as it was when refusing low-priority requests with it full', () => {
    // Otherwise any stranger could push honest replacements out, one refused request at a time.
    const node = new Harness({ activeViewSize: 2, passiveViewSize: 3 }).withNeighbours(1, 2);
    node.withPassive(3, 4, 5);
    const before = [...node.passive()].sort();
    for (let stranger = 10; stranger < 20; stranger++)
      node.receive(stranger, { type: 'neighbor', priority: 'low' });
    expect([...node.passive()].sort()).toEqual(before);
  });

  it('accepts a high-priority request even when full, evicting a random neighbour', () => {
    const node = smallFullNode();
    const actions = node.receive(7, { type: 'neighbor', priority: 'high' });
    expect(node.active()).toContain(peer(7).id);
    expect(node.active()).toHaveLength(2);
    expect(sends(actions, 'disconnect')).toHaveLength(1);
    expect(sends(actions, 'neighborReply')[0]?.message).toEqual({ type: 'neighborReply', accepted: true });
  });

  it('evicting for a high-priority request, spares the neighbours that carry a broadcast tree', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const node = new Harness({ activeViewSize: 3 }, seed).withNeighbours(1, 2, 3);
      // Peers 2 and 3 prune us from the shared tree: only 1 still carries it.
      for (const lazy of [2, 3]) node.receive(lazy, { type: 'prune', origin: peer(99).id });
      const evicted = actionsOf(node.receive(7, { type: 'neighbor', priority: 'high' }), 'neighborDown');
      expect(evicted.map((a) => a.peer.id)).not.toContain(peer(1).id);
      expect(evicted).toHaveLength(1);
    }
    // When every neighbour carries a tree, one of them goes all the same.
    const allTree = new Harness({ activeViewSize: 3 }).withNeighbours(1, 2, 3);
    expect(
      actionsOf(allTree.receive(7, { type: 'neighbor', priority: 'high' }), 'neighborDown'),
    ).toHaveLength(1);
    expect(allTree.active()).toContain(peer(7).id);
  });

  it('answers a request from a current neighbour without a second neighborUp, and tells it our tag again', () => {
    const node = new Harness().withNeighbours(1);
    const actions = node.receive(1, { type: 'neighbor', priority: 'low' });
    expect(actions).toEqual([
      { type: 'send', to: peer(1), message: { type: 'neighborReply', accepted: true } },
      greeting(peer(1), node.protocol.overlayTag()),
    ]);
  });
});

describe('HyParView Disconnect', () => {
  it('alive: the peer leaves the active view for the passive view; the next tick refills', () => {
    const node = smallFullNode();
    const actions = node.receive(1, { type: 'disconnect', alive: true });
    expect(actionsOf(actions, 'neighborDown').map((a) => a.peer)).toEqual([peer(1)]);
    expect(actionsOf(actions, 'disconnect').map((a) => a.peer)).toEqual([peer(1)]);
    expect(node.active()).toEqual([peer(2).id]);
    expect(node.passive()).toContain(peer(1).id);
    // Evictions must not chase each other at network speed: no request until the tick.
    expect(neighborRequests(actions)).toEqual([]);
    const requests = neighborRequests(tick(node, 1_000));
    expect(requests).toHaveLength(1);
    expect(requests[0]?.priority).toBe('low');
  });

  it('not alive: the peer is forgotten and replaced at once, like a failure', () => {
    const node = smallFullNode();
    const actions = node.receive(1, { type: 'disconnect', alive: false });
    expect(node.passive()).not.toContain(peer(1).id);
    const requests = neighborRequests(actions);
    expect(requests).toHaveLength(1);
    expect([peer(3).id, peer(4).id]).toContain(requests[0]?.to);
  });
});

describe('HyParView active view repair', () => {
  it('replaces a neighbour whose link broke with a passive peer', () => {
    const node = smallFullNode();
    const actions = node.protocol.handle({ type: 'linkDown', peer: peer(1).id }, 0);
    expect(actionsOf(actions, 'neighborDown').map((a) => a.peer)).toEqual([peer(1)]);
    expect(node.passive()).not.toContain(peer(1).id); // failed: dropped, not kept
    const requests = neighborRequests(actions);
    expect(requests).toHaveLength(1);
    const candidate = requests[0]?.to ?? '';
    expect(actionsOf(actions, 'setTimer').map((a) => a.timer)).toEqual([
      { type: 'neighborTimeout', peer: candidate, request: expect.any(Number) },
    ]);
    const reply = node.receive(candidate === peer(3).id ? 3 : 4, { type: 'neighborReply', accepted: true });
    expect(node.active().sort()).toEqual([peer(2).id, candidate].sort());
    expect(node.passive()).not.toContain(candidate);
    expect(actionsOf(reply, 'neighborUp').map((a) => a.peer.id)).toEqual([candidate]);
  });

  it('asks with high priority when the active view is empty', () => {
    const node = new Harness({ activeViewSize: 1 }).withNeighbours(1);
    node.withPassive(3);
    const actions = node.protocol.handle({ type: 'linkDown', peer: peer(1).id }, 0);
    expect(neighborRequests(actions)).toEqual([{ to: peer(3).id, priority: 'high' }]);
  });

  it('keeps up to maxConcurrentRequests requests in flight', () => {
    const node = new Harness({ activeViewSize: 3 }).withNeighbours(1, 2, 3);
    node.withPassive(4, 5, 6);
    node.protocol.handle({ type: 'linkDown', peer: peer(1).id }, 0);
    const actions = node.protocol.handle({ type: 'linkDown', peer: peer(2).id }, 0);
    expect(node.protocol.stats().pendingRequests).toBe(2);
    expect(neighborRequests(actions)).toHaveLength(1);
  });

  it('asks no one more while maxConcurrentRequests are out, even with room left in the view', () => {
    // The view (5) has room for four more, but two requests are out already.
    const node = new Harness().withNeighbours(1, 2);
    node.withPassive(6, 7, 8, 9);
    expect(neighborRequests(node.protocol.handle({ type: 'linkDown', peer: peer(1).id }, 0))).toHaveLength(2);
    const actions = node.protocol.handle({ type: 'linkDown', peer: peer(2).id }, 0);
    expect(neighborRequests(actions)).toEqual([]);
    expect(node.protocol.stats().pendingRequests).toBe(2);
  });

  it('after a refusal tries the next passive peer; once all refused, waits for a doubling back-off', () => {
    const node = smallFullNode({ maxConcurrentRequests: 1 });
    const first = neighborRequests(node.protocol.handle({ type: 'linkDown', peer: peer(1).id }, 0))[0]?.to;
    const firstIndex = first === peer(3).id ? 3 : 4;
    const secondIndex = 7 - firstIndex;
    const afterFirst = node.receive(firstIndex, { type: 'neighborReply', accepted: false });
    expect(neighborRequests(afterFirst)).toEqual([{ to: peer(secondIndex).id, priority: 'low' }]);
    expect(node.passive()).toContain(peer(firstIndex).id); // a refusal is no failure
    expect(neighborRequests(node.receive(secondIndex, { type: 'neighborReply', accepted: false }))).toEqual(
      [],
    );
    expect(neighborRequests(tick(node, 500))).toEqual([]);
    // Back-off of one repair interval (1 s) has passed: a new cycle.
    let requests = neighborRequests(tick(node, 1_000));
    expect(requests).toHaveLength(1);
    while (requests.length > 0) {
      const index = requests[0]?.to === peer(3).id ? 3 : 4;
      requests = neighborRequests(node.receive(index, { type: 'neighborReply', accepted: false }));
    }
    expect(node.protocol.stats().neighborRequestsRejected).toBe(4);
    // The back-off doubled to 2 s from t = 1 s.
    expect(neighborRequests(tick(node, 2_000))).toEqual([]);
    expect(neighborRequests(tick(node, 3_000))).toHaveLength(1);
  });

  it('a repair that finds no passive peer at all starts no back-off: the first refusals later get a full one', () => {
    const node = new Harness({ activeViewSize: 3 }).withNeighbours(1, 2);
    expect(neighborRequests(tick(node, 1_000))).toEqual([]); // nobody to ask, nobody refused
    node.withPassive(3);
    expect(neighborRequests(tick(node, 1_500))).toEqual([{ to: peer(3).id, priority: 'low' }]);
    expect(neighborRequests(node.receive(3, { type: 'neighborReply', accepted: false }))).toEqual([]);
    // One repair interval from the refusal, not from the empty tick before it.
    expect(neighborRequests(tick(node, 2_000))).toEqual([]);
    expect(neighborRequests(tick(node, 2_500))).toEqual([{ to: peer(3).id, priority: 'low' }]);
  });

  it('asks a peer that refused and was then dropped as soon as it is heard of again', () => {
    const node = new Harness({ activeViewSize: 3 }).withNeighbours(1, 2);
    node.withPassive(3);
    expect(neighborRequests(tick(node, 1_000))).toEqual([{ to: peer(3).id, priority: 'low' }]);
    node.receive(3, { type: 'neighborReply', accepted: false });
    node.protocol.handle({ type: 'dialFailed', peer: peer(3).id }, node.now);
    node.withPassive(3);
    // Within the back-off, but a peer heard of anew is a new candidate.
    expect(neighborRequests(tick(node, 1_500))).toEqual([{ to: peer(3).id, priority: 'low' }]);
  });

  it('a starving node insists with Neighbor{high} once every passive peer refused it', () => {
    const node = new Harness({ maxConcurrentRequests: 1 }).withNeighbours(1, 2);
    node.withPassive(3, 4, 5);
    const refuseAll = (actions: ProtocolAction[]): { to: string; priority: string }[] => {
      let requests = neighborRequests(actions);
      while (requests[0]?.priority === 'low') {
        const index = [3, 4, 5].find((i) => peer(i).id === requests[0]?.to) ?? -1;
        requests = neighborRequests(node.receive(index, { type: 'neighborReply', accepted: false }));
      }
      return requests;
    };
    const escalation = refuseAll(tick(node, 1_000));
    expect(escalation).toHaveLength(1);
    expect(escalation[0]?.priority).toBe('high');
    const target = [3, 4, 5].find((i) => peer(i).id === escalation[0]?.to) ?? -1;
    node.receive(target, { type: 'neighborReply', accepted: true });
    expect(node.active()).toHaveLength(3);
    // Still two short: the next tick insists again, without re-asking those that refused.
    const again = neighborRequests(tick(node, 1_500));
    expect(again).toHaveLength(1);
    expect(again[0]?.priority).toBe('high');
    node.receive([3, 4, 5].find((i) => peer(i).id === again[0]?.to) ?? -1, {
      type: 'neighborReply',
      accepted: true,
    });
    // One short is not starving: it waits for the back-off like anyone else.
    expect(node.active()).toHaveLength(4);
    expect(neighborRequests(tick(node, 1_800))).toEqual([]);
    expect(node.protocol.stats().escalations).toBe(2);
  });

  it('alone, asks again with Neighbor{high} a peer whose refusal crossed the loss of its last neighbour', () => {
    const node = new Harness({ activeViewSize: 3 }).withNeighbours(1);
    node.withPassive(3);
    expect(neighborRequests(tick(node, 1_000))).toEqual([{ to: peer(3).id, priority: 'low' }]);
    node.protocol.handle({ type: 'linkDown', peer: peer(1).id }, node.now);
    expect(node.active()).toEqual([]);
    // The refusal of the request sent while it still had a neighbour: no refusal counts while alone.
    const refused = node.receive(3, { type: 'neighborReply', accepted: false });
    expect(neighborRequests(refused)).toEqual([{ to: peer(3).id, priority: 'high' }]);
  });

  it('a starving node has one escalation in flight at most, however many refusals come after it', () => {
    const node = new Harness().withNeighbours(1, 2);
    node.withPassive(3, 4, 5);
    const index = (id: string): number => [3, 4, 5].find((i) => peer(i).id === id) ?? -1;
    const low = neighborRequests(node.protocol.handle({ type: 'linkDown', peer: peer(1).id }, 0));
    expect(low.map((r) => r.priority)).toEqual(['low', 'low']);
    const high: string[] = [];
    const waiting = low.map((r) => r.to);
    while (waiting.length > 0) {
      const to = waiting.shift() as string;
      for (const request of neighborRequests(
        node.receive(index(to), { type: 'neighborReply', accepted: false }),
      )) {
        if (request.priority === 'high') high.push(request.to);
        else waiting.push(request.to);
      }
    }
    expect(high).toHaveLength(1);
    expect(node.protocol.stats().escalations).toBe(1);
  });

  it('a request that times out drops the candidate and tries the next one; stale timeouts do nothing', () => {
    const node = smallFullNode({ maxConcurrentRequests: 1 });
    const down = node.protocol.handle({ type: 'linkDown', peer: peer(1).id }, 0);
    const timer = actionsOf(down, 'setTimer')[0]?.timer;
    if (timer?.type !== 'neighborTimeout') throw new Error('expected a neighborTimeout timer');
    const stale = { ...timer, request: timer.request - 1 };
    expect(node.protocol.handle({ type: 'timer', timer: stale }, 2_000)).toEqual([]);
    const actions = node.protocol.handle({ type: 'timer', timer }, 2_000);
    expect(node.passive()).not.toContain(timer.peer);
    expect(actionsOf(actions, 'disconnect').map((a) => a.peer.id)).toEqual([timer.peer]);
    expect(neighborRequests(actions)).toHaveLength(1);
    expect(neighborRequests(actions)[0]?.to).not.toBe(timer.peer);
    expect(node.protocol.stats().neighborRequestTimeouts).toBe(1);
  });

  it('a failed dial drops the candidate and tries the next one', () => {
    const node = smallFullNode({ maxConcurrentRequests: 1 });
    const first =
      neighborRequests(node.protocol.handle({ type: 'linkDown', peer: peer(1).id }, 0))[0]?.to ?? '';
    const actions = node.protocol.handle({ type: 'dialFailed', peer: first }, 0);
    expect(node.passive()).not.toContain(first);
    expect(neighborRequests(actions)).toHaveLength(1);
    expect(neighborRequests(actions)[0]?.to).not.toBe(first);
  });

  it('a failed dial to the joiner a ForwardJoin named forgets it, and it never was a neighbour', () => {
    const node = new Harness().withNeighbours(1);
    node.receive(1, { type: 'forwardJoin', peer: peer(9), ttl: 0 });
    const actions = node.protocol.handle({ type: 'dialFailed', peer: peer(9).id }, 0);
    expect(node.active()).toEqual([peer(1).id]);
    expect(node.passive()).not.toContain(peer(9).id);
    expect(actionsOf(actions, 'neighborDown')).toEqual([]);
  });

  it('ignores a link closing to a peer it has no use for', () => {
    const node = smallFullNode();
    expect(node.protocol.handle({ type: 'linkDown', peer: peer(3).id }, 0)).toEqual([]);
    expect(node.passive()).toContain(peer(3).id);
  });

  it('undoes an acceptance that arrives after its request timed out', () => {
    const node = smallFullNode({ maxConcurrentRequests: 1 });
    const down = node.protocol.handle({ type: 'linkDown', peer: peer(1).id }, 0);
    const timer = actionsOf(down, 'setTimer')[0]?.timer;
    if (timer?.type !== 'neighborTimeout') throw new Error('expected a neighborTimeout timer');
    node.protocol.handle({ type: 'timer', timer }, 2_000);
    const lateIndex = timer.peer === peer(3).id ? 3 : 4;
    const actions = node.receive(lateIndex, { type: 'neighborReply', accepted: true });
    expect(node.active()).not.toContain(timer.peer);
    expect(sends(actions, 'disconnect')).toEqual([
      { type: 'send', to: peer(lateIndex), message: { type: 'disconnect', alive: true } },
    ]);
    expect(actionsOf(actions, 'disconnect').map((a) => a.peer.id)).toEqual([timer.peer]);
  });

  it('re-joins through a remembered contact once every known peer is gone', () => {
    const node = new Harness();
    node.protocol.handle({ type: 'join', contact: peer(1) }, 0);
    node.protocol.handle({ type: 'dialFailed', peer: peer(1).id }, 0);
    const actions = tick(node, 1_000);
    expect(sends(actions, 'join').map((s) => s.to)).toEqual([peer(1)]);
  });

  it('with no contact left, re-joins through a peer it evicted from the passive view for room', () => {
    const node = new Harness({ passiveViewSize: 2 });
    node.withPassive(3, 4);
    node.withPassive(5, 6); // two of 3, 4, 5 are evicted to make room
    const evicted = [3, 4, 5].map((i) => peer(i).id).filter((id) => !node.passive().includes(id));
    expect(evicted).toHaveLength(2);
    // Every peer it still knows turns out dead; so does one of the evicted ones.
    for (const id of [...node.passive(), evicted[0] as string]) {
      node.protocol.handle({ type: 'dialFailed', peer: id }, 0);
    }
    expect(node.passive()).toEqual([]);
    const actions = tick(node, 1_000);
    expect(sends(actions, 'join').map((s) => s.to.id)).toEqual([evicted[1]]);
  });

  /** The peers a node that knows nobody re-joins through, one repair tick each, every Join's dial failing. */
  function rejoinTargets(node: Harness, ticks: number): string[] {
    const targets: string[] = [];
    for (let i = 1; i <= ticks; i++) {
      for (const join of sends(tick(node, node.now + 1_000), 'join')) {
        targets.push(join.to.id);
        node.protocol.handle({ type: 'dialFailed', peer: join.to.id }, node.now);
      }
    }
    return targets;
  }

  it('remembers the last maxContacts contacts, each once, forgetting the oldest first', () => {
    const node = new Harness({ maxContacts: 3 });
    // Contact 4 comes again last: it counts as the newest, once.
    for (const index of [1, 2, 3, 4, 5, 4]) node.protocol.handle({ type: 'join', contact: peer(index) }, 0);
    for (const index of [1, 2, 3, 4, 5])
      node.protocol.handle({ type: 'dialFailed', peer: peer(index).id }, 0);
    expect(new Set(rejoinTargets(node, 30))).toEqual(new Set([3, 4, 5].map((i) => peer(i).id)));
  });

  it('remembers the last maxContacts peers evicted from the passive view, each once, and forgets one whose dial failed', () => {
    const node = new Harness({ passiveViewSize: 1, maxContacts: 3 });
    // Each new peer evicts the one before: 1, 2, 3, 4, 5 and 4 again, newest last.
    node.withPassive(1, 2, 3, 4, 5, 4, 6);
    node.protocol.handle({ type: 'dialFailed', peer: peer(6).id }, 0);
    expect(node.passive()).toEqual([]);
    const targets = rejoinTargets(node, 5);
    expect(targets).toHaveLength(3);
    expect(new Set(targets)).toEqual(new Set([3, 4, 5].map((i) => peer(i).id)));
  });
});

describe('HyParView discovery', () => {
  it('ignores itself and only stores a new peer; the repair tick then asks it, with high priority when alone', () => {
    const node = new Harness();
    expect(node.protocol.handle({ type: 'discovered', peer: node.self }, 0)).toEqual([]);
    expect(node.protocol.handle({ type: 'discovered', peer: peer(5) }, 0)).toEqual([]);
    expect(node.passive()).toEqual([peer(5).id]);
    expect(neighborRequests(tick(node, 1_000))).toEqual([{ to: peer(5).id, priority: 'high' }]);
  });

  it('the repair tick of a node with no neighbour asks as many passive peers as it may at once', () => {
    for (const maxConcurrentRequests of [1, 2, 3]) {
      const node = new Harness({ maxConcurrentRequests });
      node.withPassive(5, 6, 7, 8);
      const requests = neighborRequests(tick(node, 1_000));
      expect(requests).toHaveLength(maxConcurrentRequests);
      expect(new Set(requests.map((r) => r.to)).size).toBe(maxConcurrentRequests);
      for (const request of requests) expect(request.priority).toBe('high');
      // Nothing new while they are out.
      expect(neighborRequests(tick(node, 2_000))).toEqual([]);
    }
  });

  it('the repair tick adds one neighbour at a time, with low priority once it has one', () => {
    const node = new Harness().withNeighbours(1);
    for (const index of [5, 6, 7, 8]) node.protocol.handle({ type: 'discovered', peer: peer(index) }, 0);
    const first = neighborRequests(tick(node, 1_000));
    expect(first).toHaveLength(1);
    expect(first[0]?.priority).toBe('low');
    // Nothing new while that request is out.
    expect(neighborRequests(tick(node, 2_000))).toEqual([]);
    const asked = [5, 6, 7, 8].find((i) => peer(i).id === first[0]?.to) ?? -1;
    node.receive(asked, { type: 'neighborReply', accepted: true });
    expect(node.active()).toHaveLength(2);
    expect(neighborRequests(tick(node, 3_000))).toHaveLength(1);
  });

  it('ticks first half a second after start, to link up once start-up beacons are in, then every interval', () => {
    const repairDelays = (actions: readonly ProtocolAction[]) =>
      actionsOf(actions, 'setTimer')
        .filter((action) => action.timer.type === 'repair')
        .map((action) => action.after);
    const node = new Harness();
    expect(repairDelays(node.protocol.handle({ type: 'start' }, 0))).toEqual([500]);
    node.withPassive(5, 6, 7);
    expect(repairDelays(tick(node, 500))).toEqual([DEFAULT_REPAIR_INTERVAL]);
    // A shorter interval than that is kept from the start.
    const quick = new Harness({ repairInterval: 200 });
    expect(repairDelays(quick.protocol.handle({ type: 'start' }, 0))).toEqual([200]);
  });

  it('the repair tick sleeps while the active view is full and wakes when a neighbour is lost', () => {
    const node = smallFullNode();
    node.protocol.handle({ type: 'start' }, 0);
    const repairTimers = (actions: readonly ProtocolAction[]) =>
      actionsOf(actions, 'setTimer').filter((action) => action.timer.type === 'repair');
    expect(repairTimers(tick(node, 1_000))).toEqual([]);
    const lost = node.protocol.handle({ type: 'linkDown', peer: peer(1).id }, 1_500);
    expect(repairTimers(lost)).toHaveLength(1);
    // Still short of a neighbour (its request is out): the tick keeps running.
    expect(repairTimers(tick(node, 2_500))).toHaveLength(1);
    // Full again: the next tick is the last.
    const asked = neighborRequests(lost)[0]?.to;
    node.receive(asked === peer(3).id ? 3 : 4, { type: 'neighborReply', accepted: true });
    expect(node.active()).toHaveLength(2);
    expect(repairTimers(tick(node, 3_500))).toEqual([]);
  });

  it('ignores the beacons of a peer that said goodbye for DEPARTED_MEMORY, then hears it again', () => {
    const node = smallFullNode();
    node.now = 10_000;
    node.receive(1, { type: 'disconnect', alive: false });
    expect(node.passive()).not.toContain(peer(1).id);
    // A beacon it sent before leaving, read after its goodbye, must not bring it back.
    expect(node.protocol.handle({ type: 'discovered', peer: peer(1) }, 10_001)).toEqual([]);
    expect(node.protocol.handle({ type: 'discovered', peer: peer(1) }, 10_000 + DEPARTED_MEMORY - 1)).toEqual(
      [],
    );
    expect(node.passive()).not.toContain(peer(1).id);
    // Beacons from later on come from a node that started again.
    node.protocol.handle({ type: 'discovered', peer: peer(1) }, 10_000 + DEPARTED_MEMORY);
    expect(node.passive()).toContain(peer(1).id);
  });

  it('remembers at most DEPARTED_MEMORY_ENTRIES goodbyes, forgetting the oldest first', () => {
    const node = new Harness();
    node.now = 10_000;
    const first = 10;
    const last = first + DEPARTED_MEMORY_ENTRIES; // one more than are remembered
    for (let index = first; index <= last; index++) node.receive(index, { type: 'disconnect', alive: false });
    node.protocol.handle({ type: 'discovered', peer: peer(last) }, 10_001);
    node.protocol.handle({ type: 'discovered', peer: peer(first + 1) }, 10_001);
    expect(node.passive()).toEqual([]);
    node.protocol.handle({ type: 'discovered', peer: peer(first) }, 10_001);
    expect(node.passive()).toEqual([peer(first).id]);
  });

  it('counts a second goodbye from a peer as its newest, forgetting the one after it first', () => {
    const node = new Harness();
    node.now = 10_000;
    const first = 10;
    const last = first + DEPARTED_MEMORY_ENTRIES; // one more than are remembered
    for (let index = first; index < last; index++) node.receive(index, { type: 'disconnect', alive: false });
    node.receive(first, { type: 'disconnect', alive: false }); // it restarted and left again
    node.receive(last, { type: 'disconnect', alive: false });
    node.protocol.handle({ type: 'discovered', peer: peer(first) }, 10_001);
    expect(node.passive()).toEqual([]);
    node.protocol.handle({ type: 'discovered', peer: peer(first + 1) }, 10_001);
    expect(node.passive()).toEqual([peer(first + 1).id]);
  });

  it('refreshes the address of a known peer from a beacon or from a message it sent', () => {
    const node = smallFullNode();
    const moved = { id: peer(3).id, address: 'elsewhere:1' };
    expect(node.protocol.handle({ type: 'discovered', peer: moved }, 0)).toEqual([]);
    expect(node.protocol.passiveView()).toContainEqual(moved);
    const movedAgain = { id: peer(1).id, address: 'elsewhere:2' };
    node.receive(movedAgain, { type: 'neighbor', priority: 'low' });
    expect(node.protocol.activeView()).toContainEqual(movedAgain);
  });

  it('takes no passive place for the beacon of a peer it has a request out to: it is a candidate already', () => {
    const node = new Harness({ passiveViewSize: 2 }).withNeighbours(1);
    node.withPassive(3, 4);
    node.protocol.handle({ type: 'join', contact: peer(7) }, 0);
    expect(node.protocol.handle({ type: 'discovered', peer: peer(7) }, 0)).toEqual([]);
    expect(node.passive().sort()).toEqual([peer(3).id, peer(4).id].sort());
  });
});
