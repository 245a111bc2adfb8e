import { describe, expect, it } from 'vitest';
import type { ProtocolAction } from '../../src/core/actions.js';
import { DEFAULT_SHUFFLE_TTL, SHUFFLE_PEERS_LIMIT } from '../../src/core/membership/options.js';
import type { Shuffle } from '../../src/core/messages.js';
import type { PeerInfo } from '../../src/core/types.js';
import { actionsOf, Harness, ids, peer, sends } from './helpers.js';

function shuffleTimer(node: Harness): ProtocolAction[] {
  return node.protocol.handle({ type: 'timer', timer: { type: 'shuffle' } }, node.now);
}

function shuffle(origin: PeerInfo, ttl: number, peers: PeerInfo[]): Shuffle {
  return { type: 'shuffle', origin, ttl, peers };
}

describe('HyParView shuffle (§4.4)', () => {
  it('sends ka active + kp passive peers on a walk from a random neighbour, and re-arms with jitter', () => {
    const node = new Harness({ activeViewSize: 4 }).withNeighbours(1, 2, 3, 4);
    node.withPassive(5, 6, 7, 8, 9, 10);
    const actions = shuffleTimer(node);
    const sent = sends(actions, 'shuffle');
    expect(sent).toHaveLength(1);
    const target = sent[0]?.to.id ?? '';
    const message = sent[0]?.message as Shuffle;
    expect(node.active()).toContain(target);
    expect(message.origin).toEqual(node.self);
    expect(message.ttl).toBe(6);
    const activeSent = ids(message.peers).filter((id) => node.active().includes(id));
    const passiveSent = ids(message.peers).filter((id) => node.passive().includes(id));
    expect(activeSent).toHaveLength(3);
    expect(activeSent).not.toContain(target);
    expect(passiveSent).toHaveLength(4);
    const rearm = actionsOf(actions, 'setTimer');
    expect(rearm.map((a) => a.timer)).toEqual([{ type: 'shuffle' }]);
    expect(rearm[0]?.after).toBeGreaterThanOrEqual(8_000);
    expect(rearm[0]?.after).toBeLessThanOrEqual(12_000);
  });

  it('does nothing but re-arm without neighbours', () => {
    const node = new Harness();
    expect(shuffleTimer(node).map((a) => a.type)).toEqual(['setTimer']);
  });

  it('walks a shuffle on to a neighbour other than the sender and the origin, ttl - 1', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const node = new Harness({}, seed).withNeighbours(1, 2, 3, 20);
      const peers = [peer(21)];
      const actions = node.receive(1, shuffle(peer(20), 4, peers));
      const sent = sends(actions, 'shuffle');
      expect(sent).toHaveLength(1);
      expect([peer(2).id, peer(3).id]).toContain(sent[0]?.to.id);
      expect(sent[0]?.message).toEqual(shuffle(peer(20), 3, peers));
      expect(node.passive()).not.toContain(peer(21).id);
    }
  });

  it('walks a shuffle at ttl 1 on once more, with ttl 0, rather than answering it', () => {
    const node = new Harness().withNeighbours(1, 2, 20);
    const actions = node.receive(1, shuffle(peer(20), 1, [peer(21)]));
    expect(sends(actions, 'shuffleReply')).toEqual([]);
    expect(sends(actions, 'shuffle')).toEqual([
      { type: 'send', to: peer(2), message: shuffle(peer(20), 0, [peer(21)]) },
    ]);
  });

  it('answers at ttl 0 straight to the origin, closes that temporary link, and learns the peers', () => {
    const node = new Harness({ activeViewSize: 2 }).withNeighbours(1, 2);
    node.withPassive(3, 4, 5);
    const actions = node.receive(1, shuffle(peer(20), 0, [peer(21), peer(22)]));
    const replies = sends(actions, 'shuffleReply');
    expect(replies.map((s) => s.to)).toEqual([peer(20)]);
    const replied = replies[0]?.message.type === 'shuffleReply' ? ids(replies[0].message.peers) : [];
    // A full shuffle's worth (3 + 4 + 1) is more than it knows: its passive peers first, then its
    // neighbours.
    expect(replied.slice(0, 3).sort()).toEqual([peer(3).id, peer(4).id, peer(5).id].sort());
    expect(replied.slice(3).sort()).toEqual([peer(1).id, peer(2).id].sort());
    const replyIndex = actions.findIndex((a) => a.type === 'send' && a.message.type === 'shuffleReply');
    const closeIndex = actions.findIndex((a) => a.type === 'disconnect' && a.peer.id === peer(20).id);
    expect(closeIndex).toBeGreaterThan(replyIndex);
    for (const index of [20, 21, 22]) expect(node.passive()).toContain(peer(index).id);
  });

  it('answers a neighbour origin without closing the link, also before ttl 0 when it has one neighbour', () => {
    const node = new Harness().withNeighbours(1);
    const actions = node.receive(1, shuffle(peer(1), 6, [peer(21)]));
    expect(sends(actions, 'shuffleReply').map((s) => s.to)).toEqual([peer(1)]);
    expect(actionsOf(actions, 'disconnect')).toEqual([]);
    expect(node.passive()).toContain(peer(21).id);
  });

  it('tops a short passive view up with active peers when answering', () => {
    const node = new Harness().withNeighbours(1, 2, 3);
    const actions = node.receive(1, shuffle(peer(20), 0, [peer(21), peer(22)]));
    const reply = sends(actions, 'shuffleReply')[0]?.message;
    expect(reply?.type === 'shuffleReply' ? ids(reply.peers).sort() : []).toEqual(
      [peer(1).id, peer(2).id, peer(3).id].sort(),
    );
  });

  it("answers an origin that knows nobody else with a full shuffle's worth of peers (ka + kp + 1)", () => {
    // A joiner whose contact had no other neighbour: one link, an empty passive view, so its
    // shuffle lists no peer but itself. An equal exchange would give it nothing back.
    const node = new Harness().withNeighbours(1, 2);
    node.withPassive(3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    const actions = node.receive(1, shuffle(peer(20), 0, []));
    const reply = sends(actions, 'shuffleReply')[0];
    expect(reply?.to).toEqual(peer(20));
    const replied = reply?.message.type === 'shuffleReply' ? ids(reply.message.peers) : [];
    expect(replied).toHaveLength(8);
    for (const id of replied) expect(node.passive()).toContain(id);
  });

  it('a node short of neighbours with no passive peer shuffles at its repair tick, backing off as the repair does', () => {
    const node = new Harness().withNeighbours(1);
    const early: number[] = [];
    for (let at = 1_000; at <= 100_000; at += 1_000) {
      const actions = node.protocol.handle({ type: 'timer', timer: { type: 'repair' } }, at);
      const sent = sends(actions, 'shuffle');
      if (sent.length > 0) early.push(at);
      expect(sent.map((s) => s.to)).toEqual(sent.length > 0 ? [peer(1)] : []);
    }
    // 1, 2, 4, 8, 16 s apart, then every 30 s (repairBackoffMax).
    expect(early).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 62_000, 92_000]);
    // With a passive peer the tick asks it instead.
    const known = new Harness().withNeighbours(1);
    known.withPassive(3);
    const actions = known.protocol.handle({ type: 'timer', timer: { type: 'repair' } }, 1_000);
    expect(sends(actions, 'shuffle')).toEqual([]);
    expect(sends(actions, 'neighbor').map((s) => s.to)).toEqual([peer(3)]);
  });

  it('shuffles early again at the next repair tick once it loses a neighbour: the back-off starts over', () => {
    const node = new Harness().withNeighbours(1, 2);
    const shufflesAt = (at: number): number =>
      sends(node.protocol.handle({ type: 'timer', timer: { type: 'repair' } }, at), 'shuffle').length;
    expect([1_000, 2_000, 3_000].map(shufflesAt)).toEqual([1, 1, 0]); // next one at 4 s
    node.protocol.handle({ type: 'linkDown', peer: peer(2).id }, 3_000);
    expect(shufflesAt(3_500)).toBe(1);
  });

  it('never learns itself or an active neighbour as passive', () => {
    const node = new Harness().withNeighbours(1, 2);
    shuffleTimer(node);
    node.receive(1, { type: 'shuffleReply', peers: [node.self, peer(2), peer(30)] });
    expect(node.passive()).toEqual([peer(30).id]);
  });

  it('when full, evicts first the peers it sent in its own shuffle', () => {
    const node = new Harness({
      activeViewSize: 1,
      passiveViewSize: 4,
      shufflePassiveCount: 2,
    }).withNeighbours(1);
    node.withPassive(3, 4, 5, 6);
    const sent = sends(shuffleTimer(node), 'shuffle')[0]?.message as Shuffle;
    const sentIds = ids(sent.peers);
    expect(sentIds).toHaveLength(2);
    const kept = node.passive().filter((id) => !sentIds.includes(id));
    node.receive(9, { type: 'shuffleReply', peers: [peer(7), peer(8)] });
    expect(node.passive().sort()).toEqual([...kept, peer(7).id, peer(8).id].sort());
  });

  it('when full, the answering node evicts first the peers it sent back: room for the origin and each peer named, whatever the draw', () => {
    for (let seed = 1; seed <= 10; seed++) {
      // Eight of thirty sent back: a random eviction would hit one of the others most times.
      const node = new Harness({ activeViewSize: 1 }, seed).withNeighbours(1);
      node.withPassive(...Array.from({ length: 30 }, (_, i) => 100 + i));
      const before = node.passive();
      const actions = node.receive(1, shuffle(peer(20), 0, [peer(21)]));
      const reply = sends(actions, 'shuffleReply')[0]?.message;
      const replied = reply?.type === 'shuffleReply' ? ids(reply.peers) : [];
      expect(replied).toHaveLength(8);
      for (const id of before.filter((id) => !replied.includes(id))) expect(node.passive()).toContain(id);
      expect(node.passive()).toContain(peer(20).id);
      expect(node.passive()).toContain(peer(21).id);
      expect(node.passive()).toHaveLength(before.length);
    }
  });

  it('drops its own walk coming back, counts a malformed ttl, and caps oversized peer lists', () => {
    const node = new Harness().withNeighbours(1, 2);
    expect(node.receive(1, shuffle(node.self, 0, [peer(30)]))).toEqual([]);
    expect(node.receive(1, shuffle(peer(20), -3, []))).toEqual([]);
    expect(node.protocol.stats().invalidMessages).toBe(1);
    const many = Array.from({ length: 100 }, (_, i) => peer(100 + i));
    const actions = node.receive(1, shuffle(peer(20), 0, many));
    const reply = sends(actions, 'shuffleReply')[0]?.message;
    expect(reply?.type === 'shuffleReply' ? reply.peers.length : -1).toBeLessThanOrEqual(32);
    expect(node.passive().length).toBeLessThanOrEqual(30);
  });
});

describe('HyParView shuffle from a hostile neighbour', () => {
  const many = Array.from({ length: 100 }, (_, i) => peer(100 + i));
  const manyIds = new Set(ids(many));

  it('takes at most SHUFFLE_PEERS_LIMIT of an oversized shuffle into its passive view', () => {
    const node = new Harness({ passiveViewSize: 200 }).withNeighbours(1, 2);
    node.receive(1, shuffle(peer(20), 0, many));
    expect(node.passive().filter((id) => manyIds.has(id))).toHaveLength(SHUFFLE_PEERS_LIMIT);
  });

  it('walks an oversized shuffle on with SHUFFLE_PEERS_LIMIT peers, and its ttl cut to shuffleTtl', () => {
    const node = new Harness().withNeighbours(1, 2, 3);
    const sent = sends(node.receive(1, shuffle(peer(20), 255, many)), 'shuffle');
    expect(sent).toHaveLength(1);
    const walked = sent[0]?.message as Shuffle;
    expect(walked.ttl).toBe(DEFAULT_SHUFFLE_TTL - 1);
    expect(walked.peers).toEqual(many.slice(0, SHUFFLE_PEERS_LIMIT));
  });
});

describe('HyParView leave', () => {
  it('says Disconnect{alive:false} to every neighbour, closes every link, then ignores everything', () => {
    const node = new Harness({ activeViewSize: 3 }).withNeighbours(1, 2);
    node.withPassive(3);
    node.protocol.handle({ type: 'timer', timer: { type: 'repair' } }, 1_000); // asks 3
    expect(node.protocol.stats().pendingRequests).toBe(1);
    const actions = node.protocol.handle({ type: 'leave' }, 0);
    expect(
      sends(actions)
        .map((s) => [s.to.id, s.message])
        .sort(),
    ).toEqual(
      [
        [peer(1).id, { type: 'disconnect', alive: false }],
        [peer(2).id, { type: 'disconnect', alive: false }],
      ].sort(),
    );
    expect(ids(actionsOf(actions, 'neighborDown').map((a) => a.peer)).sort()).toEqual(
      [peer(1).id, peer(2).id].sort(),
    );
    expect(ids(actionsOf(actions, 'disconnect').map((a) => a.peer)).sort()).toEqual(
      [peer(1).id, peer(2).id, peer(3).id].sort(),
    );
    const lastSend = actions.map((a) => a.type).lastIndexOf('send');
    const firstClose = actions.map((a) => a.type).indexOf('disconnect');
    expect(lastSend).toBeLessThan(firstClose);
    expect(node.active()).toEqual([]);
    expect(node.passive()).toEqual([]);
    expect(node.receive(4, { type: 'join' })).toEqual([]);
    expect(node.protocol.handle({ type: 'broadcast', payload: new Uint8Array([1]) }, 0)).toEqual([]);
    expect(node.protocol.handle({ type: 'timer', timer: { type: 'repair' } }, 0)).toEqual([]);
  });

  it('closes the link of a late contact still asked for its tag, and leaves no request or neighbour counted', () => {
    const node = new Harness().withNeighbours(1, 2);
    node.protocol.handle({ type: 'lateContact', contact: peer(7) }, 0);
    node.protocol.handle({ type: 'join', contact: peer(8) }, 0);
    expect(node.protocol.stats().pendingRequests).toBe(1);
    const actions = node.protocol.handle({ type: 'leave' }, 0);
    expect(ids(actionsOf(actions, 'disconnect').map((a) => a.peer)).sort()).toEqual(
      [1, 2, 7, 8].map((i) => peer(i).id).sort(),
    );
    expect(node.protocol.stats()).toMatchObject({
      pendingRequests: 0,
      activeViewSize: 0,
      passiveViewSize: 0,
      neighborUps: 2,
      neighborDowns: 2,
    });
  });

  it('closes each link once, a late contact that became a neighbour while asked for its tag included', () => {
    const node = new Harness().withNeighbours(1);
    node.protocol.handle({ type: 'lateContact', contact: peer(7) }, 0);
    node.receive(7, { type: 'neighbor', priority: 'high' });
    expect(node.active()).toContain(peer(7).id);
    const actions = node.protocol.handle({ type: 'leave' }, 0);
    expect(ids(actionsOf(actions, 'disconnect').map((a) => a.peer)).sort()).toEqual(
      [1, 7].map((i) => peer(i).id).sort(),
    );
  });
});
