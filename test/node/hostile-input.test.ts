import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterEach, expect, it } from 'vitest';
import { BEACON_BYTES, encodeBeacon } from '../../src/codec/beacon.js';
import { becomeNeighbour, TestMesh } from '../helpers/mesh.js';
import { eventually, RawPeer, randomNodeId } from '../transport/helpers.js';

let mesh: TestMesh;
afterEach(async () => {
  await mesh?.stopAll();
});

/** Sends each datagram to the mesh's group over loopback only. */
async function sendDatagrams(group: string, port: number, datagrams: Buffer[]): Promise<void> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.setMulticastInterface('127.0.0.1');
  socket.setMulticastTTL(1);
  for (const datagram of datagrams) {
    await new Promise<void>((resolve, reject) =>
      socket.send(datagram, port, group, (e) => (e ? reject(e) : resolve())),
    );
  }
  socket.close();
}

/** Arbitrary bytes, the same on every run so that a failure replays. */
const GARBAGE_SEED = 20_240_611;
function garbage(count: number, minLength: number, maxLength: number): Buffer[] {
  return fc
    .sample(fc.uint8Array({ minLength, maxLength }), { numRuns: count, seed: GARBAGE_SEED + maxLength })
    .map((bytes) => Buffer.from(bytes));
}

/** Opens a raw TCP connection, writes bytes, and resolves when the node has closed it. */
function sendRawBytes(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.resume();
  });
}

it('survives malformed beacons and random bytes on its TCP port, and keeps serving its peers', async () => {
  mesh = new TestMesh();
  const nodes = await mesh.start(3);
  await mesh.waitConnected();
  const [target, a, b] = nodes as [(typeof nodes)[number], (typeof nodes)[number], (typeof nodes)[number]];
  const { group, discoveryPort } = mesh.discoveryAddress();

  const bogusBeacons = [
    ...garbage(1, BEACON_BYTES, BEACON_BYTES),
    Buffer.from('MCST'),
    Buffer.concat([
      encodeBeacon({ id: 'ab'.repeat(32), port: 5000, wantsPeers: true, tag: 'ab'.repeat(32) }),
      Buffer.from([1, 2, 3]),
    ]),
    Buffer.alloc(0),
    ...garbage(50, 1, 100),
  ];
  await sendDatagrams(group, discoveryPort, bogusBeacons);
  const port = target.address()!.port;
  await Promise.all([
    sendRawBytes(port, Buffer.concat(garbage(1, 4096, 4096))),
    sendRawBytes(port, Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 1])), // a 4 GiB length prefix
    sendRawBytes(port, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')),
  ]);
  // Every raw connection has been closed by the node by now; the datagrams may still sit in its
  // socket buffer, read while the broadcasts below travel.
  await mesh.broadcastAndWait(a, 'still serving');
  await mesh.broadcastAndWait(target, 'target still sends');
  await mesh.broadcastAndWait(b, 'and still receives');
  expect(
    target.stats().transport.malformedFrames + target.stats().transport.handshakeFailures,
  ).toBeGreaterThanOrEqual(3);
  // No event announces a dropped datagram: wait for the count, then check that it is exact.
  await eventually(
    'every bogus beacon to be counted',
    () => (target.stats().discovery?.malformed ?? 0) >= bogusBeacons.length,
  );
  expect(target.stats().discovery?.malformed).toBe(bogusBeacons.length);
  expect(target.peers().active.length).toBeGreaterThan(0);
});

it('takes no peer a neighbour names at an address it must not dial: multicast, a host name', async () => {
  mesh = new TestMesh();
  const [target] = await mesh.start(1);
  if (target === undefined) throw new Error('no node');
  const neighbour = await RawPeer.dial(`127.0.0.1:${target.address()?.port}`);
  try {
    await becomeNeighbour(neighbour, target);
    const onLoopback = { id: randomNodeId(), address: '127.0.0.7:5000' };
    const named = [
      onLoopback,
      { id: randomNodeId(), address: '239.255.0.1:5000' },
      { id: randomNodeId(), address: 'example.com:5000' },
    ];
    // The candidates an evicting neighbour hands over, learnt once its Disconnect{alive:true} comes.
    neighbour.send({ type: 'shuffleReply', peers: named });
    neighbour.send({ type: 'disconnect', alive: true });
    await eventually('the neighbour to be passive', () =>
      target.peers().passive.some((p) => p.id === neighbour.id),
    );
    // Over a loopback link a loopback address is in scope; the other two never are.
    expect(
      target
        .peers()
        .passive.map((p) => p.address)
        .sort(),
    ).toEqual([onLoopback.address, `127.0.0.1:4000`].sort());
    expect(target.stats().protocol.unusableAddresses).toBe(2);
  } finally {
    neighbour.socket.destroy();
  }
});
