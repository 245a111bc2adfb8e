import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, LENGTH_PREFIX_BYTES } from '../../src/codec/index.js';
import type { PeerInfo } from '../../src/core/types.js';
import { generateIdentity } from '../../src/identity/identity.js';
import { SelfDialError } from '../../src/transport/link-manager.js';
import { SecureChannel } from '../../src/transport/secure-channel.js';
import {
  closedPort,
  eventually,
  gossip,
  LOOPBACK,
  link,
  ManagerPool,
  nextEvent,
  randomNodeId,
  rawNeighbour,
  recordMessages,
} from './helpers.js';

const pool = new ManagerPool();
afterEach(() => pool.closeAll());

describe('LinkManager: links and messages', () => {
  it('dials on first send and carries messages both ways over one link', async () => {
    const a = await pool.start();
    const b = await pool.start();
    const atA = recordMessages(a.manager);
    const atB = recordMessages(b.manager);
    const upAtA = nextEvent<[PeerInfo, string]>(a.manager, 'linkUp');
    const upAtB = nextEvent<[PeerInfo, string]>(b.manager, 'linkUp');

    a.manager.send(b.info, gossip(a.info.id, 1));
    const [peerAtA, directionAtA] = await upAtA;
    const [peerAtB, directionAtB] = await upAtB;
    expect(peerAtA).toEqual(b.info);
    expect(directionAtA).toBe('out');
    // B learns A's listen address from A's Hello, not A's ephemeral port.
    expect(peerAtB).toEqual(a.info);
    expect(directionAtB).toBe('in');

    await eventually('B to receive seq 1', () => atB.length === 1);
    b.manager.send(peerAtB, gossip(b.info.id, 2));
    await eventually('A to receive seq 2', () => atA.length === 1);
    expect(atA).toEqual([{ from: b.info.id, seq: 2 }]);
    expect(atB).toEqual([{ from: a.info.id, seq: 1 }]);
    expect(a.manager.stats().linksOpened).toBe(1);
    expect(b.manager.stats().linksOpened).toBe(1);
    expect(a.manager.links()).toEqual([{ peer: b.info, direction: 'out' }]);
    expect(b.manager.links()).toEqual([{ peer: a.info, direction: 'in' }]);
  });

  it('delivers every message of a burst, in order, including the ones queued before the link', async () => {
    const a = await pool.start();
    const b = await pool.start();
    const atB = recordMessages(b.manager);
    const count = 2000;
    for (let seq = 0; seq < count / 2; seq++) a.manager.send(b.info, gossip(a.info.id, seq, 100));
    await nextEvent(a.manager, 'linkUp');
    for (let seq = count / 2; seq < count; seq++) a.manager.send(b.info, gossip(a.info.id, seq, 100));
    await eventually('all messages at B', () => atB.length === count);
    expect(atB.map((m) => m.seq)).toEqual([...Array(count).keys()]);
    const stats = a.manager.stats();
    expect(stats.framesOut).toBeGreaterThanOrEqual(count + 1);
    expect(b.manager.stats().bytesIn).toBe(stats.bytesOut);
  });

  it('keeps every frame intact while a slow reader makes the socket queue them (reused send buffers)', async () => {
    const a = await pool.start();
    const { reader, peer } = await rawNeighbour(a);
    reader.socket.pause(); // the kernel buffers fill, then the socket queues our records
    const count = 400;
    const payloadBytes = 16 * 1024;
    for (let seq = 0; seq < count; seq++) a.manager.send(peer, gossip(a.info.id, seq, payloadBytes));
    expect(a.manager.stats().pendingWriteBytes).toBeGreaterThan(0);
    // Meanwhile another, fast link is sent to: it must not reuse memory a queued record is in.
    const b = await pool.start();
    const atB = recordMessages(b.manager);
    for (let seq = 0; seq < 100; seq++) a.manager.send(b.info, gossip(a.info.id, seq, payloadBytes));
    await eventually('every frame at the fast peer', () => atB.length === 100);
    reader.socket.resume();
    const gossipAtReader = () => reader.frames.filter((frame) => frame.type === 'gossip');
    await eventually('every frame at the slow reader', () => gossipAtReader().length === count);
    gossipAtReader().forEach((frame, seq) => {
      expect(frame).toMatchObject({ type: 'gossip', seq });
      const payload = frame.type === 'gossip' ? frame.payload : new Uint8Array();
      expect(payload.length).toBe(payloadBytes);
      expect(payload.every((byte) => byte === (seq & 0xff))).toBe(true);
    });
    expect(reader.failure).toBeUndefined();
  });

  it('queues at most maxSendQueueBytes for a peer it is still dialing, and drops the rest', async () => {
    const a = await pool.start({ maxSendQueueBytes: 4096 });
    const b = await pool.start();
    const atB = recordMessages(b.manager);
    // Frames of a little more than 1 KiB: three fit in the queue, the other seven are dropped.
    for (let seq = 0; seq < 10; seq++) a.manager.send(b.info, gossip(a.info.id, seq, 1024));
    expect(a.manager.stats().unsendableMessages).toBe(7);
    await eventually('the queued messages at B', () => atB.length === 3);
    expect(atB.map((m) => m.seq)).toEqual([0, 1, 2]);
  });

  it('bootstraps with dialAddress and resolves with the peer info', async () => {
    const a = await pool.start();
    const b = await pool.start();
    const upAtB = nextEvent<[PeerInfo, string]>(b.manager, 'linkUp');
    await expect(a.manager.dialAddress(b.info.address)).resolves.toEqual(b.info);
    expect(a.manager.links()).toEqual([{ peer: b.info, direction: 'out' }]);
    expect((await upAtB)[0]).toEqual(a.info);
    // The bootstrap link is an ordinary link: send() uses it rather than dialing again.
    const atB = recordMessages(b.manager);
    a.manager.send(b.info, gossip(a.info.id, 7));
    await eventually('B to receive', () => atB.length === 1);
    expect(a.manager.stats().linksOpened).toBe(1);
  });

  // The peer's address travels on in joins and shuffles: a name only this host resolves must not.
  it('knows a peer dialed by host name at the address its socket connected to', async () => {
    const a = await pool.start();
    const b = await pool.start();
    const port = b.info.address.slice(b.info.address.lastIndexOf(':') + 1);
    await expect(a.manager.dialAddress(`localhost:${port}`)).resolves.toEqual(b.info);
    expect(a.manager.links()).toEqual([{ peer: b.info, direction: 'out' }]);
  });

  it('rejects dialAddress to a closed port, to a malformed address, and to itself', async () => {
    const a = await pool.start();
    const port = await closedPort();
    await expect(a.manager.dialAddress(`${LOOPBACK}:${port}`)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    await expect(a.manager.dialAddress('not an address')).rejects.toThrow(/malformed/);
    const rejected: string[] = [];
    a.manager.on('rejected', (_remote, detail) => rejected.push(detail));
    const failuresBefore = a.manager.stats().handshakeFailures;
    const self = a.manager.dialAddress(a.info.address);
    await expect(self).rejects.toBeInstanceOf(SelfDialError);
    await expect(self).rejects.toThrow(`${a.info.address} is this node's own address`);
    expect(a.manager.links()).toEqual([]);
    // Both ends of the self-connection end it, and neither takes it for a peer with a copied key.
    expect(a.manager.stats().handshakeFailures - failuresBefore).toBe(2);
    expect(rejected).toEqual([]);
    expect(a.manager.stats().rejections['protocol-violation']).toBe(0);
  });

  it('knows itself behind a dual-stack listener, where the two ends see different addresses', async () => {
    const a = await pool.start({ host: '::' });
    const port = a.info.address.split(':').pop();
    // The dialing end sees 127.0.0.1, the accepting end ::ffff:127.0.0.1.
    await expect(a.manager.dialAddress(`${LOOPBACK}:${port}`)).rejects.toBeInstanceOf(SelfDialError);
    expect(a.manager.stats().rejections['protocol-violation']).toBe(0);
  });

  it('still refuses another node that holds its key, as a protocol violation', async () => {
    const identity = generateIdentity();
    const a = await pool.start({ identity });
    const copy = await pool.start({ identity });
    await expect(a.manager.dialAddress(copy.info.address)).rejects.toThrow(/own id/);
    await eventually(
      'the copy to refuse too',
      () => copy.manager.stats().rejections['protocol-violation'] === 1,
    );
  });

  it('reports dialFailed when the peer is unreachable, and drops its queue', async () => {
    const a = await pool.start();
    const ghost = { id: randomNodeId(), address: `${LOOPBACK}:${await closedPort()}` };
    const failed = nextEvent<[PeerInfo, Error]>(a.manager, 'dialFailed');
    a.manager.send(ghost, gossip(a.info.id, 1));
    a.manager.send(ghost, gossip(a.info.id, 2)); // same pending dial, not a second one
    const [peer, error] = await failed;
    expect(peer).toEqual(ghost);
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    expect(a.manager.stats().handshakeFailures).toBe(1);
  });

  it('fails a dial to a listener that never says Hello, after the handshake timeout', async () => {
    const mute = createServer((socket) => socket.on('error', () => {}));
    await new Promise<void>((resolve) => mute.listen(0, LOOPBACK, resolve));
    const address = mute.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const a = await pool.start({ handshakeTimeoutMs: 100 });
      const rejected: unknown[] = [];
      a.manager.on('rejected', (...args) => rejected.push(args));
      const peer = { id: randomNodeId(), address: `${LOOPBACK}:${port}` };
      const failed = nextEvent<[PeerInfo, Error]>(a.manager, 'dialFailed');
      a.manager.send(peer, gossip(a.info.id, 1));
      expect((await failed)[1].message).toMatch(/no hello within 100 ms/);
      await expect(a.manager.dialAddress(peer.address)).rejects.toThrow(/no hello/);
      // A dial of ours that times out is a failed dial, not a rejected stranger.
      expect(rejected).toEqual([]);
    } finally {
      mute.close();
    }
  });

  it('never dials itself', async () => {
    const a = await pool.start();
    const failed = nextEvent<[PeerInfo, Error]>(a.manager, 'dialFailed');
    a.manager.send(a.info, gossip(a.info.id, 1));
    const [peer, error] = await failed;
    expect(peer).toEqual(a.info);
    expect(error.message).toMatch(/itself/);
    expect(a.manager.stats().framesOut).toBe(0);
  });

  it('reports dialFailed for a peer whose address is malformed', async () => {
    const a = await pool.start();
    const peer = { id: randomNodeId(), address: 'not an address' };
    const failed = nextEvent<[PeerInfo, Error]>(a.manager, 'dialFailed');
    a.manager.send(peer, gossip(a.info.id, 1));
    const [who, error] = await failed;
    expect(who).toEqual(peer);
    expect(error.message).toMatch(/malformed address/);
  });

  it('fails a dial whose address answers with another id', async () => {
    const a = await pool.start();
    const b = await pool.start();
    const stale = { id: randomNodeId(), address: b.info.address };
    const failed = nextEvent<[PeerInfo, Error]>(a.manager, 'dialFailed');
    a.manager.send(stale, gossip(a.info.id, 1));
    const [peer, error] = await failed;
    expect(peer).toEqual(stale);
    expect(error.message).toContain(b.info.id);
    expect(a.manager.links()).toEqual([]);
  });

  it('drops a message the codec refuses instead of throwing', async () => {
    const a = await pool.start({ maxFrameBytes: 1024 });
    const b = await pool.start();
    a.manager.send(b.info, { type: 'graft', origin: 'not-an-id', seq: 1, request: true });
    a.manager.send(b.info, gossip(a.info.id, 1, 2048));
    expect(a.manager.stats().unsendableMessages).toBe(2);
    expect(a.manager.stats().framesOut).toBe(0);
  });

  it('refuses a second listen()', async () => {
    const a = await pool.start();
    await expect(a.manager.listen()).rejects.toThrow(/already listening/);
  });

  it('queues for a peer still dialing until its sealed frames fill maxSendQueueBytes exactly', async () => {
    const identity = generateIdentity();
    const frame = encodeFrame(gossip(identity.id, 0, 1024));
    const sealed = SecureChannel.sealedLength(frame.length - LENGTH_PREFIX_BYTES);
    const a = await pool.start({ identity, maxSendQueueBytes: 3 * sealed });
    const b = await pool.start();
    const atB = recordMessages(b.manager);
    // Three frames fill the queue to the byte: all three are kept, the fourth is dropped.
    for (let seq = 0; seq < 4; seq++) a.manager.send(b.info, gossip(a.info.id, seq, 1024));
    expect(a.manager.stats().unsendableMessages).toBe(1);
    await eventually('the queued messages at B', () => atB.length === 3);
    expect(atB.map((m) => m.seq)).toEqual([0, 1, 2]);
  });

  it('sends a frame that fills an empty send queue to exactly maxSendQueueBytes', async () => {
    const identity = generateIdentity();
    const frame = encodeFrame(gossip(identity.id, 1, 4096));
    const maxSendQueueBytes = SecureChannel.sealedLength(frame.length - LENGTH_PREFIX_BYTES);
    const a = await pool.start({ identity, maxSendQueueBytes });
    const b = await pool.start();
    await link(a, b);
    await eventually(
      "A's socket to have handed everything to the kernel",
      () => a.manager.stats().pendingWriteBytes === 0,
    );
    const atB = recordMessages(b.manager);
    a.manager.send(b.info, gossip(a.info.id, 1, 4096));
    await eventually('B to receive it', () => atB.length === 1);
    expect(a.manager.stats().rejections['send-queue-full']).toBe(0);
    expect(a.manager.links()).toHaveLength(1);
  });

  it('sends the frames queued before the link ahead of those sent from a linkUp listener', async () => {
    const a = await pool.start();
    const b = await pool.start();
    const atB = recordMessages(b.manager);
    a.manager.once('linkUp', (peer) => a.manager.send(peer, gossip(a.info.id, 3)));
    a.manager.send(b.info, gossip(a.info.id, 1));
    a.manager.send(b.info, gossip(a.info.id, 2));
    await eventually('all three at B', () => atB.length === 3);
    expect(atB.map((m) => m.seq)).toEqual([1, 2, 3]);
  });
});
