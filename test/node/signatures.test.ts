import { once } from 'node:events';
import { afterEach, expect, it, onTestFinished, vi } from 'vitest';
import type { Gossip } from '../../src/core/messages.js';
import { generateIdentity, type Identity } from '../../src/identity/identity.js';
import { GossipSigner, minSeqNow } from '../../src/node/gossip-signer.js';
import type { MeshNode } from '../../src/node/node.js';
import { acquireVerifyPool, releaseVerifyPool } from '../../src/node/verify-pool.js';
import { becomeNeighbour, TestMesh } from '../helpers/mesh.js';
import { waitUntil } from '../helpers/wait.js';
import { eventually, RawPeer } from '../transport/helpers.js';

/**
 * Three honest nodes and hand-driven peers that complete the Noise handshake and join the target's
 * active view, then relay a broadcast of an origin (a key pair held by the test) with its payload
 * altered, or broadcast under an honest node's id. No honest node may ever deliver either, and the
 * target must close the link each came on.
 */

let mesh: TestMesh;
const peers: RawPeer[] = [];
afterEach(async () => {
  for (const peer of peers.splice(0)) peer.socket.destroy();
  await mesh?.stopAll();
});

function signedBy(origin: Identity, text: string, seq = minSeqNow()): Gossip {
  const payload = Buffer.from(text);
  const signature = new GossipSigner(origin, 60_000).sign(origin.id, seq, payload);
  return { type: 'gossip', origin: origin.id, seq, hops: 3, signature, payload };
}

/** A dishonest relay: handshake, Hello, and a Neighbor request the target must accept. */
async function relayInto(target: MeshNode): Promise<RawPeer> {
  const peer = await RawPeer.dial(`127.0.0.1:${target.address()?.port}`);
  peers.push(peer);
  await becomeNeighbour(peer, target);
  return peer;
}

function deliveredText(node: MeshNode): string[] {
  return (mesh.received.get(node.id) ?? []).map((m) => Buffer.from(m.data).toString());
}

// With no verify threads the event loop checks every signature; with one, a worker thread does
// (started at once and given every check here, where a real node starts it only under load and
// checks a quiet turn's few itself).
it.each([0, 1])(
  'never delivers a payload altered by a relay, nor one claiming another origin, and closes those links (%i verify threads)',
  async (verifyThreads) => {
    if (verifyThreads > 0) {
      expect(await acquireVerifyPool(verifyThreads, { startRate: 0, inlineTurnMax: 0 }).ready()).toBe(true);
      onTestFinished(() => releaseVerifyPool());
    }
    mesh = new TestMesh({ verifyThreads });
    const nodes = await mesh.start(3);
    await mesh.waitConnected();
    const [target, honest] = nodes as [MeshNode, MeshNode, MeshNode];
    const origin = generateIdentity();

    const relay = await relayInto(target);
    // Control: the relay passes on a genuine message, which everyone delivers.
    relay.send(signedBy(origin, 'genuine'));
    await waitUntil(
      'the genuine message to reach every node',
      () => nodes.every((n) => deliveredText(n).includes('genuine')),
      nodes.map((n) => [n, 'message'] as const),
    );
    // Then it alters the next one in transit: origin, seq and signature intact, payload changed.
    const closed = once(relay.socket, 'close');
    relay.send({ ...signedBy(origin, 'pay alice'), payload: Buffer.from('pay mallory') });
    await closed;
    expect(target.peers().active.map((p) => p.id)).not.toContain(relay.id);

    // A second relay broadcasts under an honest node's id, signed with its own key.
    const forger = await relayInto(target);
    const forgerClosed = once(forger.socket, 'close');
    const claimed = signedBy(forger.identity, 'from honest, really');
    forger.send({ ...claimed, origin: honest.id });
    await forgerClosed;

    // Links are FIFO: once this reaches everyone, anything the target had relayed would have too.
    await mesh.broadcastAndWait(target, 'flush');
    for (const node of nodes) {
      // A node never delivers its own broadcast to itself.
      expect(deliveredText(node)).toEqual(node === target ? ['genuine'] : ['genuine', 'flush']);
    }
    expect(target.stats().protocol.invalidSignatures).toBe(2);
  },
);

it('with signatures off on every node (a trusted private network), broadcasts still flow', async () => {
  mesh = new TestMesh({ signatures: false });
  const nodes = await mesh.start(2);
  await mesh.waitConnected();
  await mesh.broadcastAndWait(nodes[0] as MeshNode, 'unsigned');
  expect((nodes[1] as MeshNode).stats().protocol.invalidSignatures).toBe(0);
});

/**
 * A verify pool that checks every signature on its worker and keeps each verdict until the test
 * calls the function returned, so that the test knows a message is still in its check.
 */
async function withheldVerdicts(): Promise<{
  submitted: () => number;
  withheld: () => number;
  release: (count?: number) => void;
}> {
  const pool = acquireVerifyPool(1, { startRate: 0, inlineTurnMax: 0 });
  onTestFinished(() => releaseVerifyPool());
  expect(await pool.ready()).toBe(true);
  const withheld: (() => void)[] = [];
  let submitted = 0;
  const submit = pool.submit.bind(pool);
  const spy = vi.spyOn(pool, 'submit').mockImplementation((signature, key, message, done) => {
    submitted++;
    return submit(signature, key, message, (valid) => withheld.push(() => done(valid)));
  });
  onTestFinished(() => spy.mockRestore());
  return {
    submitted: () => submitted,
    withheld: () => withheld.length,
    /** Hands on the first `count` verdicts withheld (all by default), in the order they came. */
    release: (count = withheld.length) => {
      for (const done of withheld.splice(0, count)) done();
    },
  };
}

/** Short, so that a Graft timer would fire within the test. */
const GRAFT_TIMEOUT = 37;

function graftsFor(peer: RawPeer, message: Pick<Gossip, 'origin' | 'seq'>): number {
  return peer.frames.filter(
    (f) => f.type === 'graft' && f.request && f.origin === message.origin && f.seq === message.seq,
  ).length;
}

/** Resolves once `peer` has been sent a Graft that asks for `message`. */
function graftAsked(peer: RawPeer, message: Pick<Gossip, 'origin' | 'seq'>, what: string): Promise<void> {
  return waitUntil(what, () => graftsFor(peer, message) > 0, [[peer, 'frame']]);
}

/** Resolves once `node` has read `count` more frames than it had when this was called. */
function framesRead(node: MeshNode, count: number): Promise<void> {
  const target = node.stats().transport.framesIn + count;
  return eventually(`${count} more frames to be read`, () => node.stats().transport.framesIn >= target);
}

it('an announcement that comes while the message it names is in its check asks for nothing it is checking, and what else it names is still grafted', async () => {
  const verdicts = await withheldVerdicts();
  mesh = new TestMesh({ verifyThreads: 1, protocol: { graftTimeout: GRAFT_TIMEOUT } });
  const [target] = (await mesh.start(1)) as [MeshNode];
  const origin = generateIdentity();
  const relay = await relayInto(target);

  const inCheck = signedBy(origin, 'in check');
  // Its id only: a later seq of the same origin (signedBy's seqs are the wall clock's, in ms).
  const neverSent = { origin: origin.id, seq: inCheck.seq + 1 };
  relay.send(inCheck);
  await eventually('the message to go to the worker', () => verdicts.submitted() === 1);
  const read = framesRead(target, 1);
  relay.send({
    type: 'ihave',
    entries: [
      { origin: origin.id, seq: inCheck.seq, hops: 0 },
      { origin: origin.id, seq: neverSent.seq, hops: 0 },
    ],
  });
  await read;
  verdicts.release();

  await graftAsked(relay, neverSent, 'the target to ask the relay for the message it never sent');
  // Read before the check ended, its first entry would have found the message missing: a Graft at
  // once from this link, the eager one that carries the origin's messages to the target (from
  // another, a Graft timer). Held until then, it names a message the target has.
  expect(deliveredText(target)).toEqual(['in check']);
  expect(graftsFor(relay, inCheck)).toBe(0);
});

it('an announcement held for a message whose copy turns out forged is grafted from its announcer', async () => {
  const verdicts = await withheldVerdicts();
  mesh = new TestMesh({ verifyThreads: 1, protocol: { graftTimeout: GRAFT_TIMEOUT } });
  const [target] = (await mesh.start(1)) as [MeshNode];
  const origin = generateIdentity();
  const forger = await relayInto(target);
  const announcer = await relayInto(target);

  const genuine = signedBy(origin, 'genuine');
  const forgerClosed = once(forger.socket, 'close');
  forger.send({ ...genuine, payload: Buffer.from('forged') });
  await eventually('the forgery to go to the worker', () => verdicts.submitted() === 1);
  const read = framesRead(target, 1);
  announcer.send({ type: 'ihave', entries: [{ origin: origin.id, seq: genuine.seq, hops: 0 }] });
  await read;
  verdicts.release();
  await forgerClosed;

  await graftAsked(announcer, genuine, 'the target to graft the message from its announcer');
  expect(deliveredText(target)).toEqual([]);
});

it('an announcement that names two messages in their checks waits for both, and asks for neither', async () => {
  const verdicts = await withheldVerdicts();
  mesh = new TestMesh({ verifyThreads: 1, protocol: { graftTimeout: GRAFT_TIMEOUT } });
  const [target] = (await mesh.start(1)) as [MeshNode];
  const origin = generateIdentity();
  const relay = await relayInto(target);

  const first = signedBy(origin, 'first');
  const second = signedBy(origin, 'second', first.seq + 1);
  const neverSent = { origin: origin.id, seq: first.seq + 2 };
  relay.send(first);
  relay.send(second);
  await eventually('both verdicts to be in', () => verdicts.withheld() === 2);
  const read = framesRead(target, 1);
  relay.send({
    type: 'ihave',
    entries: [first, second, neverSent].map(({ origin, seq }) => ({ origin, seq, hops: 0 })),
  });
  await read;
  // The first check ends: the announcement now waits for the second, still in its check. Read
  // now, it would find the second missing, on the link that carries the origin's messages: a
  // Graft at once.
  verdicts.release(1);
  expect(deliveredText(target)).toEqual(['first']);
  verdicts.release();

  await graftAsked(relay, neverSent, 'the target to ask the relay for the message it never sent');
  expect(deliveredText(target)).toEqual(['first', 'second']);
  expect(graftsFor(relay, first) + graftsFor(relay, second)).toBe(0);
});

it('an announcement is held for no message that the event loop checks itself (no verify threads)', async () => {
  mesh = new TestMesh({ verifyThreads: 0, protocol: { graftTimeout: GRAFT_TIMEOUT } });
  const [target] = (await mesh.start(1)) as [MeshNode];
  const origin = generateIdentity();
  const relay = await relayInto(target);

  const checked = signedBy(origin, 'checked inline');
  const neverSent = { origin: origin.id, seq: checked.seq + 1 };
  relay.send(checked);
  relay.send({
    type: 'ihave',
    entries: [checked, neverSent].map(({ origin, seq }) => ({ origin, seq, hops: 0 })),
  });
  // Held for a check that never ends, the announcement would never bring this Graft.
  await graftAsked(relay, neverSent, 'the target to ask the relay for the message it never sent');
  expect(deliveredText(target)).toEqual(['checked inline']);
  expect(graftsFor(relay, checked)).toBe(0);
});
