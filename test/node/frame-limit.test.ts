import { afterEach, expect, it } from 'vitest';
import type { MeshNode } from '../../src/node/node.js';
import { TestMesh } from '../helpers/mesh.js';

/**
 * With transport.maxFrameBytes lowered, broadcast() used to check a payload against the 1 MiB
 * application limit only: one between the two was reported sent, and dropped by the transport at
 * every link. Found by a review.
 */

let mesh: TestMesh;
afterEach(async () => {
  await mesh?.stopAll();
});

it('refuses a payload its own frames cannot carry, and carries the largest they can', async () => {
  mesh = new TestMesh({ transport: { maxFrameBytes: 64 * 1024 } });
  const [sender, receiver] = (await mesh.start(2)) as [MeshNode, MeshNode];
  await mesh.waitConnected();
  const big = new Uint8Array(100 * 1024).fill(7);
  expect(() => sender.broadcast(big)).toThrow(RangeError);
  const largest = new Uint8Array(sender.maxPayloadBytes).fill(7);
  const { seq } = sender.broadcast(largest);
  // Links are FIFO: once this later message arrived, the largest one arrived before it.
  await mesh.broadcastAndWait(sender, 'after');
  expect(mesh.count(receiver, sender.id, seq)).toBe(1);
});
