import type { Socket } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, LENGTH_PREFIX_BYTES } from '../../src/codec/index.js';
import type { ProtocolMessage } from '../../src/core/messages.js';
import type { PeerInfo } from '../../src/core/types.js';
import { generateIdentity } from '../../src/identity/identity.js';
import { SEAL_OVERHEAD_BYTES } from '../../src/transport/sealed-record.js';
import { captureUncaught } from '../helpers/uncaught.js';
import {
  eventually,
  gossip,
  LOOPBACK,
  link,
  ManagerPool,
  nextEvent,
  RawPeer,
  rawSocket,
  type Started,
} from './helpers.js';

const pool = new ManagerPool();
afterEach(() => pool.closeAll());

/** A server B with an honest peer A linked to it. */
async function linkedPair(options = {}): Promise<{ a: Started; b: Started }> {
  const a = await pool.start();
  const b = await pool.start(options);
  await link(a, b);
  return { a, b };
}

/** The honest link still carries a message from A to B. */
async function assertHonestLinkWorks(a: Started, b: Started, seq: number): Promise<void> {
  // A listener that goes once it has heard: property runs call this dozens of times on one B.
  const atB = nextEvent(
    b.manager,
    'message',
    (_from: PeerInfo, message: ProtocolMessage) => message.type === 'gossip' && message.seq === seq,
  );
  a.manager.send(b.info, gossip(a.info.id, seq));
  await atB;
  expect(b.manager.links().map((l) => l.peer.id)).toEqual([a.info.id]);
}

/** Runs `misbehave` against B on a fresh connection and waits for B to reject and close it. */
async function expectRejected(
  b: Started,
  misbehave: (socket: Socket) => Promise<unknown> | unknown,
  connect: () => Promise<Socket> = () => rawSocket(b.info.address),
): Promise<string> {
  const rejected = nextEvent<[string, string]>(b.manager, 'rejected');
  const socket = await connect();
  const closed = new Promise((resolve) => socket.once('close', resolve));
  await misbehave(socket);
  const [remote, reason] = await rejected;
  expect(remote).toBe(`${LOOPBACK}:${socket.localPort}`);
  await closed;
  return reason;
}

/** Like expectRejected, for a peer that first completes the Noise handshake correctly. */
async function expectPeerRejected(
  b: Started,
  misbehave: (peer: RawPeer) => void,
  peer?: RawPeer,
): Promise<string> {
  let raw: RawPeer | undefined = peer;
  return expectRejected(
    b,
    () => misbehave(raw as RawPeer),
    async () => {
      raw ??= await RawPeer.dial(b.info.address);
      return raw.socket;
    },
  );
}

describe('LinkManager: hostile and broken peers', () => {
  it('rejects any garbage on a raw socket while an honest peer keeps working', async () => {
    const { a, b } = await linkedPair();
    let seq = 0;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), async (bytes) => {
        // Ending the socket makes an incomplete record a rejection too ("closed before the handshake").
        await expectRejected(b, (socket) => socket.end(Buffer.from(bytes)));
        await assertHonestLinkWorks(a, b, seq++);
      }),
      { numRuns: 25 },
    );
    expect(b.manager.stats().handshakeFailures).toBe(25);
    expect(b.manager.links()).toHaveLength(1);
  });

  it('rejects a first handshake message whose key is no usable point (it threw from the socket callback)', async () => {
    const { a, b } = await linkedPair();
    const uncaught = captureUncaught();
    try {
      // One record of 32 zero bytes: the open network's first message is the dialer's ephemeral key.
      const reason = await expectRejected(b, (socket) =>
        socket.write(Buffer.from([0, 0, 0, 32, ...new Array(32).fill(0)])),
      );
      expect(reason).toMatch(/^handshake-failed: first handshake message holds no usable key/);
      expect(uncaught.errors).toEqual([]);
    } finally {
      uncaught.restore();
    }
    await assertHonestLinkWorks(a, b, 1);
  });

  it('rejects a first frame that is not a Hello', async () => {
    const { a, b } = await linkedPair();
    const reason = await expectPeerRejected(b, (peer) => peer.send({ type: 'join' }));
    expect(reason).toMatch(/^protocol-violation: first frame is join/);
    await assertHonestLinkWorks(a, b, 1);
  });

  it('rejects an oversize length prefix as soon as the prefix arrives, in the handshake and after it', async () => {
    const maxFrameBytes = 1024;
    const { a, b } = await linkedPair({ maxFrameBytes });
    const prefix = (length: number): Buffer => {
      const bytes = Buffer.alloc(LENGTH_PREFIX_BYTES);
      bytes.writeUInt32BE(length);
      return bytes;
    };
    // Before the handshake even a frame-sized record is too big: strangers get no buffer to fill.
    expect(await expectRejected(b, (socket) => socket.write(prefix(maxFrameBytes)))).toMatch(/^oversize/);
    const afterHello = (peer: RawPeer): void => {
      peer.hello();
      peer.socket.write(prefix(maxFrameBytes + SEAL_OVERHEAD_BYTES + 1));
    };
    expect(await expectPeerRejected(b, afterHello)).toMatch(/^oversize/);
    expect(b.manager.stats().malformedFrames).toBe(2);
    expect(b.manager.stats().rejections.oversize).toBe(2);
    await assertHonestLinkWorks(a, b, 1);
  });

  it('rejects a frame of another protocol version', async () => {
    const { a, b } = await linkedPair();
    const reason = await expectPeerRejected(b, (peer) => {
      const frame = encodeFrame({ type: 'hello', id: peer.id, listenPort: 4000 });
      frame[LENGTH_PREFIX_BYTES] = 99;
      peer.sendSealed(frame.subarray(LENGTH_PREFIX_BYTES));
    });
    expect(reason).toMatch(/^malformed: bad-version/);
    await assertHonestLinkWorks(a, b, 1);
  });

  it('rejects a Hello whose id is not the key the peer proved, ours included', async () => {
    const { a, b } = await linkedPair();
    expect(await expectPeerRejected(b, (peer) => peer.hello(4000, b.info.id))).toMatch(/^identity-mismatch/);
    expect(await expectPeerRejected(b, (peer) => peer.hello(4000, a.info.id))).toMatch(/^identity-mismatch/);
    expect(b.manager.stats().rejections['identity-mismatch']).toBe(2);
    await assertHonestLinkWorks(a, b, 1);
  });

  it('rejects a peer that holds our own key', async () => {
    const identity = generateIdentity();
    const a = await pool.start();
    const b = await pool.start({ identity });
    await link(a, b);
    const twin = await RawPeer.dial(b.info.address, identity).catch((error: Error) => error);
    // B drops the twin as soon as it is secured; whether the twin saw B's last bytes is a race.
    if (twin instanceof RawPeer) await new Promise((resolve) => twin.socket.once('close', resolve));
    await eventually('B to count the twin', () => b.manager.stats().rejections['protocol-violation'] === 1);
    await assertHonestLinkWorks(a, b, 1);
  });

  it('rejects a second Hello on an established link, with linkDown for that peer', async () => {
    const { a, b } = await linkedPair();
    const intruder = await RawPeer.dial(b.info.address);
    const up = nextEvent<[PeerInfo, string]>(b.manager, 'linkUp', (peer) => peer.id === intruder.id);
    const down = nextEvent<[PeerInfo, string]>(b.manager, 'linkDown', (peer) => peer.id === intruder.id);
    const reason = await expectPeerRejected(
      b,
      (peer) => {
        peer.hello();
        peer.hello();
      },
      intruder,
    );
    expect(reason).toMatch(/second hello/);
    await up;
    expect((await down)[1]).toBe('error');
    await assertHonestLinkWorks(a, b, 1);
  });

  it.each([
    ['sends nothing at all', false],
    ['completes the Noise handshake but sends no Hello', true],
  ])('rejects a connection that %s within the handshake timeout', async (_label, handshake) => {
    const handshakeTimeoutMs = 150;
    const { a, b } = await linkedPair({ handshakeTimeoutMs });
    const rejected = nextEvent<[string, string]>(b.manager, 'rejected');
    const started = performance.now();
    const socket = handshake ? (await RawPeer.dial(b.info.address)).socket : await rawSocket(b.info.address);
    const [, reason] = await rejected;
    const elapsed = performance.now() - started;
    expect(reason).toMatch(/^timeout: no hello within 150 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(handshakeTimeoutMs - 5);
    expect(elapsed).toBeLessThan(handshakeTimeoutMs + 1000);
    expect(b.manager.stats().rejections.timeout).toBe(1);
    socket.destroy();
    await assertHonestLinkWorks(a, b, 1);
  });
});
