import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { GossipVerdict, MessageAuthenticator } from '../../src/core/broadcast/authenticator.js';
import type { BroadcastKind } from '../../src/core/broadcast/strategy.js';
import type { Gossip } from '../../src/core/messages.js';
import type { NodeId } from '../../src/core/types.js';
import { actionsOf, Harness, peer, sends } from './helpers.js';

/**
 * Stands in for Ed25519: the "signature" is SHA-512 of (origin, seq, payload), so anyone could
 * compute it, but it binds exactly those fields, which is all the core relies on.
 */
class FakeAuthenticator implements MessageAuthenticator {
  verifications = 0;
  /** Messages with a seq below this verify as genuine but too old. */
  staleBelow = 0;

  sign(origin: NodeId, seq: number, payload: Uint8Array): Uint8Array {
    return new Uint8Array(createHash('sha512').update(`${origin}:${seq}:`).update(payload).digest());
  }

  verify(origin: NodeId, seq: number, payload: Uint8Array, signature: Uint8Array | undefined): GossipVerdict {
    this.verifications++;
    if (signature === undefined) return 'forged';
    if (Buffer.compare(Buffer.from(signature), Buffer.from(this.sign(origin, seq, payload))) !== 0) {
      return 'forged';
    }
    return seq < this.staleBelow ? 'stale' : 'valid';
  }
}

const fake = new FakeAuthenticator();

/** A message from `origin`, signed by `signer` (the origin unless a forger says otherwise). */
function signed(origin: number, seq: number, payload: Uint8Array, signer = origin): Gossip {
  return {
    type: 'gossip',
    origin: peer(origin).id,
    seq,
    hops: 0,
    signature: fake.sign(peer(signer).id, seq, payload),
    payload,
  };
}

function node(broadcast: BroadcastKind, authenticator = new FakeAuthenticator()) {
  const harness = new Harness({ broadcast }, 1, authenticator).withNeighbours(1, 2, 3);
  harness.protocol.handle({ type: 'start' }, 0);
  return { harness, authenticator };
}

describe.each(['plumtree', 'flood'] as const)('%s with an authenticator', (kind) => {
  it('signs what it originates, and raises seq to minSeq', () => {
    const { harness } = node(kind);
    const payload = new Uint8Array([1, 2, 3]);
    const actions = harness.protocol.handle({ type: 'broadcast', payload, minSeq: 5_000 }, 0);
    const gossip = sends(actions, 'gossip');
    expect(gossip).toHaveLength(3);
    for (const { message } of gossip) {
      expect(message).toMatchObject({ seq: 5_000, signature: fake.sign(harness.self.id, 5_000, payload) });
    }
    const next = harness.protocol.handle({ type: 'broadcast', payload, minSeq: 10 }, 0);
    expect(sends(next, 'gossip')[0]?.message).toMatchObject({ seq: 5_001 });
  });

  it('never delivers nor relays a payload altered in transit, and closes the link it came on', () => {
    const { harness } = node(kind);
    const genuine = signed(7, 1, new Uint8Array([1]));
    const altered: Gossip = { ...genuine, payload: new Uint8Array([2]) };
    const actions = harness.receive(1, altered);
    expect(actionsOf(actions, 'deliver')).toEqual([]);
    expect(sends(actions, 'gossip')).toEqual([]);
    expect(actionsOf(actions, 'disconnect').map((a) => a.peer.id)).toEqual([peer(1).id]);
    expect(actionsOf(actions, 'neighborDown').map((a) => a.peer.id)).toEqual([peer(1).id]);
    expect(harness.active()).not.toContain(peer(1).id);
    expect(harness.protocol.stats()).toMatchObject({ invalidSignatures: 1, failures: 1, delivered: 0 });
    // The forgery did not poison the seen cache: the genuine message still gets through.
    const later = harness.receive(2, genuine);
    expect(actionsOf(later, 'deliver').map((d) => d.payload)).toEqual([new Uint8Array([1])]);
  });

  it('never delivers a message claiming another origin, nor an unsigned one', () => {
    const { harness } = node(kind);
    const claimed = harness.receive(1, signed(7, 1, new Uint8Array([1]), 1));
    const { signature: _dropped, ...unsignedMessage } = signed(7, 2, new Uint8Array([2]));
    const unsigned = harness.receive(2, unsignedMessage);
    for (const actions of [claimed, unsigned]) {
      expect(actionsOf(actions, 'deliver')).toEqual([]);
      expect(sends(actions, 'gossip')).toEqual([]);
      expect(actionsOf(actions, 'disconnect')).toHaveLength(1);
    }
    expect(harness.protocol.stats()).toMatchObject({ invalidSignatures: 2, delivered: 0 });
    expect(harness.active()).toEqual([peer(3).id]);
  });

  it('fails closed on a verdict it does not know: a forgery, not delivered, its link closed', () => {
    // A broken authenticator (or one from plain JavaScript) answering outside GossipVerdict.
    const broken = new FakeAuthenticator();
    broken.verify = () => 'ok' as unknown as GossipVerdict;
    const { harness } = node(kind, broken);
    const actions = harness.receive(1, signed(7, 1, new Uint8Array([1])));
    expect(actionsOf(actions, 'deliver')).toEqual([]);
    expect(sends(actions, 'gossip')).toEqual([]);
    expect(actionsOf(actions, 'disconnect').map((a) => a.peer.id)).toEqual([peer(1).id]);
    expect(harness.protocol.stats()).toMatchObject({ invalidSignatures: 1, delivered: 0 });
  });

  it('verifies each message once: duplicates cost no verification', () => {
    const { harness, authenticator } = node(kind);
    const message = signed(7, 1, new Uint8Array([9]));
    expect(actionsOf(harness.receive(1, message), 'deliver')).toHaveLength(1);
    harness.receive(2, message);
    harness.receive(3, { ...message, hops: 4 });
    expect(authenticator.verifications).toBe(1);
    expect(harness.protocol.stats()).toMatchObject({ delivered: 1, duplicates: 2, invalidSignatures: 0 });
  });

  it('calls unseen exactly the messages it would verify: new, well-formed, not its own', () => {
    const { harness, authenticator } = node(kind);
    const message = signed(7, 1, new Uint8Array([1]));
    expect(harness.protocol.isUnseen(message)).toBe(true);
    expect(harness.protocol.isUnseen({ ...message, seq: -1 })).toBe(false);
    expect(harness.protocol.isUnseen({ ...message, origin: harness.self.id })).toBe(false);
    harness.receive(1, message);
    expect(authenticator.verifications).toBe(1);
    expect(harness.protocol.isUnseen(message)).toBe(false);
    harness.protocol.handle({ type: 'leave' }, 0);
    expect(harness.protocol.isUnseen(signed(7, 2, new Uint8Array([2])))).toBe(false);
  });

  it('calls unseen a replay the seen cache refuses: it is verified too, so the runtime may check it ahead', () => {
    const authenticator = new FakeAuthenticator();
    const harness = new Harness({ broadcast: kind, seenCacheMaxEntries: 2 }, 1, authenticator);
    harness.withNeighbours(1, 2);
    harness.protocol.handle({ type: 'start' }, 0);
    const genuine = signed(7, 1, new Uint8Array([1]));
    harness.receive(1, genuine);
    for (let seq = 1; seq <= 2; seq++) harness.receive(2, signed(9, seq, new Uint8Array([0])));
    // Pushed out by count: the origin's horizon refuses it now.
    expect(harness.protocol.isUnseen(genuine)).toBe(true);
    const before = authenticator.verifications;
    expect(actionsOf(harness.receive(1, genuine), 'deliver')).toEqual([]);
    expect(authenticator.verifications).toBe(before + 1);
    expect(harness.protocol.stats()).toMatchObject({ staleMessages: 1 });
  });

  it('drops a replay the seen cache has forgotten, without blaming the honest link', () => {
    const { harness, authenticator } = node(kind);
    authenticator.staleBelow = 100;
    const actions = harness.receive(1, signed(7, 99, new Uint8Array([1])));
    expect(actionsOf(actions, 'deliver')).toEqual([]);
    expect(sends(actions, 'gossip')).toEqual([]);
    expect(actionsOf(actions, 'disconnect')).toEqual([]);
    expect(harness.active()).toContain(peer(1).id);
    expect(harness.protocol.stats()).toMatchObject({ staleMessages: 1, invalidSignatures: 0 });
    expect(actionsOf(harness.receive(1, signed(7, 100, new Uint8Array([1]))), 'deliver')).toHaveLength(1);
  });

  it('refuses a replay of a message that validly signed junk pushed out of the seen cache by count', () => {
    // The freshness window still lets the replay in (the fake says valid for every seq): only the
    // seen cache can stop it, and its count bound (here 50) is what the junk exhausts.
    const authenticator = new FakeAuthenticator();
    const harness = new Harness({ broadcast: kind, seenCacheMaxEntries: 50 }, 1, authenticator);
    harness.withNeighbours(1, 2, 3);
    harness.protocol.handle({ type: 'start' }, 0);
    const genuine = signed(7, 1_000, new Uint8Array([1]));
    expect(actionsOf(harness.receive(1, genuine), 'deliver')).toHaveLength(1);
    harness.now = 1_000;
    for (let seq = 1; seq <= 60; seq++) harness.receive(2, signed(9, seq, new Uint8Array([0])));
    harness.now = 5_000;
    const replay = harness.receive(2, { ...genuine, hops: 0 });
    expect(actionsOf(replay, 'deliver')).toEqual([]);
    expect(sends(replay, 'gossip')).toEqual([]);
    expect(harness.protocol.stats()).toMatchObject({ delivered: 61, staleMessages: 1, invalidSignatures: 0 });
    // A forgery of a refused seq is a forgery: before, it was counted stale and its link kept.
    const forgery = harness.receive(3, { ...signed(7, 999, new Uint8Array([1]), 8), hops: 0 });
    expect(actionsOf(forgery, 'disconnect').map((d) => d.peer.id)).toEqual([peer(3).id]);
    expect(harness.protocol.stats()).toMatchObject({ staleMessages: 1, invalidSignatures: 1 });
    // The origin's next message, and the junk's, are still delivered: only what the cache can no
    // longer tell from a replay is refused.
    expect(actionsOf(harness.receive(1, signed(7, 1_001, new Uint8Array([2]))), 'deliver')).toHaveLength(1);
    expect(actionsOf(harness.receive(2, signed(9, 61, new Uint8Array([0]))), 'deliver')).toHaveLength(1);
  });
});

describe('plumtree with an authenticator', () => {
  it('answers a Graft with the payload and its original signature', () => {
    const { harness } = node('plumtree');
    const message = signed(7, 1, new Uint8Array([4, 5]));
    harness.receive(1, message);
    const answer = harness.receive(2, { type: 'graft', origin: message.origin, seq: 1, request: true });
    const [resent] = sends(answer, 'gossip');
    expect(resent?.message).toMatchObject({ origin: message.origin, seq: 1, signature: message.signature });
    expect(resent?.message).toMatchObject({ payload: message.payload });
  });
});

describe('without an authenticator', () => {
  it('sends unsigned gossip and delivers what it receives, signed or not', () => {
    const harness = new Harness({}).withNeighbours(1);
    const out = harness.protocol.handle({ type: 'broadcast', payload: new Uint8Array([1]) }, 0);
    expect(sends(out, 'gossip')[0]?.message).not.toHaveProperty('signature', expect.anything());
    const forged = signed(7, 1, new Uint8Array([1]), 1);
    expect(actionsOf(harness.receive(1, forged), 'deliver')).toHaveLength(1);
  });
});
