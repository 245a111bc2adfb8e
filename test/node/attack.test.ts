import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { encodeBeacon } from '../../src/codec/beacon.js';
import type { WireMessage } from '../../src/core/messages.js';
import { generateIdentity } from '../../src/identity/identity.js';
import { DEFAULT_MAX_PENDING_HANDSHAKES_PER_HOST } from '../../src/transport/defaults.js';
import { TestMesh } from '../helpers/mesh.js';
import { RawPeer, rawSocket } from '../transport/helpers.js';

/**
 * A live node under a bounded-time attack over TCP and UDP from hosts of its own (other loopback
 * addresses): garbage, truncated and oversized records, valid frames in the wrong order, floods of
 * JOIN and SHUFFLE from authenticated peers, and floods of beacons. It must stay up, keep its memory
 * bounded, and deliver a broadcast sent during the attack to every honest peer.
 */

const ATTACK_MS = 2_000;
const ATTACKER = '127.0.0.3';

let mesh: TestMesh;
afterEach(async () => {
  await mesh?.stopAll();
});

function sendRaw(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: ATTACKER }, () => socket.end(bytes));
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.resume();
  });
}

/** An authenticated attacker that sends `frames` in this order, then closes. */
async function sendFrames(address: string, frames: (peer: RawPeer) => WireMessage[]): Promise<void> {
  const peer = new RawPeer(await rawSocket(address), true, generateIdentity());
  try {
    await peer.secured;
    for (const frame of frames(peer)) peer.send(frame);
  } catch {
    // The node may cut the attacker off at any point: that is the point.
  }
  await new Promise<void>((resolve) => {
    peer.socket.once('close', () => resolve());
    peer.socket.end();
  });
}

const junkPeer = () => ({
  id: randomBytes(32).toString('hex'),
  address: `127.0.0.1:${1 + (randomBytes(2).readUInt16BE() % 1000)}`,
});

async function tcpAttack(address: string, until: number): Promise<void> {
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  const oversize = Buffer.from([0x7f, 0xff, 0xff, 0xff]);
  while (Date.now() < until) {
    await Promise.all([
      sendRaw(port, randomBytes(1 + (randomBytes(1)[0] as number))),
      sendRaw(port, oversize),
      sendRaw(port, Buffer.from([0, 0, 0, 32, 1, 2, 3])), // a first handshake message cut short
      sendFrames(address, () => [{ type: 'join' }]), // membership before Hello
      sendFrames(address, (p) => [
        { type: 'hello', id: p.id, listenPort: 1 },
        { type: 'hello', id: p.id, listenPort: 1 },
      ]),
      sendFrames(address, (p) => [
        { type: 'hello', id: p.id, listenPort: 1 },
        ...Array.from({ length: 300 }, (): WireMessage => ({ type: 'join' })),
        ...Array.from(
          { length: 300 },
          (): WireMessage => ({
            type: 'shuffle',
            origin: junkPeer(),
            ttl: 3,
            peers: [junkPeer(), junkPeer()],
          }),
        ),
      ]),
    ]);
  }
}

async function udpAttack(group: string, port: number, until: number): Promise<number> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => socket.bind(0, ATTACKER, resolve));
  socket.setMulticastInterface('127.0.0.1');
  socket.setMulticastTTL(1);
  let sent = 0;
  while (Date.now() < until) {
    const batch = Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0
        ? randomBytes(1 + ((randomBytes(1)[0] as number) % 80))
        : encodeBeacon({
            id: randomBytes(32).toString('hex'),
            port: 1 + i,
            wantsPeers: true,
            tag: randomBytes(32).toString('hex'),
          }),
    );
    for (const datagram of batch) {
      await new Promise<void>((resolve) => socket.send(datagram, port, group, () => resolve()));
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, 10)); // pacing: a flood, not a busy loop
  }
  socket.close();
  return sent;
}

it('stays up with bounded memory under attack, and still delivers to every honest peer', async () => {
  mesh = new TestMesh();
  const nodes = await mesh.start(4);
  await mesh.waitConnected();
  const [target, ...honest] = nodes as [(typeof nodes)[number], ...typeof nodes];
  const address = `127.0.0.1:${target.address()!.port}`;
  const { group, discoveryPort } = mesh.discoveryAddress();
  const heapBefore = process.memoryUsage().heapUsed;

  const until = Date.now() + ATTACK_MS;
  let maxPending = 0;
  let maxQueued = 0;
  const sampler = setInterval(() => {
    const s = target.stats().transport;
    maxPending = Math.max(maxPending, s.pendingHandshakes);
    maxQueued = Math.max(maxQueued, s.pendingWriteBytes);
  }, 20);
  const attack = Promise.all([tcpAttack(address, until), udpAttack(group, discoveryPort, until)]);
  try {
    // Broadcasts during the attack, from the target and from an honest peer.
    await mesh.broadcastAndWait(target, 'from the target, under attack');
    await mesh.broadcastAndWait(honest[0]!, 'from an honest peer, under attack');
    await attack;
  } finally {
    clearInterval(sampler);
  }
  await mesh.broadcastAndWait(honest[1]!, 'after the attack');

  const stats = target.stats();
  const rejections = stats.transport.rejections;
  expect(rejections.oversize).toBeGreaterThan(0);
  expect(rejections['protocol-violation']).toBeGreaterThan(0);
  expect(rejections['rate-limited']).toBeGreaterThan(0);
  expect(rejections.malformed + rejections['handshake-failed']).toBeGreaterThan(0);
  expect(stats.discovery?.malformed).toBeGreaterThan(0);
  expect(maxPending).toBeLessThanOrEqual(DEFAULT_MAX_PENDING_HANDSHAKES_PER_HOST + honest.length);
  expect(maxQueued).toBeLessThan(8 * 1024 * 1024);
  // Coarse: the whole process (attacker included) grew by far less than an unbounded buffer would.
  expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 1024 * 1024);
  expect(target.peers().active.some((p) => honest.some((h) => h.id === p.id))).toBe(true);
});
