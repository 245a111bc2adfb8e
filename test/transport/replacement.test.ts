import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { WireMessage } from '../../src/core/messages.js';
import type { PeerInfo } from '../../src/core/types.js';
import { generateIdentity } from '../../src/identity/identity.js';
import type { LinkManager } from '../../src/transport/link-manager.js';
import type { LinkManagerOptions } from '../../src/transport/options.js';
import {
  DEADLINE_MS,
  eventually,
  gossip,
  LOOPBACK,
  link,
  ManagerPool,
  nextEvent,
  orderedIdentities,
  RawPeer,
  rawSocket,
} from './helpers.js';

/**
 * The race that TCP does not rule out between two sockets: the peer retires the duplicate link we
 * are using (its FIN reaches us) before the Hello of the link it keeps. The peer is played by raw
 * sockets so that the order is forced; with two real managers on loopback it practically never shows.
 */

const pool = new ManagerPool();
const servers: Server[] = [];
afterEach(async () => {
  await pool.closeAll();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** `manager`'s linkUp and linkDown as 'up in', 'down remote', ..., in order; dialFailed too if asked. */
function linkEvents(manager: LinkManager, withDialFailed = false): string[] {
  const events: string[] = [];
  manager.on('linkUp', (_peer, direction) => events.push(`up ${direction}`));
  manager.on('linkDown', (_peer, reason) => events.push(`down ${reason}`));
  if (withDialFailed) manager.on('dialFailed', () => events.push('dialFailed'));
  return events;
}

/** A listener that takes the first socket dialled to it and leaves it be: a peer our dial waits on. */
async function holdingListener(): Promise<{ port: number; accepted: Promise<Socket> }> {
  let onAccept: (socket: Socket) => void = () => {};
  const accepted = new Promise<Socket>((resolve) => {
    onAccept = resolve;
  });
  const server = createServer((socket) => onAccept(socket));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return { port: (server.address() as AddressInfo).port, accepted };
}

/**
 * Our send() dial to a peer hangs in its handshake (`dialed` is the peer's end of it) while the peer
 * links to us by its own dial (`theirs`), which is up.
 */
async function peerUpByItsOwnDial(withDialFailed = false) {
  const peerIdentity = generateIdentity();
  const us = await pool.start();
  const events = linkEvents(us.manager, withDialFailed);
  const { port, accepted } = await holdingListener();
  const peer: PeerInfo = { id: peerIdentity.id, address: `${LOOPBACK}:${port}` };
  us.manager.send(peer, gossip(us.info.id, 1));
  const dialed = await accepted;
  const up = nextEvent(us.manager, 'linkUp');
  const theirs = await RawPeer.dial(us.info.address, peerIdentity);
  theirs.hello(port);
  await up;
  return { us, events, peer, peerIdentity, port, dialed, theirs };
}

/** Our manager has an 'out' link to the raw peer, the peer has retired it, its own dial is handshaking. */
async function peerRetiresOurLink(options: Partial<LinkManagerOptions> = {}) {
  // The raw peer has the smaller id, so the link it dials wins and the one we dial is the duplicate.
  const [peerIdentity, ourIdentity] = orderedIdentities();
  const PEER_ID = peerIdentity.id;
  const OUR_ID = ourIdentity.id;
  const us = await pool.start({ ...options, identity: ourIdentity });
  const events = linkEvents(us.manager);

  const { port, accepted } = await holdingListener();
  const peer: PeerInfo = { id: PEER_ID, address: `${LOOPBACK}:${port}` };

  const up = nextEvent(us.manager, 'linkUp');
  us.manager.send(peer, gossip(OUR_ID, 1));
  const duplicate = new RawPeer(await accepted, false, peerIdentity);
  await duplicate.secured;
  duplicate.hello(port);
  await up;

  // The peer's own dial: secured, our Hello received, its Hello not sent yet.
  const winnerPeer = new RawPeer(await rawSocket(us.info.address), true, peerIdentity);
  await winnerPeer.secured;
  const onWinner = winnerPeer.frames;
  await eventually('our side to see the handshake start', () => onWinner.length === 1);

  // The peer retires the duplicate; our FIN coming back proves we processed its FIN.
  const ended = new Promise((resolve) => duplicate.socket.once('end', resolve));
  duplicate.socket.end();
  await ended;
  return { us, peer, events, winner: winnerPeer, onWinner, PEER_ID, OUR_ID, peerIdentity };
}

/**
 * Our manager has retired its 'out' link to the raw peer (`retired`: the peer's own dial `winner`
 * won), and the peer reads nothing more on it, so our FIN goes unread and it lingers. The peer then
 * ends `winner` while another dial of its (`replacement`) is handshaking: we wait for that one.
 */
async function retiredLinkLingersThroughTheWait(options: Partial<LinkManagerOptions> = {}) {
  // The raw peer has the smaller id, so the link it dials wins and the one we dial is retired.
  const [peerIdentity, ourIdentity] = orderedIdentities();
  const us = await pool.start({ ...options, identity: ourIdentity });
  const events = linkEvents(us.manager);
  const { port, accepted } = await holdingListener();
  const peer: PeerInfo = { id: peerIdentity.id, address: `${LOOPBACK}:${port}` };
  const up = nextEvent(us.manager, 'linkUp');
  us.manager.send(peer, gossip(ourIdentity.id, 1));
  const retired = new RawPeer(await accepted, false, peerIdentity);
  await retired.secured;
  retired.hello(port);
  await up;
  retired.socket.pause(); // reads nothing more: our FIN, when we retire the link, stays unread
  const winner = await RawPeer.dial(us.info.address, peerIdentity);
  winner.hello(port);
  await eventually("the peer's own dial in use", () => us.manager.links()[0]?.direction === 'in');
  const replacement = await RawPeer.dial(us.info.address, peerIdentity);
  const closedBefore = us.manager.stats().linksClosed;
  const ended = new Promise((resolve) => winner.socket.once('end', resolve));
  winner.socket.end();
  await ended;
  expect(events).toEqual(['up out']);
  /** Resolves once our side has closed both the link the peer ended and the retired one. */
  const bothClosed = () =>
    eventually('the retired link to close', () => us.manager.stats().linksClosed >= closedBefore + 2);
  return { us, peer, events, port, retired, replacement, bothClosed, OUR_ID: ourIdentity.id };
}

describe('LinkManager: replacement of a retired link', () => {
  it('disconnect() while the peer waits for its replacement link delivers the queued frames and ends the link', async () => {
    const { us, peer, events, winner, OUR_ID } = await peerRetiresOurLink();
    us.manager.send(peer, gossip(OUR_ID, 2)); // queued for the replacement link
    us.manager.disconnect(peer.id);
    expect(events).toEqual(['up out', 'down local']);
    let ended = false;
    winner.socket.once('end', () => {
      ended = true;
    });
    winner.hello(1);
    // Before, the queued frame was dropped and the handshake came up as a link nobody asked for.
    await eventually('the replacement link to be ended or taken up', () => ended || events.length > 2);
    // The frame queued before disconnect() reaches the peer, then the link it was bringing up ends.
    expect({
      frames: winner.frames.map((f) => f.type),
      ended,
      events,
      links: us.manager.links().length,
    }).toEqual({ frames: ['hello', 'gossip'], ended: true, events: ['up out', 'down local'], links: 0 });
  });

  it('after disconnect() in the wait, takes up a link the peer began after the loss as a new link', async () => {
    const { us, peer, events, peerIdentity } = await peerRetiresOurLink();
    us.manager.disconnect(peer.id);
    expect(events).toEqual(['up out', 'down local']);
    // The peer dials again while the handshake begun before the loss is still pending: a new link.
    const late = await RawPeer.dial(us.info.address, peerIdentity);
    const up = nextEvent(us.manager, 'linkUp');
    late.hello(1);
    await up;
    expect(events).toEqual(['up out', 'down local', 'up in']);
    expect(us.manager.links().map((l) => l.peer.id)).toEqual([peer.id]);
    late.socket.destroy();
  });

  // A retired link ends as an 'error' (a reset, or our destroy once its linger is over; never a
  // 'timeout': lingering links skip the idle check). Either way the peer's link was another one.
  it.each([
    ['reset by the peer', 'reset'],
    ['destroyed by us after lingering', 'linger'],
  ] as const)(
    'a retired link %s during the wait neither ends the wait nor gives its reason',
    async (_, how) => {
      // A short idle timeout makes the retired link's linger end soon; the handshake's stays long.
      const options = how === 'linger' ? { idleTimeoutMs: 500, handshakeTimeoutMs: DEADLINE_MS } : {};
      const { us, peer, events, port, retired, replacement, bothClosed, OUR_ID } =
        await retiredLinkLingersThroughTheWait(options);
      try {
        if (how === 'reset') retired.socket.resetAndDestroy();
        await bothClosed();
        // Taken for the end of the peer's link, it would end the wait here with linkDown 'error'.
        expect(events).toEqual(['up out']);
        us.manager.send(peer, gossip(OUR_ID, 2)); // queued for the replacement link
        replacement.hello(port);
        await eventually('the queued message on the replacement link', () =>
          replacement.frames.some((f) => f.type === 'gossip'),
        );
        expect(events).toEqual(['up out']);
        expect(us.manager.links()).toEqual([{ peer, direction: 'in' }]);
      } finally {
        // The paused socket would otherwise hold the listener's close() in afterEach.
        replacement.socket.destroy();
        retired.socket.destroy();
      }
    },
  );

  it('moves to the winning link silently when its Hello arrives after the FIN', async () => {
    const { us, peer, events, winner, onWinner, PEER_ID, OUR_ID } = await peerRetiresOurLink();
    us.manager.send(peer, gossip(OUR_ID, 2)); // queued: no usable link right now
    expect(us.manager.links()).toHaveLength(1); // the peer stays up meanwhile
    winner.hello(1);
    await eventually('the queued message on the winning link', () =>
      onWinner.some((f) => f.type === 'gossip'),
    );
    expect(onWinner.map((f) => f.type)).toEqual(['hello', 'gossip']);
    // Same peer info as announced in linkUp; the link in use is now the one the peer dialed.
    expect(us.manager.links()).toEqual([{ peer: { id: PEER_ID, address: peer.address }, direction: 'in' }]);
    expect(events).toEqual(['up out']);
    winner.socket.destroy();
  });

  it("reports linkDown 'remote' once the awaited handshake fails instead", async () => {
    const { us, events, winner } = await peerRetiresOurLink();
    const down = nextEvent(us.manager, 'linkDown');
    winner.socket.end();
    await down;
    expect(events).toEqual(['up out', 'down remote']);
    expect(us.manager.links()).toEqual([]);
  });

  it('drops the frames queued for the replacement link once the peer is reported down', async () => {
    // Room for two frames of 1 KiB queued for a peer being dialled, not for three.
    const { us, peer, events, winner, OUR_ID } = await peerRetiresOurLink({ maxSendQueueBytes: 3000 });
    us.manager.send(peer, gossip(OUR_ID, 2, 1024)); // queued for the replacement link
    const down = nextEvent(us.manager, 'linkDown');
    winner.socket.end();
    await down;
    expect(events).toEqual(['up out', 'down remote']);
    // A new dial starts with an empty queue: the frame queued for the lost link went with it.
    us.manager.send(peer, gossip(OUR_ID, 3, 1024));
    us.manager.send(peer, gossip(OUR_ID, 4, 1024));
    expect(us.manager.stats().unsendableMessages).toBe(0);
  });

  /**
   * Our send() dial to the peer, held in its handshake, while the peer's own dial is up; the peer
   * opens another that says no Hello yet, then ends the link in use: we wait, as both handshakes
   * could bring its replacement. A frame is queued for that replacement, then disconnect().
   */
  async function disconnectDuringTheWait() {
    const { us, events, peer, peerIdentity, port, dialed, theirs: first } = await peerUpByItsOwnDial();
    const other = await RawPeer.dial(us.info.address, peerIdentity);
    const ended = new Promise((resolve) => first.socket.once('end', resolve));
    first.socket.end();
    await ended;
    us.manager.send(peer, gossip(us.info.id, 2));
    us.manager.disconnect(peer.id);
    expect(events).toEqual(['up in', 'down local']);
    return { events, peerIdentity, port, dialed, first, other };
  }

  /** The queued frame went out once, on our dial; no link came up or went down since disconnect(). */
  function expectOnlyTheDialDelivered(
    { events, first, other }: Awaited<ReturnType<typeof disconnectDuringTheWait>>,
    raw: RawPeer,
  ): void {
    const seqs = (frames: WireMessage[]) => frames.flatMap((f) => (f.type === 'gossip' ? [f.seq] : []));
    expect({ first: seqs(first.frames), other: seqs(other.frames), dial: seqs(raw.frames) }).toEqual({
      first: [1],
      other: [],
      dial: [2],
    });
    expect(events).toEqual(['up in', 'down local']);
  }

  it('disconnect() during the wait hands the queued frames to the pending dial only, not to the other handshake too', async () => {
    const wait = await disconnectDuringTheWait();
    const { port, dialed, other, peerIdentity } = wait;

    // The other handshake completes first: it brings nothing, and is ended.
    const otherEnded = new Promise((resolve) => other.socket.once('end', resolve));
    other.hello(port);
    await otherEnded;
    // Then our dial: it delivers the queued frame, and is ended.
    const raw = new RawPeer(dialed, false, peerIdentity);
    await raw.secured;
    const dialEnded = new Promise((resolve) => dialed.once('end', resolve));
    raw.hello(port);
    await dialEnded;
    expectOnlyTheDialDelivered(wait, raw);
  });

  it('disconnect() during the wait: the pending dial delivers its queued frames though it completes before the other handshake', async () => {
    const wait = await disconnectDuringTheWait();
    const { events, port, dialed, other, peerIdentity } = wait;

    // Our dial completes first: it delivers the queued frame, and is ended. Before, it took the
    // wait's empty share in place of its own frames, and the other handshake came up as a new link.
    const raw = new RawPeer(dialed, false, peerIdentity);
    await raw.secured;
    const dialEnded = new Promise((resolve) => dialed.once('end', resolve));
    raw.hello(port);
    await dialEnded;
    // Then the other handshake, begun before the loss: it brings nothing, and is ended.
    other.hello(port);
    await eventually(
      'the other handshake to be ended or taken up',
      () => events.length > 2 || other.socket.readableEnded,
    );
    expectOnlyTheDialDelivered(wait, raw);
  });

  it('reports no dialFailed when its send() dial fails after the peer came up by its own dial', async () => {
    const { us, events, peerIdentity, port, dialed, theirs } = await peerUpByItsOwnDial(true);
    await eventually('the queued frame on their link', () => theirs.frames.some((f) => f.type === 'gossip'));
    // Our dial fails now: the peer is up all the same, and the node must not be told otherwise.
    dialed.on('error', () => {});
    const failures = us.manager.stats().handshakeFailures;
    dialed.destroy();
    await eventually('our dial to fail', () => us.manager.stats().handshakeFailures > failures);
    expect(events).toEqual(['up in']);
    expect(us.manager.links()).toEqual([
      { peer: { id: peerIdentity.id, address: `${LOOPBACK}:${port}` }, direction: 'in' },
    ]);
    theirs.socket.destroy();
  });

  it('disconnect() after the peer came up by its own dial ends our send() dial too, unannounced', async () => {
    const { us, events, peer, peerIdentity, port, dialed, theirs } = await peerUpByItsOwnDial();
    us.manager.disconnect(peer.id);
    expect(events).toEqual(['up in', 'down local']);
    // Our dial completes after disconnect(): it has nothing to deliver, and we end it.
    const raw = new RawPeer(dialed, false, peerIdentity);
    await raw.secured;
    const ended = new Promise((resolve) => dialed.once('end', resolve));
    raw.hello(port);
    await ended;
    expect(events).toEqual(['up in', 'down local']);
    expect(us.manager.links()).toEqual([]);
    theirs.socket.destroy();
  });

  it('a dialAddress() begun before the loss and completed after disconnect() still resolves, as a new link', async () => {
    const peerIdentity = generateIdentity();
    const us = await pool.start();
    const events = linkEvents(us.manager);
    const first = await holdingListener();
    const peer: PeerInfo = { id: peerIdentity.id, address: `${LOOPBACK}:${first.port}` };
    const up = nextEvent(us.manager, 'linkUp');
    us.manager.send(peer, gossip(us.info.id, 1));
    const link1 = new RawPeer(await first.accepted, false, peerIdentity);
    await link1.secured;
    link1.hello(first.port);
    await up;
    // A bootstrap dial of the same peer at another address, held in its handshake.
    const second = await holdingListener();
    const bootstrap = us.manager.dialAddress(`${LOOPBACK}:${second.port}`);
    const dialed = await second.accepted;
    // The peer ends the link: we wait, as the bootstrap dial could be its replacement.
    const ended = new Promise((resolve) => link1.socket.once('end', resolve));
    link1.socket.end();
    await ended;
    us.manager.disconnect(peer.id);
    expect(events).toEqual(['up out', 'down local']);
    // The bootstrap dial was asked for by itself: it resolves and comes up, not drained and ended.
    const again = nextEvent(us.manager, 'linkUp');
    const raw = new RawPeer(dialed, false, peerIdentity);
    await raw.secured;
    raw.hello(second.port);
    await again;
    await expect(bootstrap).resolves.toMatchObject({ id: peerIdentity.id });
    expect(events).toEqual(['up out', 'down local', 'up out']);
    dialed.destroy();
  });
});

describe('LinkManager: the order and the bounds of linkUp and linkDown', () => {
  it('reports a link that stopped reading as up and then down, once each, in that order', async () => {
    // A full dial queue fits the send queue it is flushed into (its bytes are counted sealed), so
    // a new link comes up before it can overflow; the overflow comes from the sends after.
    const a = await pool.start({ maxSendQueueBytes: 4 * 1024 * 1024 });
    const identity = generateIdentity();
    const accepted: Socket[] = [];
    const server = createServer((socket) => {
      accepted.push(socket);
      const peer = new RawPeer(socket, false, identity);
      // It says Hello, then never reads again: the queued frames overflow the send queue.
      void peer.secured.then(() => {
        peer.hello(4000);
        socket.pause();
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
    const info: PeerInfo = {
      id: identity.id,
      address: `${LOOPBACK}:${(server.address() as AddressInfo).port}`,
    };
    const events: string[] = [];
    a.manager.on('linkUp', () => events.push('up'));
    a.manager.on('linkDown', () => events.push('down'));
    a.manager.on('rejected', () => events.push('rejected'));
    a.manager.on('dialFailed', () => events.push('dialFailed'));
    try {
      // Frames queued while the link is dialled, up to the send queue's bound (the rest refused),
      // then more once it is up: the peer reads none of them.
      for (let i = 0; i < 800_000; i++) a.manager.send(info, { type: 'join' });
      await eventually('the link is up or gone', () => events.length > 0);
      for (let i = 0; i < 800_000 && !events.includes('rejected'); i++)
        a.manager.send(info, { type: 'join' });
      await eventually('the link is refused', () => events.includes('rejected'));
      await eventually('the caller learns the link is gone', () =>
        events.some((e) => e === 'down' || e === 'dialFailed'),
      );
      expect(events.filter((e) => e === 'up' || e === 'down' || e === 'dialFailed')).toEqual(['up', 'down']);
      expect(a.manager.links()).toEqual([]);
    } finally {
      for (const socket of accepted) socket.destroy();
    }
  });

  it('stops waiting for a replacement link when only handshakes begun after the loss are left', async () => {
    const handshakeTimeoutMs = 300;
    const a = await pool.start({ handshakeTimeoutMs });
    const b = await pool.start();
    await link(b, a);
    let strangers = true;
    const port = Number(a.info.address.split(':').pop());
    const sockets: Socket[] = [];
    // Silent connections from the same host, one after another, each until it times out.
    const keepConnecting = (): void => {
      if (!strangers) return;
      const socket = connect({ host: LOOPBACK, port });
      socket.on('error', () => {});
      sockets.push(socket);
      setTimeout(keepConnecting, handshakeTimeoutMs / 3);
    };
    keepConnecting();
    const down = nextEvent(a.manager, 'linkDown');
    b.manager.disconnect(a.info.id); // a FIN, as when a duplicate is retired
    try {
      await down;
    } finally {
      strangers = false;
      for (const socket of sockets) socket.destroy();
    }
  });
});
