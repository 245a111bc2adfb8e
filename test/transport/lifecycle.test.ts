import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerInfo } from '../../src/core/types.js';
import { generateIdentity } from '../../src/identity/identity.js';
import { eventually, gossip, LOOPBACK, link, ManagerPool, RawPeer, rawNeighbour } from './helpers.js';

const pool = new ManagerPool();
const HANDSHAKE_TIMEOUT_MS = 500;
const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await pool.closeAll();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A raw listener on loopback; resolves with its port and the first socket it accepts. */
async function rawListener(): Promise<{ port: number; accepted: Promise<Socket> }> {
  let onAccept: (socket: Socket) => void = () => {};
  const accepted = new Promise<Socket>((resolve) => {
    onAccept = resolve;
  });
  const server = createServer((socket) => {
    sockets.push(socket);
    onAccept(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return { port: (server.address() as AddressInfo).port, accepted };
}

/**
 * Us linked to Q, a send() dial from us to P held in its handshake (P is a raw listener on Q's
 * host), then Q's FIN: by design Q stays up while that dial might be Q's replacement link.
 */
async function waitingOnDialToSameHost() {
  const us = await pool.start({ handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
  const q = await pool.start();
  await link(q, us);
  const downs: [string, string][] = [];
  us.manager.on('linkDown', (peer, reason) => downs.push([peer.id, reason]));
  const pIdentity = generateIdentity();
  const { port, accepted } = await rawListener();
  const p: PeerInfo = { id: pIdentity.id, address: `${LOOPBACK}:${port}` };
  us.manager.send(p, gossip(us.info.id, 1));
  const pSocket = await accepted;
  q.manager.disconnect(us.info.id);
  await eventually("us to process Q's FIN", () => q.manager.stats().linksClosed === 1);
  expect(us.manager.links().map((l) => l.peer.id)).toEqual([q.info.id]);
  return { us, q, p, pIdentity, port, pSocket, downs };
}

describe('LinkManager life cycle', () => {
  it('reports the waiting peer down within disconnect() that turns its only replacement candidate into a drain dial', async () => {
    const { us, q, p, downs } = await waitingOnDialToSameHost();
    us.manager.disconnect(p.id);
    // Nothing can replace Q's link any more: known at once, not when the drain dial ends.
    expect(downs).toEqual([[q.info.id, 'remote']]);
    expect(us.manager.links()).toEqual([]);
  });

  it('reports a peer down once the only handshake its replacement wait relied on becomes a drain dial', async () => {
    const { us, q, p, pIdentity, port, pSocket, downs } = await waitingOnDialToSameHost();

    // The node disconnects P while its dial is still handshaking: the dial now only drains frames.
    us.manager.disconnect(p.id);
    const raw = new RawPeer(pSocket, false, pIdentity);
    await raw.secured;
    const pEnded = new Promise((resolve) => pSocket.once('end', resolve));
    raw.hello(port);
    await pEnded; // the drain dial completed, wrote its frame and was ended by us
    expect(raw.frames.map((f) => f.type)).toEqual(['hello', 'gossip']);

    // No handshake is left that could replace Q's link, and none will end: Q must be reported down,
    // at the latest once any handshake begun before the loss would have timed out.
    // Before, nothing looked again: Q stayed up with no link until some unrelated handshake ended.
    await eventually('Q to be reported down', () => downs.length > 0, 4 * HANDSHAKE_TIMEOUT_MS);
    expect(downs).toEqual([[q.info.id, 'remote']]);
    expect(us.manager.links()).toEqual([]);
  });

  it('a queue filled within maxSendQueueBytes while dialling does not get a reading peer cut off', async () => {
    const maxSendQueueBytes = 4 * 1024 * 1024;
    const a = await pool.start({ maxSendQueueBytes });
    const b = await pool.start();
    const events: string[] = [];
    a.manager.on('linkUp', () => events.push('up'));
    a.manager.on('dialFailed', () => events.push('dialFailed'));
    a.manager.on('rejected', (_remote, _detail, code) => events.push(`rejected ${code}`));
    // Send until the queue for the peer being dialled refuses: everything accepted was promised.
    // Before, the queue counted frames unsealed, and its flush overflowed the send queue it filled.
    let accepted = 0;
    while (a.manager.stats().unsendableMessages === 0) {
      a.manager.send(b.info, { type: 'join' });
      accepted++;
    }
    accepted--; // the last one was refused
    await eventually('the dial to end', () => events.includes('up') || events.includes('dialFailed'));
    expect(events).toEqual(['up']);
    // B reads every frame promptly; all of them arrive (Hello first).
    await eventually('every queued frame at B', () => b.manager.stats().framesIn >= accepted + 1, 20_000);
  });

  it('disconnect() does not destroy a link that is still alive and draining its queued frames', async () => {
    const IDLE_MS = 1_000;
    const a = await pool.start({ idleTimeoutMs: IDLE_MS, keepAliveIntervalMs: 200 });
    const { reader, peer } = await rawNeighbour(a);
    sockets.push(reader.socket);
    // The peer is alive and says so every 50 ms, but reads slowly: for now, not at all.
    const pinger = setInterval(() => reader.send({ type: 'ping' }), 50);
    try {
      reader.socket.pause();
      const count = 400; // 6.4 MB: more than the kernel buffers, so most of it waits in ours
      for (let seq = 0; seq < count; seq++) a.manager.send(peer, gossip(a.info.id, seq, 16 * 1024));
      expect(a.manager.stats().pendingWriteBytes).toBeGreaterThan(0);
      a.manager.disconnect(peer.id);
      let closed = false;
      reader.socket.once('close', () => {
        closed = true;
      });
      // The duration under test (not a synchronisation): three idle timeouts during which the peer
      // keeps talking. Before, the link was destroyed one idle timeout after disconnect().
      const since = performance.now();
      await eventually('three idle timeouts', () => performance.now() - since > 3 * IDLE_MS);
      reader.socket.resume();
      const gossipAtReader = () => reader.frames.filter((f) => f.type === 'gossip').length;
      await eventually('every frame, or the end of the link', () => closed || gossipAtReader() === count);
      await eventually('the end of the link', () => closed);
      expect(gossipAtReader()).toBe(count);
    } finally {
      clearInterval(pinger);
    }
  });
});
