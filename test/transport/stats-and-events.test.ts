import { type Socket, connect as tcpConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerInfo } from '../../src/core/types.js';
import { generateIdentity } from '../../src/identity/identity.js';
import { SEND_WAIT_MAX_IDLE_TIMEOUTS } from '../../src/transport/defaults.js';
import {
  closedPort,
  DEADLINE_MS,
  eventually,
  gossip,
  LOOPBACK,
  link,
  ManagerPool,
  nextEvent,
  RawPeer,
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

describe('LinkManager: behaviour found untested by mutation', () => {
  it('counts the writes the socket pushed back on in stats().backpressuredWrites', async () => {
    const a = await pool.start();
    const { reader, peer } = await rawNeighbour(a);
    sockets.push(reader.socket);
    reader.socket.pause(); // reads nothing: the kernel buffers fill, then the socket's own
    expect(a.manager.stats().backpressuredWrites).toBe(0);
    // 6.4 MB, within maxSendQueueBytes (8 MiB) but more than loopback's kernel buffers take.
    for (let seq = 0; seq < 400; seq++) a.manager.send(peer, gossip(a.info.id, seq, 16 * 1024));
    expect(a.manager.stats().pendingWriteBytes).toBeGreaterThan(0);
    expect(a.manager.stats().backpressuredWrites).toBeGreaterThan(0);
  });

  it("does not announce rate-limited requests as 'rejected': they only count", async () => {
    const b = await pool.start();
    const rejected: string[] = [];
    b.manager.on('rejected', (_remote, reason) => rejected.push(reason));
    const flooder = await RawPeer.dial(b.info.address);
    sockets.push(flooder.socket);
    flooder.hello();
    const atB = recordMessages(b.manager);
    for (let i = 0; i < 500; i++) flooder.send({ type: 'join' });
    flooder.send(gossip(flooder.id, 1));
    await eventually('the gossip after the flood', () => atB.length === 1);
    expect(b.manager.stats().rejections['rate-limited']).toBeGreaterThan(0);
    expect(rejected).toEqual([]);
    expect(b.manager.links()).toHaveLength(1);
  });

  it("emits 'drain' at once when disconnect() retires the only backlogged link", async () => {
    const a = await pool.start({ sendHighWaterBytes: 64 * 1024 });
    const { reader, peer } = await rawNeighbour(a);
    sockets.push(reader.socket);
    reader.socket.pause(); // never reads again: its queue cannot drain by itself
    for (let seq = 0; seq < 400; seq++) a.manager.send(peer, gossip(a.info.id, seq, 16 * 1024));
    expect(a.manager.backlogged()).toBe(true);
    let drained = false;
    a.manager.on('drain', () => {
      drained = true;
    });
    a.manager.disconnect(peer.id);
    // A sender awaiting 'drain' (MeshNode.drained()) must not wait for the retired link's linger.
    expect(drained).toBe(true);
    expect(a.manager.backlogged()).toBe(false);
  });

  it('ends a retired link whose peer keeps talking but never reads, after SEND_WAIT_MAX_IDLE_TIMEOUTS', async () => {
    const IDLE_MS = 200;
    const a = await pool.start({ idleTimeoutMs: IDLE_MS, keepAliveIntervalMs: 50 });
    const { reader, peer } = await rawNeighbour(a);
    sockets.push(reader.socket);
    const pinger = setInterval(() => reader.send({ type: 'ping' }), 50);
    try {
      reader.socket.pause(); // alive, but reads nothing, ever
      for (let seq = 0; seq < 400; seq++) a.manager.send(peer, gossip(a.info.id, seq, 16 * 1024));
      expect(a.manager.stats().pendingWriteBytes).toBeGreaterThan(0);
      const closed = nextEvent(
        reader.socket,
        'close',
        () => true,
        SEND_WAIT_MAX_IDLE_TIMEOUTS * IDLE_MS + 3_000,
      );
      a.manager.disconnect(peer.id);
      await closed;
      await eventually('the queue freed', () => a.manager.stats().pendingWriteBytes === 0);
    } finally {
      clearInterval(pinger);
    }
  });

  it('does not count a dial that never completed its handshake in stats().linksClosed', async () => {
    const a = await pool.start();
    const port = await closedPort();
    await expect(a.manager.dialAddress(`127.0.0.1:${port}`)).rejects.toThrow();
    await a.manager.settle(DEADLINE_MS); // resolves once the failed dial's socket has closed
    expect(a.manager.stats().handshakeFailures).toBe(1);
    expect(a.manager.stats().linksOpened).toBe(0);
    expect(a.manager.stats().linksClosed).toBe(0);
  });

  it('counts a protocol violation on an established link in stats().malformedFrames, not one in the handshake', async () => {
    const b = await pool.start();
    const early = await RawPeer.dial(b.info.address);
    sockets.push(early.socket);
    const firstRejected = nextEvent<[string, string]>(b.manager, 'rejected');
    early.send({ type: 'join' }); // a first frame that is not a Hello: still handshaking
    expect((await firstRejected)[1]).toMatch(/^protocol-violation: first frame is join/);
    expect(b.manager.stats().malformedFrames).toBe(0);
    const late = await RawPeer.dial(b.info.address);
    sockets.push(late.socket);
    late.hello();
    await nextEvent(b.manager, 'linkUp');
    const secondRejected = nextEvent<[string, string]>(b.manager, 'rejected');
    late.hello(); // a second Hello on the established link
    expect((await secondRejected)[1]).toMatch(/^protocol-violation: second hello/);
    expect(b.manager.stats().malformedFrames).toBe(1);
  });

  it("takes a Ping as a sign of life only: it counts as a frame in, never reaches 'message'", async () => {
    const b = await pool.start();
    const { reader } = await rawNeighbour(b);
    sockets.push(reader.socket);
    const types: string[] = [];
    b.manager.on('message', (_from, message) => types.push(message.type));
    const framesBefore = b.manager.stats().framesIn;
    reader.send({ type: 'ping' });
    reader.send(gossip(reader.id, 1));
    await eventually('the gossip after the ping', () => types.length > 0);
    expect(types).toEqual(['gossip']);
    expect(b.manager.stats().framesIn - framesBefore).toBe(2);
  });

  it('does not take a retired link back when its peer links again while the old socket lingers', async () => {
    const a = await pool.start();
    const identity = generateIdentity();
    // The first link's socket is half open: our FIN does not end it, so A's retired link lingers.
    const port = Number(a.info.address.slice(a.info.address.lastIndexOf(':') + 1));
    const halfOpen = tcpConnect({ host: LOOPBACK, port, allowHalfOpen: true });
    sockets.push(halfOpen);
    await nextEvent(halfOpen, 'connect');
    const first = new RawPeer(halfOpen, true, identity);
    await first.secured;
    const firstUp = nextEvent<[PeerInfo]>(a.manager, 'linkUp');
    first.hello();
    const [peer] = await firstUp;
    a.manager.disconnect(peer.id);
    const second = await RawPeer.dial(a.info.address, identity);
    sockets.push(second.socket);
    const secondUp = nextEvent(a.manager, 'linkUp');
    second.hello();
    await secondUp;
    // The older link would win the duplicate rule (both inbound), were a retired link a candidate.
    const delivered = nextEvent(second, 'frame', (message: { type: string }) => message.type === 'gossip');
    a.manager.send(peer, gossip(a.info.id, 1));
    await delivered;
    expect(a.manager.stats().duplicateLinksResolved).toBe(0);
  });

  it('counts a connection refused on arrival in stats().handshakeFailures', async () => {
    const b = await pool.start({ maxLinksPerHost: 1 });
    const first = await RawPeer.dial(b.info.address); // holds the one connection the host may have
    sockets.push(first.socket);
    const refused = nextEvent<[string, string, string]>(b.manager, 'rejected');
    sockets.push(await rawSocket(b.info.address)); // refused at once, before any byte
    expect((await refused)[2]).toBe('too-many-links-from-host');
    expect(b.manager.stats().handshakeFailures).toBe(1);
  });

  it('ends a retired link whose peer neither ends it nor talks after one idle timeout', async () => {
    const IDLE_MS = 500;
    const a = await pool.start({ idleTimeoutMs: IDLE_MS, keepAliveIntervalMs: 100 });
    const identity = generateIdentity();
    // Half open: our FIN does not end the peer's side, and the peer says nothing more.
    const port = Number(a.info.address.slice(a.info.address.lastIndexOf(':') + 1));
    const halfOpen = tcpConnect({ host: LOOPBACK, port, allowHalfOpen: true });
    sockets.push(halfOpen);
    await nextEvent(halfOpen, 'connect');
    const peer = new RawPeer(halfOpen, true, identity);
    await peer.secured;
    const up = nextEvent<[PeerInfo]>(a.manager, 'linkUp');
    peer.hello();
    await up;
    const since = performance.now();
    a.manager.disconnect(identity.id);
    await eventually('the retired link to close', () => a.manager.stats().linksClosed === 1);
    // One idle timeout and a tick, not the SEND_WAIT_MAX_IDLE_TIMEOUTS a talking peer may have.
    expect(performance.now() - since).toBeLessThan(3 * IDLE_MS);
  });

  it('stops its housekeeping timer once its last socket has closed', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
    const before = timers();
    const a = await pool.start();
    const b = await pool.start();
    await link(a, b);
    expect(timers()).toBeGreaterThan(before);
    b.manager.disconnect(a.info.id);
    for (const m of [a.manager, b.manager]) await m.settle(DEADLINE_MS);
    expect(a.manager.stats().linksClosed + b.manager.stats().linksClosed).toBe(2);
    // Nothing left to look after: no timer keeps the process alive, though neither was closed.
    expect(timers()).toBeLessThanOrEqual(before);
  });
});
