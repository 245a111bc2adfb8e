import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { WireMessage } from '../../src/core/messages.js';
import type { PeerInfo } from '../../src/core/types.js';
import {
  DEFAULT_MAX_PENDING_HANDSHAKES_PER_HOST,
  DEFAULT_MEMBERSHIP_REQUEST_BURST,
} from '../../src/transport/defaults.js';
import {
  eventually,
  gossip,
  LOOPBACK,
  link,
  ManagerPool,
  nextEvent,
  RawPeer,
  randomNodeId,
  rawNeighbour,
  rawSocket,
  recordMessages,
} from './helpers.js';

const pool = new ManagerPool();
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await pool.closeAll();
});

/** Another loopback address: an attacker that is a different host from the honest peers on 127.0.0.1. */
const ATTACKER_HOST = '127.0.0.2';

/** A TCP connection from `localAddress` that never sends a byte: a handshake left half done. */
function silentConnection(address: string, localAddress = ATTACKER_HOST): Promise<Socket> {
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  const socket = connect({ host: LOOPBACK, port, localAddress });
  socket.on('error', () => {});
  sockets.push(socket);
  return new Promise((resolve) => {
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => resolve(socket));
  });
}

describe('LinkManager: limits', () => {
  it('disconnects a peer that stops reading once its send queue is full, and frees the queue', async () => {
    const maxSendQueueBytes = 256 * 1024;
    const a = await pool.start({ maxSendQueueBytes });
    const { reader, peer } = await rawNeighbour(a);
    reader.socket.pause(); // reads nothing more, ever: the kernel buffers fill, then ours
    const down = nextEvent<[PeerInfo, string]>(a.manager, 'linkDown');
    const rejected = nextEvent<[string, string, string]>(a.manager, 'rejected');
    let sent = 0;
    // At most 64 MiB: far beyond the kernel's buffers and the limit, should the limit fail.
    while (a.manager.links().length > 0 && sent < 4096) {
      a.manager.send(peer, gossip(a.info.id, sent++, 16 * 1024));
      if (sent % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await down).toEqual([peer, 'error']);
    expect((await rejected)[2]).toBe('send-queue-full');
    expect(a.manager.stats().rejections['send-queue-full']).toBe(1);
    // Never more than the limit queued in user space, and nothing once the socket is gone.
    await eventually('the queue to be freed', () => a.manager.stats().pendingWriteBytes === 0);
  });

  it('lets honest peers link while another host holds hundreds of half-done handshakes', async () => {
    const b = await pool.start();
    const attempts = 300;
    const attack = Array.from({ length: attempts }, () => silentConnection(b.info.address));
    await Promise.all(attack);
    await eventually('the excess to be refused', () => {
      const s = b.manager.stats();
      return s.rejections['too-many-handshakes'] >= attempts - DEFAULT_MAX_PENDING_HANDSHAKES_PER_HOST;
    });
    expect(b.manager.stats().pendingHandshakes).toBeLessThanOrEqual(DEFAULT_MAX_PENDING_HANDSHAKES_PER_HOST);
    // Three honest peers on another host join while the attacker's handshakes are still open.
    const honest = await Promise.all([pool.start(), pool.start(), pool.start()]);
    for (const peer of honest) await link(peer, b);
    expect(b.manager.links()).toHaveLength(3);
    expect(b.manager.stats().pendingHandshakes).toBeLessThanOrEqual(DEFAULT_MAX_PENDING_HANDSHAKES_PER_HOST);
  });

  it('caps the handshakes in progress from all hosts together', async () => {
    const b = await pool.start({ maxPendingHandshakes: 3 });
    const rejected: string[] = [];
    b.manager.on('rejected', (_remote, _reason, code) => rejected.push(code));
    // Five hosts, one half-done handshake each: every host is within its own limit.
    for (let i = 0; i < 5; i++) await silentConnection(b.info.address, `127.0.0.${10 + i}`);
    await eventually('two handshakes refused', () => rejected.length === 2);
    expect(rejected).toEqual(['too-many-handshakes', 'too-many-handshakes']);
    expect(b.manager.stats().pendingHandshakes).toBe(3);
  });

  it('caps the connections from one host', async () => {
    const b = await pool.start({ maxLinksPerHost: 4 });
    const rejected: string[] = [];
    b.manager.on('rejected', (_remote, _reason, code) => rejected.push(code));
    for (let i = 0; i < 6; i++) await silentConnection(b.info.address);
    await eventually('two connections refused', () => rejected.length === 2);
    expect(rejected).toEqual(['too-many-links-from-host', 'too-many-links-from-host']);
  });

  it('drops membership requests above the per-peer rate, and still delivers everything else', async () => {
    const b = await pool.start();
    const flooder = await RawPeer.dial(b.info.address);
    flooder.hello();
    const joins: string[] = [];
    b.manager.on('message', (_from, message) => {
      if (message.type === 'join') joins.push(message.type);
    });
    const atB = recordMessages(b.manager);
    const flood = 2000;
    for (let i = 0; i < flood; i++) flooder.send({ type: 'join' });
    flooder.send(gossip(flooder.id, 1));
    await eventually('the gossip after the flood', () => atB.length === 1);
    // The burst, plus what the rate refilled while the flood was read: far below the flood.
    expect(joins.length).toBeGreaterThanOrEqual(DEFAULT_MEMBERSHIP_REQUEST_BURST);
    expect(joins.length).toBeLessThan(flood / 4);
    expect(b.manager.stats().rejections['rate-limited']).toBe(flood - joins.length);
    expect(b.manager.links()).toHaveLength(1);
  });

  // An unasked ShuffleReply: any peer may send one. A Relink resets the peer in every tree we keep.
  // The others ask for membership work as a Join does: a walk to pass on, a neighbour to take, an
  // overlay tag to answer or to pass on to every neighbour.
  const named: PeerInfo = { id: randomNodeId(), address: `${LOOPBACK}:4000` };
  it.each<[string, WireMessage]>([
    ['unasked ShuffleReplies', { type: 'shuffleReply', peers: [] }],
    ['Relinks', { type: 'relink' }],
    ['ForwardJoins', { type: 'forwardJoin', peer: named, ttl: 3 }],
    ['Neighbor requests', { type: 'neighbor', priority: 'low' }],
    ['Shuffles', { type: 'shuffle', origin: named, ttl: 3, peers: [] }],
    ['OverlayTags', { type: 'overlayTag', tag: randomNodeId(), probe: true }],
  ])('drops %s above the per-peer rate too', async (_what, request) => {
    const b = await pool.start();
    const flooder = await RawPeer.dial(b.info.address);
    flooder.hello();
    let taken = 0;
    b.manager.on('message', (_from, message) => {
      if (message.type === request.type) taken++;
    });
    const atB = recordMessages(b.manager);
    const flood = 2000;
    for (let i = 0; i < flood; i++) flooder.send(request);
    flooder.send(gossip(flooder.id, 1));
    await eventually('the gossip after the flood', () => atB.length === 1);
    expect(taken).toBeGreaterThanOrEqual(DEFAULT_MEMBERSHIP_REQUEST_BURST);
    expect(taken).toBeLessThan(flood / 4);
    expect(b.manager.stats().rejections['rate-limited']).toBe(flood - taken);
  });

  it("reports backlog while a link's queue is above the high-water mark, then 'drain'", async () => {
    const a = await pool.start({ sendHighWaterBytes: 64 * 1024 });
    const b = await pool.start();
    await link(a, b);
    expect(a.manager.backlogged()).toBe(false);
    for (let seq = 0; seq < 64; seq++) a.manager.send(b.info, gossip(a.info.id, seq, 64 * 1024));
    expect(a.manager.backlogged()).toBe(true);
    await nextEvent(a.manager, 'drain');
    expect(a.manager.backlogged()).toBe(false);
  });

  it("counts only a host's inbound connections against its caps, not this node's own links to it", async () => {
    const b = await pool.start({ maxLinksPerHost: 1, maxPendingHandshakesPerHost: 1 });
    const a = await pool.start();
    await link(b, a); // B's own link to a node on LOOPBACK
    // B's own dial to a listener on LOOPBACK that never answers: a handshake of B's in progress.
    const mute = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => mute.listen(0, LOOPBACK, resolve));
    try {
      const port = (mute.address() as AddressInfo).port;
      b.manager.send({ id: randomNodeId(), address: `${LOOPBACK}:${port}` }, { type: 'join' });
      expect(b.manager.stats().pendingHandshakes).toBe(0); // only inbound ones count
      const rejected: string[] = [];
      b.manager.on('rejected', (_remote, _reason, code) => rejected.push(code));
      // Another node on the same host: the first inbound connection and handshake from it.
      await link(await pool.start(), b);
      expect(rejected).toEqual([]);
      expect(b.manager.links()).toHaveLength(2);
    } finally {
      mute.close();
    }
  });

  it("emits 'drain' only once no link is backlogged any more", async () => {
    const a = await pool.start({ sendHighWaterBytes: 64 * 1024 });
    const readers = [await rawNeighbour(a), await rawNeighbour(a)];
    for (const { reader, peer } of readers) {
      sockets.push(reader.socket);
      reader.socket.pause(); // never reads again: its queue cannot drain by itself
      for (let seq = 0; seq < 400; seq++) a.manager.send(peer, gossip(a.info.id, seq, 16 * 1024));
    }
    let drains = 0;
    a.manager.on('drain', () => drains++);
    const [first, second] = readers as [(typeof readers)[0], (typeof readers)[0]];
    a.manager.disconnect(first.peer.id);
    expect(drains).toBe(0); // the other link is still backlogged
    expect(a.manager.backlogged()).toBe(true);
    a.manager.disconnect(second.peer.id);
    expect(drains).toBe(1);
    expect(a.manager.backlogged()).toBe(false);
  });

  it('stops counting a handshake as pending as soon as it is refused, before its socket has closed', async () => {
    const b = await pool.start({ handshakeTimeoutMs: 150 });
    const rejected = nextEvent<[string, string, string]>(b.manager, 'rejected');
    sockets.push(await rawSocket(b.info.address)); // says nothing: refused at the handshake timeout
    await eventually('B to take the connection', () => b.manager.stats().pendingHandshakes === 1);
    expect((await rejected)[2]).toBe('timeout');
    // The socket's 'close' comes a turn of the event loop later: the refusal itself frees the slot.
    expect(b.manager.stats().pendingHandshakes).toBe(0);
  });
});
