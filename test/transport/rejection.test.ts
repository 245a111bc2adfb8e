import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/codec/index.js';
import type { PeerInfo } from '../../src/core/types.js';
import {
  eventually,
  gossip,
  LOOPBACK,
  link,
  ManagerPool,
  nextEvent,
  randomNodeId,
  rawSocket,
  recordMessages,
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
  const atB = recordMessages(b.manager);
  a.manager.send(b.info, gossip(a.info.id, seq));
  await eventually(`B to receive seq ${seq}`, () => atB.some((m) => m.seq === seq));
  expect(b.manager.links().map((l) => l.peer.id)).toEqual([a.info.id]);
}

/** Sends `bytes` on a raw socket to B and waits for B to reject it. */
async function expectRejected(b: Started, bytes: Buffer, end = false): Promise<string> {
  const rejected = nextEvent<[string, string]>(b.manager, 'rejected');
  const socket = await rawSocket(b.info.address);
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.write(bytes);
  if (end) socket.end();
  const [remote, reason] = await rejected;
  expect(remote).toBe(`${LOOPBACK}:${socket.localPort}`);
  await closed;
  return reason;
}

function hello(id: string, listenPort = 4000): Buffer {
  return encodeFrame({ type: 'hello', id, listenPort });
}

describe('LinkManager: hostile and broken peers', () => {
  it('rejects any garbage on a raw socket while an honest peer keeps working', async () => {
    const { a, b } = await linkedPair();
    let seq = 0;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), async (bytes) => {
        // Ending the socket makes an incomplete frame a rejection too ("closed before the handshake").
        await expectRejected(b, Buffer.from(bytes), true);
        await assertHonestLinkWorks(a, b, seq++);
      }),
      { numRuns: 25 },
    );
    expect(b.manager.stats().handshakeFailures).toBe(25);
    expect(b.manager.links()).toHaveLength(1);
  });

  it('rejects a first frame that is not a Hello', async () => {
    const { a, b } = await linkedPair();
    const reason = await expectRejected(b, encodeFrame({ type: 'join' }));
    expect(reason).toMatch(/first frame is join/);
    await assertHonestLinkWorks(a, b, 1);
  });

  it('rejects an oversize length prefix as soon as the prefix arrives', async () => {
    const { a, b } = await linkedPair({ maxFrameBytes: 1024 });
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(1025);
    const reason = await expectRejected(b, prefix);
    expect(reason).toMatch(/oversize/);
    expect(b.manager.stats().malformedFrames).toBe(1);
    await assertHonestLinkWorks(a, b, 1);
  });

  it('rejects a frame of another protocol version', async () => {
    const { a, b } = await linkedPair();
    const frame = hello(randomNodeId());
    frame[4] = 99;
    expect(await expectRejected(b, frame)).toMatch(/bad-version/);
    await assertHonestLinkWorks(a, b, 1);
  });

  it('rejects a Hello carrying its own id', async () => {
    const { a, b } = await linkedPair();
    expect(await expectRejected(b, hello(b.info.id))).toMatch(/own id/);
    await assertHonestLinkWorks(a, b, 1);
  });

  it('rejects a second Hello on an established link, with linkDown for that peer', async () => {
    const { a, b } = await linkedPair();
    const intruder = randomNodeId();
    const up = nextEvent<[PeerInfo, string]>(b.manager, 'linkUp', (peer) => peer.id === intruder);
    const down = nextEvent<[PeerInfo, string]>(b.manager, 'linkDown', (peer) => peer.id === intruder);
    const reason = await expectRejected(b, Buffer.concat([hello(intruder), hello(intruder)]));
    expect(reason).toMatch(/second hello/);
    await up;
    expect((await down)[1]).toBe('error');
    await assertHonestLinkWorks(a, b, 1);
  });

  it('rejects a connection that sends no Hello within the handshake timeout', async () => {
    const handshakeTimeoutMs = 150;
    const { a, b } = await linkedPair({ handshakeTimeoutMs });
    const rejected = nextEvent<[string, string]>(b.manager, 'rejected');
    const started = performance.now();
    const socket = await rawSocket(b.info.address);
    const [, reason] = await rejected;
    const elapsed = performance.now() - started;
    expect(reason).toMatch(/no hello within 150 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(handshakeTimeoutMs - 5);
    expect(elapsed).toBeLessThan(handshakeTimeoutMs + 1000);
    socket.destroy();
    await assertHonestLinkWorks(a, b, 1);
  });
});
