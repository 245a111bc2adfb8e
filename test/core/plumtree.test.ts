import { describe, expect, it } from 'vitest';
import type { ProtocolAction, ProtocolTimer } from '../../src/core/actions.js';
import {
  CATCH_UP_BYTES_PER_PEER,
  DEFAULT_GRAFT_RETRY_TIMEOUT,
  DEFAULT_GRAFT_TIMEOUT,
  DEFAULT_IHAVE_FLUSH_INTERVAL,
  DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER,
  IHAVE_ENTRIES_LIMIT,
  IHAVE_FLUSH_JITTER,
  LEAVE_PUSH_BYTES_PER_PEER,
  MAX_GRAFT_DEFERRALS,
  MAX_GRAFTS_IN_FLIGHT_PER_PEER,
} from '../../src/core/broadcast/plumtree-options.js';
import type { Gossip, IHave, ProtocolMessage } from '../../src/core/messages.js';
import { DEFAULT_PROTOCOL_OPTIONS, type ProtocolOptions } from '../../src/core/protocol.js';
import { actionsOf, Harness, ids, peer, type Sent, sends } from './helpers.js';

function gossip(origin: number, seq: number, hops = 0, payload = new Uint8Array([seq & 0xff])): Gossip {
  return { type: 'gossip', origin: peer(origin).id, seq, hops, payload };
}

function ihave(...entries: [origin: number, seq: number, hops: number][]): IHave {
  return {
    type: 'ihave',
    entries: entries.map(([origin, seq, hops]) => ({ origin: peer(origin).id, seq, hops })),
  };
}

/** The messages sent, as { to, message }. */
function sent(actions: readonly ProtocolAction[], type?: ProtocolMessage['type']): Sent[] {
  return sends(actions, type).map(({ to, message }) => ({ to, message }));
}

function timersOf(actions: readonly ProtocolAction[]): { after: number; timer: ProtocolTimer }[] {
  return actionsOf(actions, 'setTimer').map(({ after, timer }) => ({ after, timer }));
}

/** The single timer of `type` among `actions`. */
function timerOf(actions: readonly ProtocolAction[], type: ProtocolTimer['type']): ProtocolTimer {
  const found = timersOf(actions).filter((t) => t.timer.type === type);
  expect(found).toHaveLength(1);
  return (found[0] as { timer: ProtocolTimer }).timer;
}

/** Peer 0 running Plumtree (the default strategy), driven by hand. */
class Node extends Harness {
  fire(timer: ProtocolTimer): ProtocolAction[] {
    return this.protocol.handle({ type: 'timer', timer }, this.now);
  }

  broadcast(payload = new Uint8Array([42])): ProtocolAction[] {
    return this.protocol.handle({ type: 'broadcast', payload }, this.now);
  }

  /** Our own broadcast `seq` (default payload) coming back from `from`, `hops` links away. */
  echo(from: number, seq: number, hops: number): ProtocolAction[] {
    return this.receive(from, {
      type: 'gossip',
      origin: this.self.id,
      seq,
      hops,
      payload: new Uint8Array([42]),
    });
  }

  /**
   * Makes peers lazy in the shared tree, the way a peer does it: by pruning us for an origin
   * without a tree of its own (one that never broadcast twice).
   */
  pruneFrom(...indices: number[]): this {
    for (const index of indices) this.receive(index, { type: 'prune', origin: peer(99).id });
    return this;
  }

  sets(): { eager: number; lazy: number } {
    const stats = this.protocol.stats();
    return { eager: stats.eagerPeers, lazy: stats.lazyPeers };
  }
}

/** The peers that `actions` send a Graft to, in order. */
function graftsTo(actions: readonly ProtocolAction[]): string[] {
  return sent(actions, 'graft').map((s) => s.to.id);
}

/**
 * A node in origin 9's own tree (messages 1 and 2 came from peer 1, its parent; peer 2 is lazy),
 * missing message `seq`, which peer 2 announced; with the graft timer that announcement armed.
 */
function missingBehindParent(seq: number, ...moreNeighbours: number[]): { node: Node; timer: ProtocolTimer } {
  const node = new Node().withNeighbours(1, 2, ...moreNeighbours).pruneFrom(2);
  node.receive(1, gossip(9, 1));
  node.receive(1, gossip(9, 2));
  return { node, timer: timerOf(node.receive(2, ihave([9, seq, 1])), 'graftTimeout') };
}

/** The parent (peer 1) brings origin 9's message `seq` just before `at`, when `timer` fires. */
function parentDeliversThenFire(node: Node, seq: number, at: number, timer: ProtocolTimer): ProtocolAction[] {
  node.now = at - 1;
  node.receive(1, gossip(9, seq));
  node.now = at;
  return node.fire(timer);
}

/**
 * How many (peer, message) answers to Grafts the node remembers: read from its private state, for a
 * memory bound that neither its stats nor its messages show.
 */
function answersRemembered(node: Node): number {
  const internals = node.protocol as unknown as { broadcast: { answered: Map<string, Map<string, number>> } };
  let count = 0;
  for (const answers of internals.broadcast.answered.values()) count += answers.size;
  return count;
}

/**
 * Origin 9's own tree reached us from parent 1, 6 hops from the origin (messages 1 and 2); then
 * peer 3 announced message 2 at 0 hops, and the swap made it the parent in 1's place.
 */
function shortcutThrough3(): Node {
  const node = new Node().withNeighbours(1, 2, 3);
  node.receive(1, gossip(9, 1, 5));
  node.receive(1, gossip(9, 2, 5));
  node.now += 1_000;
  expect(graftsTo(node.receive(3, ihave([9, 2, 0])))).toEqual([peer(3).id]);
  return node;
}

/** Lazy peer `from` announces origin 9's message `seq`, 6 hops away; grafted when timer 1 fires, it delivers. */
function graftedOnTimeout(node: Node, from: number, seq: number): void {
  node.now += 1_000;
  const wait = timersOf(node.receive(from, ihave([9, seq, 5]))).find((t) => t.timer.type === 'graftTimeout');
  if (wait === undefined) throw new Error('no graft timer armed');
  node.now += wait.after;
  expect(graftsTo(node.fire(wait.timer))).toEqual([peer(from).id]);
  expect(actionsOf(node.receive(from, gossip(9, seq, 5)), 'deliver')).toHaveLength(1);
}

/** Fires the IHave flush that `actions` armed; the peers announced to, sorted. */
function announcedTo(node: Node, actions: readonly ProtocolAction[]): string[] {
  return sent(node.fire(timerOf(actions, 'ihaveFlush')))
    .map((s) => s.to.id)
    .sort();
}

describe('Plumtree broadcast', () => {
  it('is the default strategy', () => {
    expect(DEFAULT_PROTOCOL_OPTIONS.broadcast).toBe('plumtree');
  });

  it('pushes a broadcast to every neighbour at first (all start eager), numbered from initialSeq', () => {
    const node = new Node({ initialSeq: 500 }).withNeighbours(1, 2, 3);
    expect(node.sets()).toEqual({ eager: 3, lazy: 0 });
    const payload = new Uint8Array([7, 7]);
    const actions = node.broadcast(payload);
    const pushed = sent(actions, 'gossip');
    expect(ids(pushed.map((s) => s.to)).sort()).toEqual([peer(1).id, peer(2).id, peer(3).id].sort());
    for (const s of pushed) {
      expect(s.message).toEqual({ type: 'gossip', origin: node.self.id, seq: 500, hops: 0, payload });
    }
    expect(actionsOf(actions, 'deliver')).toEqual([]);
    expect(node.protocol.lastSeq()).toBe(500);
    expect(node.protocol.stats()).toMatchObject({ broadcasts: 1, payloadsSent: 3, payloadCacheEntries: 1 });
  });

  it('delivers a new payload once, one hop further, and relays it to the eager peers but the sender', () => {
    const node = new Node().withNeighbours(1, 2, 3);
    const message = gossip(9, 5, 2);
    const actions = node.receive(1, message);
    expect(actionsOf(actions, 'deliver')).toEqual([
      { type: 'deliver', origin: peer(9).id, seq: 5, hops: 3, payload: message.payload },
    ]);
    const relayed = sent(actions, 'gossip');
    expect(ids(relayed.map((s) => s.to)).sort()).toEqual([peer(2).id, peer(3).id].sort());
    for (const s of relayed) expect(s.message).toEqual({ ...message, hops: 3 });
    // The runtime carries actions out in order, and hands a delivery to the application's listener
    // there and then: the relays go first, so that a slow listener holds up no peer.
    const lastRelay = actions.findLastIndex((a) => a.type === 'send' && a.message.type === 'gossip');
    expect(actions.findIndex((a) => a.type === 'deliver')).toBeGreaterThan(lastRelay);
  });

  it('answers a duplicate payload with Prune and moves its sender from eager to lazy', () => {
    const node = new Node().withNeighbours(1, 2, 3);
    node.receive(1, gossip(9, 5));
    const duplicate = node.receive(2, gossip(9, 5));
    expect(actionsOf(duplicate, 'deliver')).toEqual([]);
    expect(sent(duplicate)).toEqual([{ to: peer(2), message: { type: 'prune', origin: peer(9).id } }]);
    expect(node.sets()).toEqual({ eager: 2, lazy: 1 });
    expect(node.protocol.stats()).toMatchObject({ duplicates: 1, prunesSent: 1, broadcastControlSent: 1 });
    // Peer 2 now only hears announcements: the next payload goes to 3, and 2 gets an IHave later.
    const next = node.receive(1, gossip(9, 6, 1));
    expect(sent(next, 'gossip').map((s) => s.to.id)).toEqual([peer(3).id]);
    const flush = node.fire(timerOf(next, 'ihaveFlush'));
    expect(sent(flush)).toEqual([{ to: peer(2), message: ihave([9, 6, 2]) }]);
  });

  it('counts its own message coming back as a duplicate and prunes the link it came on', () => {
    const node = new Node().withNeighbours(1, 2);
    node.broadcast();
    const echo = node.echo(2, 0, 3);
    expect(actionsOf(echo, 'deliver')).toEqual([]);
    expect(sent(echo)).toEqual([{ to: peer(2), message: { type: 'prune', origin: node.self.id } }]);
  });

  it('never delivers nor relays its own message, even once the seen cache forgot it', () => {
    const node = new Node({ seenCacheMaxEntries: 1 }).withNeighbours(1, 2);
    node.broadcast();
    node.broadcast(); // message 0 leaves the seen cache
    const echo = node.echo(2, 0, 3);
    expect(actionsOf(echo, 'deliver')).toEqual([]);
    expect(sent(echo, 'gossip')).toEqual([]);
    expect(node.protocol.stats()).toMatchObject({ duplicates: 1, delivered: 0 });
  });

  it('moves a peer that prunes us to lazy: it gets announcements, not payloads', () => {
    const node = new Node().withNeighbours(1, 2, 3).pruneFrom(2);
    expect(node.sets()).toEqual({ eager: 2, lazy: 1 });
    const actions = node.broadcast();
    expect(ids(sent(actions, 'gossip').map((s) => s.to)).sort()).toEqual([peer(1).id, peer(3).id].sort());
    expect(timerOf(actions, 'ihaveFlush')).toEqual({ type: 'ihaveFlush' });
    expect(sent(node.fire({ type: 'ihaveFlush' }))).toEqual([
      { to: peer(2), message: { type: 'ihave', entries: [{ origin: node.self.id, seq: 0, hops: 0 }] } },
    ]);
  });

  it('spreads its IHave flushes over the interval ± the jitter, so that nodes armed together flush apart', () => {
    const delays: number[] = [];
    for (let seed = 1; seed <= 50; seed++) {
      const node = new Node({}, seed).withNeighbours(1, 2).pruneFrom(2);
      // Armed by the first announcement, re-armed by the first one after each flush.
      for (let round = 0; round < 3; round++) {
        const armed = timersOf(node.broadcast()).filter((t) => t.timer.type === 'ihaveFlush');
        expect(armed).toHaveLength(1);
        delays.push((armed[0] as { after: number }).after);
        node.fire({ type: 'ihaveFlush' });
      }
    }
    const low = DEFAULT_IHAVE_FLUSH_INTERVAL * (1 - IHAVE_FLUSH_JITTER);
    const high = DEFAULT_IHAVE_FLUSH_INTERVAL * (1 + IHAVE_FLUSH_JITTER);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(low);
      expect(delay).toBeLessThanOrEqual(high);
    }
    // Spread over the whole range, not bunched: each fifth of it holds some of the 150 delays.
    const fifths = new Set(
      delays.map((delay) => Math.min(4, Math.floor(((delay - low) / (high - low)) * 5))),
    );
    expect(fifths.size).toBe(5);
  });

  it('batches announcements per lazy peer into one IHave per flush, and flushes a full batch at once', () => {
    const node = new Node().withNeighbours(1, 2, 3).pruneFrom(2, 3);
    const first = node.broadcast();
    const second = node.receive(1, gossip(9, 1, 0));
    const third = node.broadcast();
    // One flush timer for the lot, armed by the first announcement.
    expect(timersOf(first)).toHaveLength(1);
    expect(timersOf([...second, ...third])).toEqual([]);
    const flushed = sent(node.fire({ type: 'ihaveFlush' }));
    const expected = {
      type: 'ihave',
      entries: [
        { origin: node.self.id, seq: 0, hops: 0 },
        { origin: peer(9).id, seq: 1, hops: 1 },
        { origin: node.self.id, seq: 1, hops: 0 },
      ],
    };
    expect(flushed).toEqual([
      { to: peer(2), message: expected },
      { to: peer(3), message: expected },
    ]);
    expect(node.protocol.stats()).toMatchObject({ ihaveMessagesSent: 2, ihaveEntriesSent: 6 });
    expect(sent(node.fire({ type: 'ihaveFlush' }))).toEqual([]);

    const capped = new Node({ ihaveBatchMax: 2 }).withNeighbours(1, 2).pruneFrom(2);
    expect(sent(capped.broadcast(), 'ihave')).toEqual([]);
    const full = sent(capped.broadcast(), 'ihave');
    expect(full.map((s) => (s.message as IHave).entries.length)).toEqual([2]);
  });

  it('grafts the first announcer after timer 1, then the next announcer after the shorter timer 2', () => {
    const node = new Node().withNeighbours(1, 2, 3).pruneFrom(2, 3);
    const announced = node.receive(2, ihave([9, 5, 1]));
    const timer = timerOf(announced, 'graftTimeout');
    expect(timersOf(announced)[0]?.after).toBe(DEFAULT_GRAFT_TIMEOUT);
    // A second announcer of the same message arms no second timer.
    expect(timersOf(node.receive(3, ihave([9, 5, 2])))).toEqual([]);

    const first = node.fire(timer);
    expect(sent(first)).toEqual([
      { to: peer(2), message: { type: 'graft', origin: peer(9).id, seq: 5, request: true } },
    ]);
    expect(timersOf(first)[0]?.after).toBe(DEFAULT_GRAFT_RETRY_TIMEOUT);
    expect(node.sets()).toEqual({ eager: 2, lazy: 1 });

    const second = node.fire(timerOf(first, 'graftTimeout'));
    expect(sent(second)).toEqual([
      { to: peer(3), message: { type: 'graft', origin: peer(9).id, seq: 5, request: true } },
    ]);
    expect(node.sets()).toEqual({ eager: 3, lazy: 0 });
    // Nobody left to ask: the message is given up until announced again.
    const third = node.fire(timerOf(second, 'graftTimeout'));
    expect(third).toEqual([]);
    expect(node.protocol.stats()).toMatchObject({ graftsSent: 2, missingMessages: 0 });

    // The grafted peer's answer is delivered, and it stays eager.
    const answer = node.receive(3, gossip(9, 5, 2));
    expect(actionsOf(answer, 'deliver')).toHaveLength(1);
    expect(node.sets()).toEqual({ eager: 3, lazy: 0 });
  });

  it('grafts the peer it grafted last when that one also announced the next missing message', () => {
    const node = new Node().withNeighbours(1, 2, 3).pruneFrom(2, 3);
    const first = timerOf(node.receive(2, ihave([9, 5, 1])), 'graftTimeout');
    node.receive(3, ihave([9, 5, 1]));
    // Message 6 was announced by 3 first, then by 2.
    const second = timerOf(node.receive(3, ihave([9, 6, 1])), 'graftTimeout');
    node.receive(2, ihave([9, 6, 1]));
    node.now = DEFAULT_GRAFT_TIMEOUT;
    expect(graftsTo(node.fire(first))).toEqual([peer(2).id]);
    // Within a graft timeout of that Graft: peer 2 again, so one link is re-made eager, not two.
    expect(graftsTo(node.fire(second))).toEqual([peer(2).id]);
    // Long after, the oldest announcer is asked first again. Peer 2 is pruned back to lazy first:
    // an announcement from a tree link is grafted at once (tested below).
    node.now = 10 * DEFAULT_GRAFT_TIMEOUT;
    node.pruneFrom(2);
    const third = timerOf(node.receive(3, ihave([9, 7, 1])), 'graftTimeout');
    node.receive(2, ihave([9, 7, 1]));
    expect(graftsTo(node.fire(third))).toEqual([peer(3).id]);
  });

  it('grafts at once a missing message that a tree link announces: no push from it is on the way', () => {
    const node = new Node().withNeighbours(1, 2, 3).pruneFrom(3);
    // Peer 3 is lazy: its announcement arms the graft timer and asks nothing yet.
    const lazy = node.receive(3, ihave([9, 5, 1]));
    expect(sent(lazy)).toEqual([]);
    expect(timersOf(lazy)[0]?.after).toBe(DEFAULT_GRAFT_TIMEOUT);
    // Peer 2 is a tree link at our end: it is asked now, then the next announcer after timer 2.
    const eager = node.receive(2, ihave([9, 5, 2]));
    expect(sent(eager)).toEqual([
      { to: peer(2), message: { type: 'graft', origin: peer(9).id, seq: 5, request: true } },
    ]);
    expect(timersOf(eager)[0]?.after).toBe(DEFAULT_GRAFT_RETRY_TIMEOUT);
    expect(graftsTo(node.fire(timerOf(eager, 'graftTimeout')))).toEqual([peer(3).id]);
    // The first timer is stale by now.
    expect(node.fire(timerOf(lazy, 'graftTimeout'))).toEqual([]);
  });

  it('grafts a tree link at once only the first time it announces a message: a repeat asks nobody else early', () => {
    const node = new Node().withNeighbours(1, 2).pruneFrom(2);
    node.receive(2, ihave([9, 5, 1])); // a lazy link: the graft timer starts
    expect(graftsTo(node.receive(1, ihave([9, 5, 1])))).toEqual([peer(1).id]); // the tree link: at once
    // Peer 1 announces it again while our Graft is on its way: peer 2's turn comes after timer 2.
    expect(node.receive(1, ihave([9, 5, 1]))).toEqual([]);
    expect(node.protocol.stats()).toMatchObject({ graftsSent: 1, missingMessages: 1 });
  });

  it("in an origin's own tree grafts at once only from the parent: another tree link's copy may just be slower", () => {
    const node = new Node().withNeighbours(1, 2, 3);
    // Origin 9's messages 1 and 2 come over peer 1: its own tree, with 1 as the parent.
    node.receive(1, gossip(9, 1));
    node.receive(1, gossip(9, 2));
    // Peer 2 is eager at our end but not the parent: its announcement waits for the graft timer.
    const other = node.receive(2, ihave([9, 3, 2]));
    expect(sent(other)).toEqual([]);
    expect(timersOf(other)[0]?.after).toBe(DEFAULT_GRAFT_TIMEOUT);
    // The parent announcing it means no push is coming from anyone: it is asked at once.
    expect(graftsTo(node.receive(1, ihave([9, 3, 1])))).toEqual([peer(1).id]);
  });

  it("waits on a graft timeout while the origin's tree still brings older messages: the missing one is queued behind them", () => {
    const { node, timer } = missingBehindParent(5);
    // Message 3 comes down the tree just before the timer fires: no Graft, one more graft timeout.
    const waited = parentDeliversThenFire(node, 3, DEFAULT_GRAFT_TIMEOUT, timer);
    expect(graftsTo(waited)).toEqual([]);
    expect(timersOf(waited)[0]?.after).toBe(DEFAULT_GRAFT_TIMEOUT);
    expect(node.protocol.stats().graftsDeferred).toBe(1);
    // The tree has been quiet for a graft timeout since: peer 2 is asked.
    node.now = 2 * DEFAULT_GRAFT_TIMEOUT;
    expect(graftsTo(node.fire(timerOf(waited, 'graftTimeout')))).toEqual([peer(2).id]);
  });

  it('grafts after MAX_GRAFT_DEFERRALS waits, at once past a gap, and at once when the parent is gone', () => {
    const slow = missingBehindParent(100);
    let timer = slow.timer;
    // The parent keeps bringing older messages, each just before the timer fires.
    for (let wait = 1; wait <= MAX_GRAFT_DEFERRALS; wait++) {
      const waited = parentDeliversThenFire(slow.node, 2 + wait, wait * DEFAULT_GRAFT_TIMEOUT, timer);
      expect(graftsTo(waited)).toEqual([]);
      timer = timerOf(waited, 'graftTimeout');
    }
    const last = parentDeliversThenFire(
      slow.node,
      50,
      (MAX_GRAFT_DEFERRALS + 1) * DEFAULT_GRAFT_TIMEOUT,
      timer,
    );
    expect(graftsTo(last)).toEqual([peer(2).id]);

    // A newer message than the missing one came down the tree: the parent passed it by.
    const gap = missingBehindParent(3);
    expect(graftsTo(parentDeliversThenFire(gap.node, 4, DEFAULT_GRAFT_TIMEOUT, gap.timer))).toEqual([
      peer(2).id,
    ]);

    // The parent went down just after its last message: nothing more comes from it.
    const orphan = missingBehindParent(5, 3);
    orphan.node.now = DEFAULT_GRAFT_TIMEOUT - 1;
    orphan.node.receive(1, gossip(9, 3));
    orphan.node.receive(1, { type: 'disconnect', alive: false });
    orphan.node.now = DEFAULT_GRAFT_TIMEOUT;
    expect(graftsTo(orphan.node.fire(orphan.timer))).toEqual([peer(2).id]);
  });

  it('grafts at once when the parent that brought the older messages has pruned us since: it pushes no more', () => {
    const { node, timer } = missingBehindParent(5);
    node.now = DEFAULT_GRAFT_TIMEOUT - 1;
    node.receive(1, gossip(9, 3));
    node.receive(1, { type: 'prune', origin: peer(9).id });
    node.now = DEFAULT_GRAFT_TIMEOUT;
    expect(graftsTo(node.fire(timer))).toEqual([peer(2).id]);
    expect(node.protocol.stats().graftsDeferred).toBe(0);
  });

  it('sends no Graft when the payload arrives before timer 1, nor for a stale timer', () => {
    const node = new Node().withNeighbours(1, 2).pruneFrom(2);
    const timer = timerOf(node.receive(2, ihave([9, 5, 1])), 'graftTimeout');
    expect(node.protocol.stats().missingMessages).toBe(1);
    node.receive(1, gossip(9, 5, 0));
    expect(node.protocol.stats().missingMessages).toBe(0);
    expect(node.fire(timer)).toEqual([]);
    // Announcements of a message already delivered start nothing.
    expect(node.receive(2, ihave([9, 5, 1]))).toEqual([]);
    // A timer whose token does not match the current one is ignored.
    const fresh = timerOf(node.receive(2, ihave([9, 6, 1])), 'graftTimeout');
    if (fresh.type !== 'graftTimeout') throw new Error('expected a graft timer');
    expect(node.fire({ ...fresh, token: fresh.token + 100 })).toEqual([]);
    expect(sent(node.fire(fresh), 'graft')).toHaveLength(1);
  });

  it('answers a Graft from the cache with the stored hop count, and makes the sender eager', () => {
    const node = new Node().withNeighbours(1, 2).pruneFrom(2);
    const original = gossip(9, 5, 2, new Uint8Array([1, 2, 3]));
    node.receive(1, original);
    const answer = node.receive(2, { type: 'graft', origin: peer(9).id, seq: 5, request: true });
    expect(sent(answer)).toEqual([{ to: peer(2), message: { ...original, hops: 3 } }]);
    expect(node.sets()).toEqual({ eager: 2, lazy: 0 });
    expect(node.protocol.stats()).toMatchObject({ graftsAnswered: 1, payloadsSent: 1 });
    // Our own broadcast is answered with hop count 0.
    node.pruneFrom(2);
    node.broadcast(new Uint8Array([5]));
    const own = node.receive(2, { type: 'graft', origin: node.self.id, seq: 0, request: true });
    expect(sent(own)).toEqual([
      {
        to: peer(2),
        message: { type: 'gossip', origin: node.self.id, seq: 0, hops: 0, payload: new Uint8Array([5]) },
      },
    ]);
  });

  it('answers a Graft for an evicted or unknown message with nothing, but still makes the sender eager', () => {
    const node = new Node({ payloadCacheMaxAge: 1_000 }).withNeighbours(1, 2).pruneFrom(2);
    node.receive(1, gossip(9, 5));
    node.now = 1_000;
    expect(node.receive(2, { type: 'graft', origin: peer(9).id, seq: 5, request: true })).toEqual([]);
    expect(node.receive(2, { type: 'graft', origin: peer(8).id, seq: 77, request: true })).toEqual([]);
    expect(node.sets()).toEqual({ eager: 2, lazy: 0 });
    expect(node.protocol.stats().graftsUnanswerable).toBe(2);

    // Evicted for room: the cache holds one small payload at a time here.
    const small = new Node({ payloadCacheMaxBytes: 300 }).withNeighbours(1, 2);
    small.receive(1, gossip(9, 1));
    small.receive(1, gossip(9, 2));
    expect(small.receive(2, { type: 'graft', origin: peer(9).id, seq: 1, request: true })).toEqual([]);
    expect(sent(small.receive(2, { type: 'graft', origin: peer(9).id, seq: 2, request: true }))).toHaveLength(
      1,
    );
  });

  it('treats a Graft without request as a re-link only', () => {
    const node = new Node().withNeighbours(1, 2).pruneFrom(2);
    node.receive(1, gossip(9, 5));
    expect(node.receive(2, { type: 'graft', origin: peer(9).id, seq: 5, request: false })).toEqual([]);
    expect(node.sets()).toEqual({ eager: 2, lazy: 0 });
    expect(node.protocol.stats().graftsAnswered).toBe(0);
  });

  it('caches a private copy of each payload: later changes to the received buffer do not leak', () => {
    const node = new Node().withNeighbours(1, 2, 3).pruneFrom(2);
    const chunk = new Uint8Array([0, 0, 7, 8, 9, 0]);
    const actions = node.receive(1, gossip(9, 5, 0, chunk.subarray(2, 5)));
    const relayed = sent(actions, 'gossip').map((s) => (s.message as Gossip).payload);
    chunk.fill(0xee);
    expect(relayed).toEqual([new Uint8Array([7, 8, 9])]);
    const answer = sent(node.receive(2, { type: 'graft', origin: peer(9).id, seq: 5, request: true }));
    expect(answer.map((s) => (s.message as Gossip).payload)).toEqual([new Uint8Array([7, 8, 9])]);
  });

  it('forgets a neighbour that goes down: out of both sets, its announcements and queued IHaves dropped', () => {
    const node = new Node().withNeighbours(1, 2, 3).pruneFrom(2, 3);
    const timer = timerOf(node.receive(2, ihave([9, 5, 1])), 'graftTimeout');
    node.receive(3, ihave([9, 5, 1]));
    node.broadcast(); // queues an announcement for 2 and 3
    node.protocol.handle({ type: 'linkDown', peer: peer(2).id }, 0);
    expect(node.sets()).toEqual({ eager: 1, lazy: 1 });
    // Timer 1 skips the lost announcer.
    expect(sent(node.fire(timer), 'graft').map((s) => s.to.id)).toEqual([peer(3).id]);
    expect(sent(node.fire({ type: 'ihaveFlush' })).map((s) => s.to.id)).toEqual([peer(3).id]);
    // An eager neighbour going down stops getting payloads.
    node.protocol.handle({ type: 'linkDown', peer: peer(1).id }, 0);
    expect(sent(node.broadcast(), 'gossip').map((s) => s.to.id)).toEqual([peer(3).id]);

    // A message only the lost peer announced is dropped when its timer finds nobody to ask.
    const lone = new Node().withNeighbours(1, 2).pruneFrom(2);
    const loneTimer = timerOf(lone.receive(2, ihave([9, 5, 1])), 'graftTimeout');
    lone.protocol.handle({ type: 'linkDown', peer: peer(2).id }, 0);
    expect(lone.fire(loneTimer)).toEqual([]);
    expect(lone.protocol.stats().missingMessages).toBe(0);
  });

  it('losing a tree link relinks the lazy neighbours both ways, so a cut-off node neither waits for a Graft nor keeps its messages', () => {
    // Peer 1 is our only tree link; 2 and 3 are lazy (both ways, as a Prune leaves them).
    const node = new Node().withNeighbours(1, 2, 3).pruneFrom(2, 3);
    const down = node.protocol.handle({ type: 'linkDown', peer: peer(1).id }, 0);
    expect(
      sent(down, 'relink')
        .map((s) => s.to.id)
        .sort(),
    ).toEqual([peer(2).id, peer(3).id].sort());
    expect(node.protocol.stats()).toMatchObject({ relinksSent: 2, eagerPeers: 2, lazyPeers: 0 });
    // Our own next message reaches the rest of the tree at once.
    expect(
      sent(node.broadcast(), 'gossip')
        .map((s) => s.to.id)
        .sort(),
    ).toEqual([peer(2).id, peer(3).id].sort());

    // Losing a lazy link changes no tree: nothing to relink.
    const other = new Node().withNeighbours(1, 2, 3).pruneFrom(2, 3);
    expect(sent(other.protocol.handle({ type: 'linkDown', peer: peer(2).id }, 0), 'relink')).toEqual([]);
  });

  it('a Relink makes its sender eager in every tree; from a stranger it is only counted', () => {
    const node = new Node().withNeighbours(1, 2).pruneFrom(2);
    // Origin 9 broadcasts twice: its own tree copies the shared one, where 2 is lazy.
    node.receive(1, gossip(9, 1));
    node.receive(1, gossip(9, 2));
    node.receive(2, { type: 'prune', origin: peer(9).id });
    expect(node.receive(2, { type: 'relink' })).toEqual([]);
    expect(node.sets()).toEqual({ eager: 2, lazy: 0 });
    const next = node.receive(1, gossip(9, 3));
    expect(sent(next, 'gossip').map((s) => s.to.id)).toEqual([peer(2).id]);
    node.receive(7, { type: 'relink' });
    expect(node.protocol.stats().strangerMessages).toBe(1);
  });

  it("optimises an origin's own tree: a lazy link announcing a path at least the threshold shorter replaces the parent", () => {
    const node = new Node({ optimisationThreshold: 4 }).withNeighbours(1, 2, 3).pruneFrom(2, 3);
    // Origin 9's first message follows the shared tree and is never optimised for it.
    node.receive(1, gossip(9, 4, 6));
    expect(node.receive(2, ihave([9, 4, 0]))).toEqual([]);
    // Its second one gives it a tree of its own, a copy of the shared one.
    node.receive(1, gossip(9, 5, 6)); // 7 hops from the origin through peer 1
    expect(node.protocol.stats().originTrees).toBe(1);
    // Through peer 3: 5 + 1 = 6 hops, one shorter: not worth it.
    expect(node.receive(3, ihave([9, 5, 5]))).toEqual([]);
    // Through peer 2: 2 + 1 = 3 hops, four shorter: re-link without asking for the payload.
    const swap = node.receive(2, ihave([9, 5, 2]));
    expect(sent(swap)).toEqual([
      { to: peer(2), message: { type: 'graft', origin: peer(9).id, seq: 5, request: false } },
      { to: peer(1), message: { type: 'prune', origin: peer(9).id } },
    ]);
    // The shared tree is untouched: 1 eager, 2 and 3 lazy.
    expect(node.protocol.stats()).toMatchObject({ optimisations: 1, eagerPeers: 1, lazyPeers: 2 });
    // The new path is the reference now: 0 + 1 hops is not clearly shorter than 3.
    expect(node.receive(3, ihave([9, 5, 0]))).toEqual([]);
    // Origin 9's next payload comes down the new link and is only announced to 1 and 3.
    node.fire({ type: 'ihaveFlush' });
    const next = node.receive(2, gossip(9, 6, 2));
    expect(sent(next, 'gossip')).toEqual([]);
    expect(announcedTo(node, next)).toEqual([peer(1).id, peer(3).id].sort());
    // Our own first broadcast still follows the shared tree.
    expect(sent(node.broadcast(), 'gossip').map((s) => s.to.id)).toEqual([peer(1).id]);
  });

  it('bends the shared tree only on its newest message, and only after a quiet graft timeout', () => {
    const swapsOn = (node: Node, origin: number, seq: number): string[] =>
      sent(node.receive(2, ihave([origin, seq, 0]))).map((s) => `${s.message.type}>${s.to.id}`);
    const swap = [`graft>${peer(2).id}`, `prune>${peer(1).id}`];
    const options = { sharedOptimisationThreshold: 4 };

    // Alone: a path 5 hops shorter re-parents the node in the shared tree.
    const alone = new Node(options).withNeighbours(1, 2).pruneFrom(2);
    alone.receive(1, gossip(9, 1, 5));
    expect(swapsOn(alone, 9, 1)).toEqual(swap);

    // Another origin's message came meanwhile: the older one is no evidence any more.
    const overtaken = new Node(options).withNeighbours(1, 2).pruneFrom(2);
    overtaken.receive(1, gossip(9, 1, 5));
    overtaken.now += 1;
    overtaken.receive(1, gossip(8, 1, 5));
    expect(swapsOn(overtaken, 9, 1)).toEqual([]);
    // Nor is the newer one, which came less than a graft timeout after the one before.
    expect(swapsOn(overtaken, 8, 1)).toEqual([]);

    // A graft timeout apart, the newest message bends it again.
    const spaced = new Node(options).withNeighbours(1, 2).pruneFrom(2);
    spaced.receive(1, gossip(9, 1, 5));
    spaced.now += DEFAULT_GRAFT_TIMEOUT;
    spaced.receive(1, gossip(8, 1, 5));
    expect(swapsOn(spaced, 8, 1)).toEqual(swap);
  });

  it('optimises when the short announcement came before the payload, after relaying it', () => {
    const node = new Node({ optimisationThreshold: 4 }).withNeighbours(1, 2, 3).pruneFrom(2);
    node.receive(1, gossip(9, 4, 5)); // so that message 5 follows origin 9's own tree
    node.receive(2, ihave([9, 5, 0]));
    const actions = node.receive(1, gossip(9, 5, 5));
    expect(sent(actions).map((s) => [s.to.id, s.message.type])).toEqual([
      [peer(3).id, 'gossip'],
      [peer(2).id, 'graft'],
      [peer(1).id, 'prune'],
    ]);
    expect(node.protocol.stats().missingMessages).toBe(0);
  });

  it('never throws on bad input and bounds what a peer can make it hold', () => {
    const node = new Node({ maxAnnouncementsPerPeer: 3 }).withNeighbours(1, 2).pruneFrom(2);
    const huge: IHave = {
      type: 'ihave',
      entries: Array.from({ length: 10_000 }, (_, seq) => ({ origin: peer(9).id, seq, hops: 1 })),
    };
    const actions = node.receive(2, huge);
    expect(timersOf(actions)).toHaveLength(3);
    expect(node.protocol.stats()).toMatchObject({
      missingMessages: 3,
      announcementsDropped: IHAVE_ENTRIES_LIMIT - 3,
      invalidPayloads: 1,
    });
    const malformed = {
      type: 'ihave',
      entries: [
        { origin: peer(9).id, seq: -1, hops: 1 },
        { origin: peer(9).id, seq: 1.5, hops: 1 },
        { origin: peer(9).id, seq: 1, hops: Number.NaN },
        { origin: 7, seq: 1, hops: 1 },
        null,
      ],
    } as unknown as IHave;
    expect(node.receive(1, malformed)).toEqual([]);
    expect(node.receive(1, { type: 'ihave', entries: null } as unknown as IHave)).toEqual([]);
    expect(node.receive(1, { type: 'graft', origin: peer(9).id, seq: -3, request: true })).toEqual([]);
    expect(node.receive(1, gossip(9, 1, -1))).toEqual([]);
    expect(node.protocol.stats().invalidPayloads).toBe(1 + 5 + 3);
    // Strangers (not in the active view) cannot prune, graft or announce.
    expect(node.receive(7, { type: 'prune', origin: peer(9).id })).toEqual([]);
    expect(node.receive(7, { type: 'graft', origin: peer(9).id, seq: 1, request: true })).toEqual([]);
    expect(node.receive(7, ihave([9, 100, 1]))).toEqual([]);
    expect(node.protocol.stats()).toMatchObject({ strangerMessages: 3, eagerPeers: 1, lazyPeers: 1 });
    // A payload from a stranger is still delivered, and announced to every neighbour rather than
    // pushed; a duplicate from it prunes nothing.
    const fromStranger = node.receive(7, gossip(9, 200));
    expect(actionsOf(fromStranger, 'deliver')).toHaveLength(1);
    expect(sent(fromStranger, 'gossip')).toEqual([]);
    expect(announcedTo(node, fromStranger)).toEqual([peer(1).id, peer(2).id].sort());
    expect(node.receive(7, gossip(9, 200))).toEqual([]);
  });

  it('takes back a queued announcement when the lazy peer announces the same message to us first', () => {
    const node = new Node().withNeighbours(1, 2, 3).pruneFrom(2, 3);
    const relay = node.receive(1, gossip(9, 5, 4)); // 5 hops here; 2 and 3 are lazy
    // Peer 2 has it at 4 hops: our 5 + 1 is no shorter path for it. Peer 3 has it at 9 hops: ours
    // is (10 - 6 >= the threshold of 2), so it still gets our announcement.
    node.receive(2, ihave([9, 5, 4]));
    node.receive(3, ihave([9, 5, 9]));
    expect(sent(node.fire(timerOf(relay, 'ihaveFlush')))).toEqual([
      { to: peer(3), message: ihave([9, 5, 5]) },
    ]);
  });

  it("takes back only the announcement the lazy peer made: another origin's with the same seq still goes", () => {
    const node = new Node().withNeighbours(1, 2).pruneFrom(2);
    const queued = node.receive(1, gossip(9, 5));
    node.receive(1, gossip(8, 5)); // both queued for 2, origin 8's last
    node.receive(2, ihave([9, 5, 1]));
    expect(sent(node.fire(timerOf(queued, 'ihaveFlush')))).toEqual([
      { to: peer(2), message: ihave([8, 5, 1]) },
    ]);
  });

  it('does not announce a message to a lazy peer that announced it to us before it arrived', () => {
    const node = new Node().withNeighbours(1, 2, 3, 4).pruneFrom(2, 3, 4);
    // Peers 2 and 3 announce message 5 before it reaches us; peer 4 says nothing.
    node.receive(2, ihave([9, 5, 4]));
    node.receive(3, ihave([9, 5, 8]));
    const relay = node.receive(1, gossip(9, 5, 4)); // 5 hops here
    // Peer 2 has it at 4 hops: our 5 + 1 is no shorter path for it. Peer 3 has it at 8 hops: ours
    // is shorter by the threshold (8 - 6 = 2), so it still gets our announcement, as does peer 4.
    expect(announcedTo(node, relay)).toEqual([peer(3).id, peer(4).id].sort());
    expect(node.protocol.stats().missingMessages).toBe(0);
  });

  it("a new parent catches its new child up on the origin's messages that passed it just before the Graft", () => {
    const parent = new Node().withNeighbours(1, 2);
    parent.receive(1, gossip(9, 4)); // so that message 5 follows origin 9's own tree
    parent.receive(1, gossip(9, 5));
    parent.receive(1, gossip(9, 6));
    parent.receive(1, gossip(8, 7)); // another origin: not part of the catch-up
    parent.now = 10;
    // Peer 2 optimised at message 5 and grafts us; message 6 passed us already.
    const graft = parent.receive(2, { type: 'graft', origin: peer(9).id, seq: 5, request: false });
    expect(sent(graft)).toEqual([{ to: peer(2), message: { ...gossip(9, 6), hops: 1 } }]);
    expect(parent.protocol.stats().catchUpPayloadsSent).toBe(1);
    // Peer 2 relaying one of the origin's messages back to us on the fresh link is not a cycle.
    expect(sent(parent.receive(2, gossip(9, 6)))).toEqual([]);
    // Once the graft timeout has passed, a duplicate prunes again.
    parent.now = 10 + DEFAULT_GRAFT_TIMEOUT;
    parent.receive(1, gossip(9, 8));
    expect(sent(parent.receive(2, gossip(9, 8)))).toEqual([
      { to: peer(2), message: { type: 'prune', origin: peer(9).id } },
    ]);
  });

  it('a node that re-parented by optimisation does not prune its new parent for the catch-up copies', () => {
    const node = new Node({ optimisationThreshold: 2 }).withNeighbours(1, 2).pruneFrom(2);
    node.receive(1, gossip(9, 4, 6));
    node.receive(1, gossip(9, 5, 6));
    const swap = node.receive(2, ihave([9, 5, 0]));
    expect(sent(swap, 'graft')).toHaveLength(1);
    // Message 6 reaches us on the old path before the Prune lands, then comes again from 2.
    node.receive(1, gossip(9, 6, 6));
    expect(sent(node.receive(2, gossip(9, 6, 0)))).toEqual([]);
    expect(node.protocol.stats().duplicates).toBe(1);
  });

  it('stops taking shortcuts through a neighbour that claims 0 hops and then lets a message go missing', () => {
    // Origin 9's own tree reaches us from parent 1, 6 hops from the origin; peer 3 lies.
    const node = new Node().withNeighbours(1, 2, 3);
    node.receive(1, gossip(9, 1, 5));
    node.receive(1, gossip(9, 2, 5));
    let grafted = 0;
    for (let seq = 3; seq <= 12; seq++) {
      node.now += 1_000;
      // Every time, peer 3 claims the message just delivered at 0 hops, and pushes nothing.
      node.receive(3, ihave([9, seq - 1, 0]));
      node.now += 1_000;
      // The next message: announced by the parent, the liar's "shorter path" silent.
      const announced = node.receive(1, ihave([9, seq, 5]));
      if (sent(announced, 'graft').length === 0) {
        const wait = timersOf(announced).find((t) => t.timer.type === 'graftTimeout');
        if (wait !== undefined) {
          node.now += wait.after;
          if (sent(node.fire(wait.timer), 'graft').length > 0) grafted++;
        }
      }
      expect(actionsOf(node.receive(1, gossip(9, seq, 5)), 'deliver')).toHaveLength(1);
    }
    // Before: 10 swaps, 10 Prunes of the honest parent, each of the 10 messages fetched by a Graft.
    expect(node.protocol.stats().optimisations).toBe(1);
    expect(grafted).toBe(1);
  });

  it('keeps taking shortcuts through a neighbour that pushed us a message since: it proved the shortcut', () => {
    const node = shortcutThrough3();
    node.now += 1_000;
    node.receive(3, gossip(9, 3, 0)); // the new parent's first push
    // Message 4 went missing all the same, and the old parent had to be grafted for it.
    graftedOnTimeout(node, 1, 4);
    // Peer 3 announces it 1 hop away: still a shortcut worth taking.
    expect(graftsTo(node.receive(3, ihave([9, 4, 0])))).toEqual([peer(3).id]);
    expect(node.protocol.stats().optimisations).toBe(2);
  });

  it('forgets an unproven shortcut when its neighbour goes down: back, it is trusted like any neighbour', () => {
    const node = shortcutThrough3();
    node.protocol.handle({ type: 'linkDown', peer: peer(3).id }, node.now); // relinks peer 1
    node.withNeighbours(3);
    node.receive(1, { type: 'prune', origin: peer(9).id }); // lazy again, so grafted only on timer 1
    // The old parent is grafted for a message: that says nothing of a shortcut through a link now gone.
    graftedOnTimeout(node, 1, 3);
    expect(graftsTo(node.receive(3, ihave([9, 3, 0])))).toEqual([peer(3).id]);
    expect(node.protocol.stats().optimisations).toBe(2);
  });

  it('sends nothing to a peer once leaving has told it goodbye and closed its link', () => {
    // 1 is our tree link, 2 went lazy through a Prune. Before, the tree link's neighborDown made
    // the broadcast layer Relink 2 after its Disconnect, and a send after it dials again.
    const node = new Node().withNeighbours(1, 2);
    node.receive(2, { type: 'prune', origin: peer(0).id });
    const actions = node.protocol.handle({ type: 'leave' }, 0);
    const closed = new Set<string>();
    const late: string[] = [];
    for (const action of actions) {
      if (action.type === 'disconnect') closed.add(action.peer.id);
      if (action.type === 'send' && closed.has(action.to.id))
        late.push(`${action.message.type} to ${action.to.id}`);
    }
    expect(late).toEqual([]);
    expect(node.protocol.stats().relinksSent).toBe(0);
  });

  it('after leaving, neither delivers nor answers what its former neighbours still had in flight', () => {
    const node = new Node().withNeighbours(1, 2);
    node.receive(1, gossip(7, 1));
    node.protocol.handle({ type: 'leave' }, 0);
    // It forgot its neighbours along with the membership: none left in either set.
    expect(node.sets()).toEqual({ eager: 0, lazy: 0 });
    expect(node.receive(1, gossip(7, 2))).toEqual([]);
    expect(node.receive(2, ihave([7, 3, 1]))).toEqual([]);
    expect(node.receive(2, { type: 'graft', origin: peer(7).id, seq: 1, request: true })).toEqual([]);
    expect(node.protocol.stats().delivered).toBe(1);
  });

  it('leaving, pushes the payloads of its own messages that it only announced and nobody grafted yet', () => {
    // Every link lazy (as a node's links end up when each neighbour pruned it): a broadcast goes out
    // as IHaves only, and only we hold the payload. A chat's goodbye is such a broadcast, sent just
    // before leaving: the IHaves were still queued and were dropped, and even sent, the Grafts
    // they bring come a graft timeout later, to a node that has gone. Found in the simulator under
    // graceful churn (seed 11): a message broadcast 224 ms before its origin left reached nobody.
    const node = new Node().withNeighbours(1, 2, 3).pruneFrom(1, 2, 3);
    expect(sent(node.broadcast(new Uint8Array([7])), 'gossip')).toEqual([]); // seq 0
    expect(sent(node.broadcast(new Uint8Array([8])), 'gossip')).toEqual([]); // seq 1, the goodbye
    // Peer 3 grafts seq 0, and has it then: its neighbours can graft it from there.
    node.receive(3, { type: 'graft', origin: node.self.id, seq: 0, request: true });
    const actions = node.protocol.handle({ type: 'leave' }, node.now);
    const firstDisconnect = actions.findIndex((a) => a.type === 'send' && a.message.type === 'disconnect');
    const pushed = sent(actions.slice(0, firstDisconnect), 'gossip');
    expect(pushed.map((s) => [s.to.id, (s.message as Gossip).seq])).toEqual([
      [peer(1).id, 1],
      [peer(2).id, 1],
      [peer(3).id, 1],
    ]);
    expect(sent(actions.slice(firstDisconnect), 'gossip')).toEqual([]);
  });

  it('leaving, pushes its newest unfetched messages up to LEAVE_PUSH_BYTES_PER_PEER to each neighbour, and always one', () => {
    const node = new Node().withNeighbours(1, 2).pruneFrom(1, 2);
    const third = Math.floor(LEAVE_PUSH_BYTES_PER_PEER / 3) + 1; // three pass the budget, two fit
    node.broadcast(new Uint8Array(third)); // seq 0
    node.broadcast(new Uint8Array(third)); // seq 1
    node.broadcast(new Uint8Array(third)); // seq 2
    const pushed = sent(node.protocol.handle({ type: 'leave' }, node.now), 'gossip');
    expect(pushed.map((s) => [s.to.id, (s.message as Gossip).seq])).toEqual([
      [peer(1).id, 2],
      [peer(2).id, 2],
      [peer(1).id, 1],
      [peer(2).id, 1],
    ]);
    const large = new Node().withNeighbours(1).pruneFrom(1);
    large.broadcast(new Uint8Array(2 * LEAVE_PUSH_BYTES_PER_PEER));
    expect(sent(large.protocol.handle({ type: 'leave' }, large.now), 'gossip')).toHaveLength(1);
  });

  it('leaving, pushes nothing of its own that went out to a tree link', () => {
    const node = new Node().withNeighbours(1, 2).pruneFrom(2);
    expect(sent(node.broadcast(), 'gossip').map((s) => s.to.id)).toEqual([peer(1).id]);
    expect(sent(node.protocol.handle({ type: 'leave' }, node.now), 'gossip')).toEqual([]);
  });

  it("keeps room to mark a new tree link fresh when another neighbour's relink-only Grafts have gone stale", () => {
    // As above, but neighbour 3's two relink-only Grafts of a second before filled the room for fresh
    // links (one per tree, maxOriginTrees): stale, they used to stay until the 10 s sweep.
    const node = new Node({ maxOriginTrees: 2 }).withNeighbours(1, 2, 3).pruneFrom(2);
    node.receive(1, gossip(8, 1));
    node.receive(1, gossip(8, 2));
    node.receive(1, gossip(9, 4, 6));
    node.receive(1, gossip(9, 5, 6));
    node.receive(3, { type: 'graft', origin: peer(8).id, seq: 2, request: false });
    node.receive(3, { type: 'graft', origin: peer(9).id, seq: 5, request: false });
    node.now = 4 * DEFAULT_GRAFT_TIMEOUT;
    expect(sent(node.receive(2, ihave([9, 5, 0]))).map((s) => `${s.to.id}:${s.message.type}`)).toEqual([
      `${peer(2).id}:graft`,
      `${peer(1).id}:prune`,
    ]);
    node.receive(1, gossip(9, 6, 6));
    expect(sent(node.receive(2, gossip(9, 6, 0)))).toEqual([]);
  });

  it('an origin keeps pushing its own messages to a neighbour that echoes one, and a late echo prunes nothing', () => {
    const node = new Node().withNeighbours(1, 2);
    node.broadcast(); // seq 0: the shared tree
    node.broadcast(); // seq 1: our own tree from now on
    const echo = node.echo(2, 1, 2);
    // Peer 2 is told to stop sending our messages back, but still gets them from us first hand.
    expect(sent(echo)).toEqual([{ to: peer(2), message: { type: 'prune', origin: node.self.id } }]);
    expect(
      sent(node.broadcast(), 'gossip')
        .map((s) => s.to.id)
        .sort(),
    ).toEqual([peer(1).id, peer(2).id].sort());

    // Another origin's tree: an echo of message 5 after message 6 came through is stale.
    const relay = new Node().withNeighbours(1, 2);
    relay.receive(1, gossip(9, 5));
    relay.receive(1, gossip(9, 6));
    expect(sent(relay.receive(2, gossip(9, 5)))).toEqual([]);
    expect(sent(relay.receive(2, gossip(9, 6)))).toEqual([
      { to: peer(2), message: { type: 'prune', origin: peer(9).id } },
    ]);
  });

  it('prunes a neighbour, not the parent, at its second late echo: a cycle that stays', () => {
    const node = new Node().withNeighbours(1, 2, 3);
    for (let seq = 1; seq <= 6; seq++) node.receive(1, gossip(9, seq));
    const prune = [{ to: peer(2), message: { type: 'prune', origin: peer(9).id } }];
    // One late echo from peer 2, then one from peer 3: a single echo prunes nothing.
    expect(sent(node.receive(2, gossip(9, 3)))).toEqual([]);
    expect(sent(node.receive(3, gossip(9, 3)))).toEqual([]);
    // Peer 2 again, with peer 3's in between: its link closes a cycle that each new message goes round.
    expect(sent(node.receive(2, gossip(9, 4)))).toEqual(prune);
    expect(sent(node.receive(1, gossip(9, 7)), 'gossip').map((s) => s.to.id)).toEqual([peer(3).id]);

    // The parent's late copies prune nothing, however many: the tree moved onto that link.
    const parent = new Node().withNeighbours(1, 2);
    for (let seq = 1; seq <= 4; seq++) parent.receive(1, gossip(9, seq));
    parent.receive(2, gossip(9, 6));
    expect(sent(parent.receive(2, gossip(9, 3)))).toEqual([]);
    expect(sent(parent.receive(2, gossip(9, 4)))).toEqual([]);
  });

  it('prunes each of two neighbours whose late echoes alternate: cycles that stay', () => {
    // Two neighbours, neither the parent, each push every message one step behind the parent's
    // copy: each one's echoes come between the other's.
    const node = new Node().withNeighbours(1, 2, 3);
    node.receive(1, gossip(9, 1));
    node.receive(1, gossip(9, 2));
    const pruned: string[] = [];
    for (let seq = 3; seq <= 6; seq++) {
      node.receive(1, gossip(9, seq));
      for (const echoer of [2, 3]) {
        for (const prune of sent(node.receive(echoer, gossip(9, seq - 1)), 'prune')) {
          pruned.push(`${prune.to.id} at ${seq}`);
        }
      }
    }
    // Each is pruned at its second late echo (message 4's round), and only then.
    expect(pruned.slice(0, 2)).toEqual([`${peer(2).id} at 4`, `${peer(3).id} at 4`]);
  });

  it('tells a new neighbour of the messages it received recently, so it can Graft what it missed', () => {
    const node = new Node({ newNeighbourAnnounceWindow: 2_000 }).withNeighbours(1);
    node.receive(1, gossip(9, 1, 3));
    node.now = 1_500;
    node.receive(1, gossip(9, 2, 0));
    node.now = 2_500;
    // Message 1 is older than the window; message 2 is announced with our hop count.
    const up = node.receive(4, { type: 'neighbor', priority: 'high' });
    expect(sent(up, 'ihave')).toEqual([{ to: peer(4), message: ihave([9, 2, 1]) }]);
    // The new neighbour missed it and asks: it gets it from the cache.
    const answer = node.receive(4, { type: 'graft', origin: peer(9).id, seq: 2, request: true });
    expect(sent(answer, 'gossip')).toHaveLength(1);
    // Nothing recent: a new neighbour gets no announcement.
    node.now = 10_000;
    expect(sent(node.receive(5, { type: 'neighbor', priority: 'high' }), 'ihave')).toEqual([]);
  });

  it('tells a new neighbour of at most ihaveBatchMax recent messages, the newest', () => {
    const node = new Node({ ihaveBatchMax: 2 }).withNeighbours(1);
    for (let seq = 1; seq <= 3; seq++) node.receive(1, gossip(9, seq, 0));
    const up = node.receive(4, { type: 'neighbor', priority: 'high' });
    expect(sent(up, 'ihave')).toEqual([{ to: peer(4), message: ihave([9, 2, 1], [9, 3, 1]) }]);
  });

  it('takes back a Prune that a first copy crossed: a Graft keeps the link the copy came on', () => {
    const node = new Node().withNeighbours(1, 2, 3);
    node.receive(1, gossip(9, 5));
    expect(sent(node.receive(2, gossip(9, 5)), 'prune')).toHaveLength(1);
    // Peer 2 pushed origin 8's message before our Prune reached it: that link carried it, and the
    // Prune would leave it lazy at 2's end as well.
    const crossed = node.receive(2, gossip(8, 1, 3));
    expect(actionsOf(crossed, 'deliver')).toHaveLength(1);
    expect(sent(crossed)).toEqual([
      { to: peer(2), message: { type: 'graft', origin: peer(8).id, seq: 1, request: false } },
      { to: peer(1), message: { ...gossip(8, 1, 3), hops: 4 } },
      { to: peer(3), message: { ...gossip(8, 1, 3), hops: 4 } },
    ]);
    expect(node.protocol.stats()).toMatchObject({ prunesRevoked: 1, eagerPeers: 3, lazyPeers: 0 });
    // Its duplicates while the Graft lands are expected, not a cycle.
    node.receive(1, gossip(7, 1));
    expect(sent(node.receive(2, gossip(7, 1)))).toEqual([]);

    // A peer that pruned us and pushes again re-linked itself: nothing to take back.
    const pruned = new Node().withNeighbours(1, 2).pruneFrom(2);
    expect(sent(pruned.receive(2, gossip(8, 1)), 'graft')).toEqual([]);
    // Nor is a Prune older than a graft timeout crossed by anything: the peer has long had it.
    const late = new Node().withNeighbours(1, 2, 3);
    late.receive(1, gossip(9, 5));
    late.receive(2, gossip(9, 5));
    late.now = DEFAULT_GRAFT_TIMEOUT;
    expect(sent(late.receive(2, gossip(8, 1)), 'graft')).toEqual([]);
    expect(late.protocol.stats().prunesRevoked).toBe(0);
  });

  it('a duplicate of a shared-tree message that a newer one overtook prunes nothing: the link may carry the newer one', () => {
    const node = new Node().withNeighbours(1, 2, 3);
    node.receive(1, gossip(9, 5));
    node.receive(2, gossip(8, 5)); // origin 8's message came first from 2
    // Origin 9's message from 2 closes a cycle, but origin 8's is on its way around it too, and its
    // own duplicates will take out one of that cycle's links: a second Prune here could cut it twice.
    expect(sent(node.receive(2, gossip(9, 5)))).toEqual([]);
    expect(sent(node.receive(3, gossip(9, 5)))).toEqual([]);
    // The newest one's duplicates prune as always.
    expect(sent(node.receive(3, gossip(8, 5)))).toEqual([
      { to: peer(3), message: { type: 'prune', origin: peer(8).id } },
    ]);
  });

  it('a new parent in the shared tree catches its child up, making it eager in the trees copied meanwhile', () => {
    const parent = new Node().withNeighbours(1, 2).pruneFrom(2);
    parent.receive(1, gossip(7, 0)); // origin 7's first message: the shared tree
    parent.receive(1, gossip(9, 0)); // the message peer 2 will re-parent on
    parent.receive(1, gossip(8, 0)); // passes us before 2's Graft
    parent.receive(1, gossip(7, 1)); // origin 7's second: a copy of the shared tree, 2 lazy in it
    parent.now = 10;
    const graft = parent.receive(2, { type: 'graft', origin: peer(9).id, seq: 0, request: false });
    expect(sent(graft)).toEqual([
      { to: peer(2), message: { ...gossip(8, 0), hops: 1 } },
      { to: peer(2), message: { ...gossip(7, 1), hops: 1 } },
    ]);
    expect(parent.protocol.stats().catchUpPayloadsSent).toBe(2);
    // Peer 2 has us as its parent in origin 7's tree too (its copy came after its swap).
    expect(sent(parent.receive(1, gossip(7, 2)), 'gossip').map((s) => s.to.id)).toEqual([peer(2).id]);
    // Peer 2 echoing a shared-tree message of any origin on the fresh link is no cycle.
    parent.receive(1, gossip(6, 0));
    expect(sent(parent.receive(2, gossip(6, 0)))).toEqual([]);
    // A Graft naming a message we no longer remember among the last few catches up nothing.
    const forgot = parent.receive(2, { type: 'graft', origin: peer(5).id, seq: 0, request: false });
    expect(sent(forgot)).toEqual([]);
  });

  it("a Graft about a message older than its origin's own tree re-links the shared tree, which its sender meant", () => {
    const parent = new Node().withNeighbours(1, 2).pruneFrom(2);
    parent.receive(1, gossip(9, 0));
    parent.receive(1, gossip(9, 1)); // a copy of the shared tree for origin 9, with 2 lazy
    // Peer 2 re-parented in the shared tree on message 0 before message 1 reached it.
    const graft = parent.receive(2, { type: 'graft', origin: peer(9).id, seq: 0, request: false });
    expect(sent(graft)).toEqual([{ to: peer(2), message: { ...gossip(9, 1), hops: 1 } }]);
    // Both trees have 2 as a tree link: the shared one by the Graft, 9's by the catch-up.
    expect(sent(parent.receive(1, gossip(8, 0)), 'gossip').map((s) => s.to.id)).toEqual([peer(2).id]);
    expect(sent(parent.receive(1, gossip(9, 2)), 'gossip').map((s) => s.to.id)).toEqual([peer(2).id]);
  });

  it("does not bend a tree on a message older than its origin's own tree: its hop counts describe the shared one", () => {
    const node = new Node({ sharedOptimisationThreshold: 2 }).withNeighbours(1, 2).pruneFrom(2);
    node.receive(1, gossip(9, 4, 6));
    node.receive(1, gossip(9, 5, 6));
    expect(node.receive(2, ihave([9, 4, 0]))).toEqual([]);
    expect(node.protocol.stats().optimisations).toBe(0);
  });

  it('answers a Graft again once the link went down and came back: the first answer may have gone down with it', () => {
    const node = new Node().withNeighbours(1, 2);
    node.receive(1, gossip(9, 5));
    const request = { type: 'graft', origin: peer(9).id, seq: 5, request: true } as const;
    expect(sent(node.receive(2, request), 'gossip')).toHaveLength(1);
    expect(sent(node.receive(2, request), 'gossip')).toEqual([]);
    node.protocol.handle({ type: 'linkDown', peer: peer(2).id }, node.now);
    node.withNeighbours(2);
    expect(sent(node.receive(2, request), 'gossip')).toEqual([
      { to: peer(2), message: { ...gossip(9, 5), hops: 1 } },
    ]);
  });

  it('sends a catch-up payload larger than the whole budget when it is the first of its window', () => {
    const node = new Node().withNeighbours(1, 2);
    node.receive(1, gossip(9, 4));
    node.receive(1, gossip(9, 5)); // origin 9's own tree from here on
    node.receive(1, gossip(9, 6, 0, new Uint8Array(CATCH_UP_BYTES_PER_PEER + 1)));
    node.receive(1, gossip(9, 7, 0, new Uint8Array(1)));
    node.now = 10;
    // Peer 2 re-parented on message 5: message 6 goes first, alone, and spends the window's budget.
    const graft = node.receive(2, { type: 'graft', origin: peer(9).id, seq: 5, request: false });
    expect(sent(graft, 'gossip').map((s) => (s.message as Gossip).seq)).toEqual([6]);
    node.now = 10 + DEFAULT_GRAFT_TIMEOUT;
    const next = node.receive(2, { type: 'graft', origin: peer(9).id, seq: 5, request: false });
    expect(sent(next, 'gossip').map((s) => (s.message as Gossip).seq)).toEqual([7]);
  });

  it('catches a new child up on the shared tree without sending it back what it sent us', () => {
    const parent = new Node().withNeighbours(1, 2);
    parent.receive(1, gossip(9, 0)); // the message peer 2 will re-parent on
    parent.receive(2, gossip(8, 0)); // came from peer 2 itself
    parent.receive(1, gossip(7, 0));
    parent.now = 10;
    const graft = parent.receive(2, { type: 'graft', origin: peer(9).id, seq: 0, request: false });
    expect(sent(graft)).toEqual([{ to: peer(2), message: { ...gossip(7, 0), hops: 1 } }]);
  });

  it("catches a new child up on an origin's own tree without sending it back what it sent us", () => {
    const parent = new Node().withNeighbours(1, 2);
    parent.receive(1, gossip(9, 4));
    parent.receive(1, gossip(9, 5)); // origin 9's own tree from here on
    parent.receive(2, gossip(9, 6)); // came from peer 2 itself
    parent.receive(1, gossip(9, 7));
    parent.now = 10;
    const graft = parent.receive(2, { type: 'graft', origin: peer(9).id, seq: 5, request: false });
    expect(sent(graft)).toEqual([{ to: peer(2), message: { ...gossip(9, 7), hops: 1 } }]);
  });

  it('swaps parents once: an announcement of an older message that came through the old parent changes nothing', () => {
    const node = new Node().withNeighbours(1, 2, 3);
    node.receive(1, gossip(9, 4, 6));
    node.receive(1, gossip(9, 5, 6)); // origin 9's own tree; we are 7 hops away, through peer 1
    node.receive(1, gossip(9, 6, 6));
    expect(graftsTo(node.receive(2, ihave([9, 6, 0])))).toEqual([peer(2).id]); // peer 2 is the parent now
    // Message 5 came through peer 1 too, and peer 3 has it 1 hop away: a second swap would give
    // origin 9's tree two parents here, and prune peer 1 again.
    expect(node.receive(3, ihave([9, 5, 0]))).toEqual([]);
    expect(node.protocol.stats().optimisations).toBe(1);
  });

  it('never re-parents on an announcement from its parent itself: the swap would prune the parent', () => {
    const node = new Node().withNeighbours(1, 2);
    node.receive(1, gossip(9, 4, 6));
    node.receive(1, gossip(9, 5, 6)); // origin 9's own tree; we are 7 hops away, through peer 1
    expect(node.receive(1, ihave([9, 5, 0]))).toEqual([]);
    expect(node.protocol.stats()).toMatchObject({ optimisations: 0, eagerPeers: 2, lazyPeers: 0 });
    expect(sent(node.receive(1, gossip(9, 6, 6)), 'gossip').map((s) => s.to.id)).toEqual([peer(2).id]);
  });

  it('neither grafts nor waits for a message the seen cache would refuse', () => {
    const node = new Node({ seenCacheMaxEntries: 1 }).withNeighbours(1, 2).pruneFrom(2);
    node.receive(1, gossip(9, 5));
    node.receive(1, gossip(8, 1)); // pushes 9/5 out of the seen cache: origin 9 is refused up to 5
    // From the tree link (which would be grafted at once) and from a lazy one (a graft timer).
    expect(node.receive(1, ihave([9, 4, 1]))).toEqual([]);
    expect(node.receive(2, ihave([9, 3, 1]))).toEqual([]);
    expect(node.protocol.stats().missingMessages).toBe(0);
    // A later message of origin 9 is still fetched.
    expect(graftsTo(node.receive(1, ihave([9, 6, 1])))).toEqual([peer(1).id]);
  });

  it('never grafts its own message, even once the seen cache forgot it', () => {
    const node = new Node({ seenCacheMaxEntries: 1 }).withNeighbours(1, 2).pruneFrom(2);
    node.broadcast();
    node.broadcast(); // our message 0 leaves the seen cache, not the payload cache
    expect(node.receive(1, ihave([0, 0, 1]))).toEqual([]);
    expect(node.receive(2, ihave([0, 0, 1]))).toEqual([]);
    expect(node.protocol.stats().missingMessages).toBe(0);
  });

  it('marks at most maxOriginTrees links fresh: past that, a duplicate on a re-linked link prunes as usual', () => {
    const node = new Node({ maxOriginTrees: 2 }).withNeighbours(1, 2);
    const relink = (origin: number) =>
      node.receive(2, { type: 'graft', origin: peer(origin).id, seq: 1, request: false });
    for (const origin of [8, 9]) {
      node.receive(1, gossip(origin, 0));
      node.receive(1, gossip(origin, 1)); // a tree of its own
      relink(origin); // marks the link to 2 fresh in that tree: the table is full
    }
    node.receive(1, gossip(6, 0));
    node.receive(1, gossip(6, 1));
    relink(6); // a peer grafting for one origin more: not remembered
    expect(sent(node.receive(2, gossip(9, 1)))).toEqual([]);
    expect(sent(node.receive(2, gossip(6, 1)))).toEqual([
      { to: peer(2), message: { type: 'prune', origin: peer(6).id } },
    ]);
  });

  it('forgets the Grafts it answered once the payload cache would have forgotten their payloads', () => {
    const node = new Node().withNeighbours(1, 2);
    node.protocol.handle({ type: 'start' }, 0);
    node.receive(1, gossip(9, 5));
    node.receive(2, { type: 'graft', origin: peer(9).id, seq: 5, request: true });
    expect(answersRemembered(node)).toBe(1);
    node.now = DEFAULT_PROTOCOL_OPTIONS.payloadCacheMaxAge;
    node.fire({ type: 'seenSweep' });
    expect(answersRemembered(node)).toBe(0);
  });

  it('rejects options no node could run with', () => {
    expect(() => new Node({ graftTimeout: 0 })).toThrow(RangeError);
    expect(() => new Node({ ihaveBatchMax: IHAVE_ENTRIES_LIMIT + 1 })).toThrow(RangeError);
    expect(() => new Node({ payloadCacheMaxBytes: 1.5 })).toThrow(RangeError);
    expect(() => new Node({ broadcast: 'gossipsub' as ProtocolOptions['broadcast'] })).toThrow(RangeError);
  });
});

describe('Plumtree timers stretched to the tree (GraftWaits)', () => {
  /** The graft timer a fresh announcement of `origin`'s message `seq` by lazy peer 2 arms now. */
  function timerAfterAnnouncement(node: Node, seq: number, origin = 9): number {
    const found = timersOf(node.receive(2, ihave([origin, seq, 5]))).filter(
      (t) => t.timer.type === 'graftTimeout',
    );
    expect(found).toHaveLength(1);
    return (found[0] as { after: number }).after;
  }

  it("waits the tree's own lag before grafting, when its copies come long after lazy peers announce them", () => {
    const node = new Node().withNeighbours(1, 2).pruneFrom(2);
    for (let seq = 1; seq <= 30; seq++) {
      node.now = seq * 10_000;
      expect(timerAfterAnnouncement(node, seq)).toBeGreaterThanOrEqual(DEFAULT_GRAFT_TIMEOUT);
      node.now += 600;
      expect(actionsOf(node.receive(1, gossip(9, seq, 5)), 'deliver')).toHaveLength(1);
    }
    node.now = 301_000;
    const after = timerAfterAnnouncement(node, 31);
    expect(after).toBeGreaterThan(600);
    expect(after).toBeLessThan(700);
  });

  /** Feeds the node 20 messages of new origins whose tree copy (from 1) comes `lag` after 2's IHave. */
  function slowTree(node: Node, lag: number): void {
    for (let i = 0; i < 20; i++) {
      node.now = 1_000 * (i + 1);
      timerAfterAnnouncement(node, 1, 300 + i);
      node.now += lag;
      node.receive(1, gossip(300 + i, 1, 5));
    }
  }

  it('waits on for older messages with the configured timer 1, however stretched timer 1 is', () => {
    const node = new Node().withNeighbours(1, 2).pruneFrom(2);
    slowTree(node, 600);
    node.now = 25_000;
    node.receive(1, gossip(9, 1));
    node.receive(1, gossip(9, 2));
    const announced = node.receive(2, ihave([9, 5, 1]));
    const wait = timersOf(announced)[0]?.after ?? 0;
    expect(wait).toBeGreaterThan(DEFAULT_GRAFT_TIMEOUT);
    const waited = parentDeliversThenFire(node, 3, node.now + wait, timerOf(announced, 'graftTimeout'));
    expect(graftsTo(waited)).toEqual([]);
    expect(timersOf(waited)[0]?.after).toBe(DEFAULT_GRAFT_TIMEOUT);
  });

  it('takes no sample from a copy sent by a node that is not a neighbour', () => {
    const node = new Node().withNeighbours(1, 2).pruneFrom(2);
    for (let origin = 100; origin < 120; origin++) {
      node.now = origin * 1_000;
      const announced = node.receive(2, ihave([origin, 1, 5]));
      node.now += DEFAULT_GRAFT_TIMEOUT;
      expect(graftsTo(node.fire(timerOf(announced, 'graftTimeout')))).toEqual([peer(2).id]);
      node.now += 20;
      node.receive(2, gossip(origin, 1, 5)); // the answer
      node.now += 600;
      node.receive(7, gossip(origin, 1, 5)); // a stranger's copy, late
      node.pruneFrom(2);
    }
    expect(timerAfterAnnouncement(node, 200)).toBe(DEFAULT_GRAFT_TIMEOUT);
  });

  it('keeps the configured timer 1 for a tree that is faster than it', () => {
    const node = new Node().withNeighbours(1, 2).pruneFrom(2);
    for (let seq = 1; seq <= 30; seq++) {
      node.now = seq * 10_000;
      timerAfterAnnouncement(node, seq);
      node.now += 40;
      node.receive(1, gossip(9, seq, 5));
    }
    node.now = 301_000;
    expect(timerAfterAnnouncement(node, 31)).toBe(DEFAULT_GRAFT_TIMEOUT);
  });

  it("learns from a Graft's answer after timer 2 ran out, and from the tree's copy after it", () => {
    const node = new Node().withNeighbours(1, 2).pruneFrom(2);
    // A new origin each time, so every message follows the shared tree, where peer 2 stays lazy.
    for (let origin = 100; origin < 130; origin++) {
      node.now = origin * 10_000;
      const announced = node.receive(2, ihave([origin, 1, 5]));
      node.now += timersOf(announced)[0]?.after ?? 0;
      const grafted = node.fire(timerOf(announced, 'graftTimeout'));
      expect(graftsTo(grafted)).toEqual([peer(2).id]);
      const graftedAt = node.now;
      // While timer 2 is shorter than the answer takes, it runs out first: nobody else announced
      // the message, so it is given up, and the answer comes after all.
      const retry = timersOf(grafted)[0]?.after ?? 0;
      if (retry < 600) {
        node.now += retry;
        expect(node.fire(timerOf(grafted, 'graftTimeout'))).toEqual([]);
      }
      node.now = graftedAt + 600; // the Graft's answer
      expect(actionsOf(node.receive(2, gossip(origin, 1, 5)), 'deliver')).toHaveLength(1);
      node.now += 600; // the tree's copy, later still
      expect(actionsOf(node.receive(1, gossip(origin, 1, 5)), 'deliver')).toHaveLength(0);
      node.pruneFrom(2);
    }
    node.now = 1_300_000;
    const announced = node.receive(2, ihave([200, 1, 5]));
    const wait = timersOf(announced)[0]?.after ?? 0;
    expect(wait).toBeGreaterThan(2 * DEFAULT_GRAFT_TIMEOUT);
    node.now += wait;
    const retry = timersOf(node.fire(timerOf(announced, 'graftTimeout')))[0]?.after ?? 0;
    expect(retry).toBeGreaterThan(4 * DEFAULT_GRAFT_RETRY_TIMEOUT);
  });
});

describe('Plumtree under hostile control messages', () => {
  it("counts a tree link's announcements until their messages are resolved, and bounds its Grafts in flight", () => {
    // Peer 5 is a new neighbour, so a tree link: what it announces is grafted at once.
    const node = new Node().withNeighbours(1, 2, 3, 4, 5);
    node.protocol.handle({ type: 'start' }, 0);
    const frames = 5;
    let grafts = 0;
    let timers = 0;
    for (let frame = 0; frame < frames; frame++) {
      const entries: [number, number, number][] = [];
      for (let j = 0; j < IHAVE_ENTRIES_LIMIT; j++)
        entries.push([1_000 + frame * IHAVE_ENTRIES_LIMIT + j, 1, 0]);
      const out = node.receive(5, ihave(...entries));
      grafts += sent(out, 'graft').length;
      timers += timersOf(out).filter((t) => t.timer.type === 'graftTimeout').length;
    }
    const stats = node.protocol.stats();
    expect(stats.missingMessages).toBe(DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER);
    expect(stats.announcementsDropped).toBe(
      frames * IHAVE_ENTRIES_LIMIT - DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER,
    );
    expect(grafts).toBe(MAX_GRAFTS_IN_FLIGHT_PER_PEER);
    expect(timers).toBe(DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER);
    // A grafted message that arrives frees its announcement: the peer may announce one more.
    node.receive(5, gossip(1_000, 1, 0));
    expect(node.protocol.stats().missingMessages).toBe(DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER - 1);
    node.receive(5, ihave([9_000, 1, 0], [9_001, 1, 0]));
    expect(node.protocol.stats()).toMatchObject({
      missingMessages: DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER,
      announcementsDropped: frames * IHAVE_ENTRIES_LIMIT - DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER + 1,
    });
  });

  it('answers each Graft for a cached message once per peer, and caps catch-up bytes per peer', () => {
    const node = new Node().withNeighbours(1, 2, 3, 4, 5);
    node.protocol.handle({ type: 'start' }, 0);
    // Eight half-MiB broadcasts of one-off origins follow the shared tree from peer 1.
    const half = CATCH_UP_BYTES_PER_PEER / 2;
    for (let i = 0; i < 8; i++) {
      node.now += 300;
      node.receive(1, gossip(100 + i, 1, 2, new Uint8Array(half)));
    }
    const payloadsTo5 = (actions: readonly ProtocolAction[]) =>
      sent(actions, 'gossip').filter((s) => s.to.id === peer(5).id).length;
    // A Graft that asks for nothing, naming the oldest: the catch-up is capped at the budget.
    const graft = { type: 'graft', origin: peer(100).id, seq: 1, request: false } as const;
    expect(payloadsTo5(node.receive(5, graft))).toBe(2);
    let repeats = 0;
    for (let k = 0; k < 100; k++) repeats += payloadsTo5(node.receive(5, graft));
    expect(repeats).toBe(0);
    // Later windows send the rest of the catch-up, but no payload twice.
    let later = 0;
    for (let window = 0; window < 10; window++) {
      node.now += DEFAULT_GRAFT_TIMEOUT;
      later += payloadsTo5(node.receive(5, graft));
    }
    expect(later).toBe(5);
    // A hundred Grafts asking for one message (not among the catch-up's) get one answer.
    const request = { type: 'graft', origin: peer(100).id, seq: 1, request: true } as const;
    let answers = 0;
    for (let k = 0; k < 100; k++) answers += payloadsTo5(node.receive(5, request));
    expect(answers).toBe(1);
    expect(node.protocol.stats().graftsAnswered).toBe(1);
    // Another neighbour still gets its own answer.
    expect(payloadsTo5(node.receive(5, request))).toBe(0);
    expect(sent(node.receive(4, request), 'gossip').map((s) => s.to.id)).toEqual([peer(4).id]);
  });

  it('answers a hundred Grafts asking for one cached message once', () => {
    const node = new Node().withNeighbours(1, 2, 5);
    node.protocol.handle({ type: 'start' }, 0);
    node.receive(1, gossip(100, 1, 2, new Uint8Array(1024)));
    const request = { type: 'graft', origin: peer(100).id, seq: 1, request: true } as const;
    let answers = 0;
    for (let k = 0; k < 100; k++) answers += sent(node.receive(5, request), 'gossip').length;
    expect(answers).toBe(1);
    expect(node.protocol.stats()).toMatchObject({ graftsAnswered: 1, graftAnswersWithheld: 99 });
  });
});

describe('Plumtree: edges of the tree, the catch-up and the distrust rule that mutation found untested', () => {
  it('losing a tree link relinks only the neighbours lazy somewhere: an eager one gets no Relink', () => {
    // Peers 1 and 4 are tree links; 2 is lazy.
    const node = new Node().withNeighbours(1, 2, 4).pruneFrom(2);
    const down = node.protocol.handle({ type: 'linkDown', peer: peer(1).id }, 0);
    expect(sent(down, 'relink').map((s) => s.to.id)).toEqual([peer(2).id]);
    expect(node.protocol.stats()).toMatchObject({ relinksSent: 1, eagerPeers: 2, lazyPeers: 0 });
  });

  it('a neighbour back in the same graft timeout has a fresh catch-up budget: the spent one went down with the link', () => {
    const node = new Node().withNeighbours(1, 2);
    node.receive(1, gossip(9, 4));
    node.receive(1, gossip(9, 5)); // origin 9's own tree from here on
    node.receive(1, gossip(9, 6, 0, new Uint8Array(CATCH_UP_BYTES_PER_PEER)));
    node.receive(1, gossip(9, 7, 0, new Uint8Array(1)));
    const graft = { type: 'graft', origin: peer(9).id, seq: 5, request: false } as const;
    // Message 6 spends the window's budget; message 7 waits for the next window.
    expect(sent(node.receive(2, graft), 'gossip').map((s) => (s.message as Gossip).seq)).toEqual([6]);
    expect(node.protocol.stats()).toMatchObject({ catchUpPayloadsSent: 1, graftAnswersWithheld: 1 });
    node.protocol.handle({ type: 'linkDown', peer: peer(2).id }, node.now);
    node.withNeighbours(2);
    // Back at once: message 6 goes again, as a repeated answer does (the first may have been lost).
    expect(sent(node.receive(2, graft), 'gossip').map((s) => (s.message as Gossip).seq)).toEqual([6]);
  });

  it('re-parents through the shortest of the announcements that beat the payload, not the first', () => {
    const node = new Node({ optimisationThreshold: 4 }).withNeighbours(1, 2, 3).pruneFrom(2, 3);
    node.receive(1, gossip(9, 4, 5)); // so that message 5 follows origin 9's own tree
    node.receive(3, ihave([9, 5, 4])); // through 3: 5 hops, one shorter than through 1
    node.receive(2, ihave([9, 5, 0])); // through 2: 1 hop
    const actions = node.receive(1, gossip(9, 5, 5));
    expect(sent(actions).map((s) => [s.to.id, s.message.type])).toEqual([
      [peer(2).id, 'graft'],
      [peer(1).id, 'prune'],
    ]);
  });

  it('an announcement tells a lazy peer nothing up to one hop short of the threshold, and something at it', () => {
    // The default threshold is 2; we have message 5 at 5 hops, so our path through us is 6 long.
    const node = new Node().withNeighbours(1, 2, 3).pruneFrom(2, 3);
    node.receive(2, ihave([9, 5, 7])); // 7 - 6 = 1: no shorter by the threshold
    node.receive(3, ihave([9, 5, 8])); // 8 - 6 = 2: shorter by the threshold
    expect(announcedTo(node, node.receive(1, gossip(9, 5, 4)))).toEqual([peer(3).id]);
    // The same when the peer announces after our announcement is queued: only 2's is taken back.
    const queued = new Node().withNeighbours(1, 2, 3).pruneFrom(2, 3);
    const relay = queued.receive(1, gossip(9, 5, 4));
    queued.receive(2, ihave([9, 5, 7]));
    queued.receive(3, ihave([9, 5, 8]));
    expect(announcedTo(queued, relay)).toEqual([peer(3).id]);
  });

  it('a batch sent full leaves nothing queued for that peer: the flush does not repeat it', () => {
    const node = new Node({ ihaveBatchMax: 2 }).withNeighbours(1, 2, 3).pruneFrom(2, 3);
    const first = node.broadcast();
    const full = sent(node.broadcast(), 'ihave');
    expect(full.map((s) => s.to.id)).toEqual([peer(2).id, peer(3).id]);
    const entries = { type: 'ihave', entries: [0, 1].map((seq) => ({ origin: node.self.id, seq, hops: 0 })) };
    expect(full.map((s) => s.message)).toEqual([entries, entries]);
    expect(sent(node.fire(timerOf(first, 'ihaveFlush')))).toEqual([]);
    expect(node.protocol.stats()).toMatchObject({ ihaveMessagesSent: 2, ihaveEntriesSent: 4 });
  });

  it("bends the shared tree by its own threshold even when that is below the own trees' one", () => {
    const node = new Node({ optimisationThreshold: 5, sharedOptimisationThreshold: 2 })
      .withNeighbours(1, 2)
      .pruneFrom(2);
    node.receive(1, gossip(9, 1, 5)); // 6 hops through peer 1
    const swap = node.receive(2, ihave([9, 1, 2])); // 3 through peer 2: 3 shorter
    expect(sent(swap).map((s) => `${s.message.type}>${s.to.id}`)).toEqual([
      `graft>${peer(2).id}`,
      `prune>${peer(1).id}`,
    ]);
  });

  it('a Graft a whole graft timeout after the last one is no burst: the oldest announcer is asked', () => {
    const node = new Node().withNeighbours(1, 2, 3).pruneFrom(2, 3);
    const first = timerOf(node.receive(2, ihave([9, 5, 1])), 'graftTimeout');
    // Message 6 was announced by 3 first, then by 2.
    const second = timerOf(node.receive(3, ihave([9, 6, 1])), 'graftTimeout');
    node.receive(2, ihave([9, 6, 1]));
    node.now = DEFAULT_GRAFT_TIMEOUT;
    expect(graftsTo(node.fire(first))).toEqual([peer(2).id]);
    node.now = 2 * DEFAULT_GRAFT_TIMEOUT;
    expect(graftsTo(node.fire(second))).toEqual([peer(3).id]);
  });

  it('does not distrust a shortcut parent that is no tree link any more when the old parent is grafted', () => {
    const node = shortcutThrough3();
    node.now += 1_000;
    // A duplicate from the new parent, past its fresh window, prunes it: it is no parent now.
    expect(sent(node.receive(3, gossip(9, 2, 0)), 'prune').map((s) => s.to.id)).toEqual([peer(3).id]);
    // Message 4 went missing, and the old parent had to be grafted for it.
    graftedOnTimeout(node, 1, 4);
    // Peer 3 announces it 1 hop away: not distrusted, a shortcut worth taking.
    expect(graftsTo(node.receive(3, ihave([9, 4, 0])))).toEqual([peer(3).id]);
    expect(node.protocol.stats().optimisations).toBe(2);
  });

  it('remembers the Grafts it answered across sweeps while the payload stays cached: a repeat is still withheld', () => {
    const node = new Node().withNeighbours(1, 2);
    node.protocol.handle({ type: 'start' }, 0);
    node.receive(1, gossip(9, 5));
    const request = { type: 'graft', origin: peer(9).id, seq: 5, request: true } as const;
    expect(sent(node.receive(2, request), 'gossip')).toHaveLength(1);
    node.now = DEFAULT_PROTOCOL_OPTIONS.payloadCacheMaxAge - 1;
    node.fire({ type: 'seenSweep' });
    expect(answersRemembered(node)).toBe(1);
    expect(sent(node.receive(2, request), 'gossip')).toEqual([]);
  });

  it('leaves out of a catch-up, and counts as withheld, a payload it sent the peer in answer to a Graft', () => {
    const node = new Node().withNeighbours(1, 2);
    for (let seq = 4; seq <= 7; seq++) node.receive(1, gossip(9, seq)); // origin 9's own tree from 5
    const request = { type: 'graft', origin: peer(9).id, seq: 6, request: true } as const;
    expect(sent(node.receive(2, request), 'gossip')).toHaveLength(1);
    const graft = { type: 'graft', origin: peer(9).id, seq: 5, request: false } as const;
    expect(sent(node.receive(2, graft), 'gossip').map((s) => (s.message as Gossip).seq)).toEqual([7]);
    expect(node.protocol.stats()).toMatchObject({
      graftsAnswered: 1,
      catchUpPayloadsSent: 1,
      graftAnswersWithheld: 1,
    });
  });

  it('with a seen cache shorter than the payload cache, an announcement follows the seen cache, not the cached copy', () => {
    const node = new Node({ seenCacheMaxAge: 1_000 }).withNeighbours(1, 2).pruneFrom(2);
    node.protocol.handle({ type: 'start' }, 0);
    node.receive(1, gossip(9, 5));
    node.now = 2_000;
    node.fire({ type: 'seenSweep' }); // the seen cache forgot message 5; the payload cache has it
    expect(node.protocol.stats()).toMatchObject({ seenCacheSize: 0, payloadCacheEntries: 1 });
    // Unseen as far as the seen cache knows: it waits for the message as for any other.
    expect(timersOf(node.receive(2, ihave([9, 5, 1]))).map((t) => t.timer.type)).toEqual(['graftTimeout']);
    expect(node.protocol.stats().missingMessages).toBe(1);
  });

  it('a graft timeout that asks nobody distrusts no shortcut, though the peer grafted last is the parent it replaced', () => {
    const node = new Node().withNeighbours(1, 2, 3);
    node.receive(1, gossip(9, 1, 5));
    node.receive(1, gossip(9, 2, 5));
    node.now += 1_000;
    // The parent announces message 3: grafted at once, and timer 2 armed.
    const grafted = node.receive(1, ihave([9, 3, 5]));
    expect(graftsTo(grafted)).toEqual([peer(1).id]);
    // Peer 3 shows a shortcut on message 2: it replaces parent 1.
    node.now += 1;
    expect(graftsTo(node.receive(3, ihave([9, 2, 0])))).toEqual([peer(3).id]);
    // Timer 2 finds nobody left to ask for message 3: no Graft, so no evidence against peer 3.
    node.now += DEFAULT_GRAFT_RETRY_TIMEOUT;
    expect(graftsTo(node.fire(timerOf(grafted, 'graftTimeout')))).toEqual([]);
    // Message 3 comes late from peer 1; peer 3 shows a shortcut on it too, and is trusted.
    node.now += 1_000;
    node.receive(1, gossip(9, 3, 5));
    expect(graftsTo(node.receive(3, ihave([9, 3, 0])))).toEqual([peer(3).id]);
    expect(node.protocol.stats().optimisations).toBe(2);
  });

  it("a Graft about a shared-tree message catches up only the shared tree's messages, not the origin's own tree's", () => {
    const parent = new Node().withNeighbours(1, 2).pruneFrom(2);
    parent.receive(1, gossip(9, 0));
    parent.receive(1, gossip(9, 1)); // a copy of the shared tree for origin 9, with 2 lazy
    parent.receive(1, gossip(9, 2)); // follows origin 9's own tree, which the Graft does not name
    const graft = parent.receive(2, { type: 'graft', origin: peer(9).id, seq: 0, request: false });
    expect(sent(graft)).toEqual([{ to: peer(2), message: { ...gossip(9, 1), hops: 1 } }]);
    expect(parent.protocol.stats()).toMatchObject({ catchUpPayloadsSent: 1, graftAnswersWithheld: 0 });
  });
});
