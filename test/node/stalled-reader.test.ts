import { afterEach, expect, it } from 'vitest';
import type { MeshNode } from '../../src/node/node.js';
import { TestMesh } from '../helpers/mesh.js';
import { waitUntil } from '../helpers/wait.js';
import { RawPeer } from '../transport/helpers.js';

/**
 * A neighbour that completes the handshake, joins the active view, then never reads again while it
 * keeps the link alive with pings. A sender that obeys backpressure (broadcast until backlogged,
 * then await drained()) never pushes its queue to maxSendQueueBytes, and the idle timeout hears
 * the pings: before, nothing dropped such a peer, and drained() waited for good. Found by a review.
 */

let mesh: TestMesh;
let peer: RawPeer | undefined;
let pinger: NodeJS.Timeout | undefined;
afterEach(async () => {
  clearInterval(pinger);
  peer?.socket.destroy();
  await mesh?.stopAll();
});

it.each([
  ['stops reading but keeps pinging', true],
  ['stops reading and goes silent (control: the idle timeout drops it)', false],
])(
  'drained() ends within a bounded time when a neighbour %s',
  async (_what, pings) => {
    const idleTimeoutMs = 1_500;
    mesh = new TestMesh({
      transport: { sendHighWaterBytes: 256 * 1024, idleTimeoutMs, keepAliveIntervalMs: 500 },
    });
    const [sender] = (await mesh.start(1)) as [MeshNode];
    peer = await RawPeer.dial(`127.0.0.1:${sender.address()!.port}`);
    peer.hello();
    peer.send({ type: 'neighbor', priority: 'high' });
    await waitUntil(
      'the raw peer to be an active neighbour',
      () => sender.peers().active.some((p) => p.id === peer!.id),
      [[sender, 'peer:up']],
    );
    // From now on the peer reads nothing, but it is not silent.
    peer.socket.pause();
    if (pings) pinger = setInterval(() => peer!.send({ type: 'ping' }), 200);

    let backlogged = false;
    for (let sent = 0; !backlogged && sent < 256; sent++) {
      backlogged = sender.broadcast(new Uint8Array(256 * 1024)).backlogged;
    }
    expect(backlogged).toBe(true);

    const deadlineMs = 4 * idleTimeoutMs;
    const outcome = await Promise.race([
      sender.drained().then(() => 'drained'),
      new Promise<string>((resolve) => setTimeout(() => resolve('still waiting'), deadlineMs)),
    ]);
    expect(outcome).toBe('drained');
  },
  20_000,
);
