import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerInfo } from '../../src/core/types.js';
import { generateIdentity } from '../../src/identity/identity.js';
import {
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

/** Our manager has an 'out' link to the raw peer, the peer has retired it, its own dial is handshaking. */
async function peerRetiresOurLink() {
  // The raw peer has the smaller id, so the link it dials wins and the one we dial is the duplicate.
  const [peerIdentity, ourIdentity] = orderedIdentities();
  const PEER_ID = peerIdentity.id;
  const OUR_ID = ourIdentity.id;
  const us = await pool.start({ identity: ourIdentity });
  const events: string[] = [];
  us.manager.on('linkUp', (_peer, direction) => events.push(`up ${direction}`));
  us.manager.on('linkDown', (_peer, reason) => events.push(`down ${reason}`));

  const accepted = new Promise<Socket>((resolve) => {
    const server = createServer((socket) => resolve(socket));
    servers.push(server);
    server.listen(0, LOOPBACK);
  });
  const server = servers[0] as Server;
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
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
  return { us, peer, events, winner: winnerPeer, onWinner, PEER_ID, OUR_ID };
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
