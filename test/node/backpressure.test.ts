import { afterEach, expect, it } from 'vitest';
import { MAX_APPLICATION_PAYLOAD_BYTES } from '../../src/codec/index.js';
import type { MeshNode } from '../../src/node/node.js';
import { TestMesh } from '../helpers/mesh.js';
import { waitUntil } from '../helpers/wait.js';

let mesh: TestMesh;
afterEach(async () => {
  await mesh?.stopAll();
});

/**
 * A fast sender: two started nodes, and broadcasts of `payload` from the first until it is told
 * to slow down (bounded by `limit`, in case it never is). Returns them and how many went out.
 */
async function floodUntilBacklogged(
  payload: Uint8Array,
  limit: number,
): Promise<{ sender: MeshNode; receiver: MeshNode; sent: number }> {
  const [sender, receiver] = (await mesh.start(2)) as [MeshNode, MeshNode];
  await mesh.waitConnected();
  let sent = 0;
  let backlogged = false;
  while (!backlogged && sent < limit) {
    backlogged = sender.broadcast(payload).backlogged;
    sent++;
  }
  expect(backlogged).toBe(true);
  return { sender, receiver, sent };
}

async function waitAllReceived(receiver: MeshNode, sent: number): Promise<void> {
  await waitUntil('every broadcast at the receiver', () => mesh.deliveryCounts(receiver).size === sent, [
    [receiver, 'message'],
  ]);
  expect([...mesh.deliveryCounts(receiver).values()].every((n) => n === 1)).toBe(true);
}

it('broadcast() reports backlog, drained() waits it out, and every message still arrives once', async () => {
  mesh = new TestMesh({ transport: { sendHighWaterBytes: 256 * 1024 } });
  const { sender, receiver, sent } = await floodUntilBacklogged(new Uint8Array(256 * 1024), 64);
  await sender.drained();
  expect(sender.broadcast('after the drain').backlogged).toBe(false);
  await waitAllReceived(receiver, sent + 1);
  expect(sender.stats().transport.rejections['send-queue-full']).toBe(0);
});

it('ends a backlog even with a high-water mark below the socket buffer threshold', async () => {
  // A link was marked backlogged as soon as its queue passed the option, but a socket emits
  // 'drain' only once its own 16 KiB threshold was passed: below it, drained() waited for good.
  mesh = new TestMesh({ transport: { sendHighWaterBytes: 1 } });
  const { sender, receiver, sent } = await floodUntilBacklogged(new Uint8Array(12 * 1024), 2000);
  await sender.drained();
  await waitAllReceived(receiver, sent);
  expect(sender.stats().transport.rejections['send-queue-full']).toBe(0);
});

it('refuses a payload above the message size limit', async () => {
  mesh = new TestMesh();
  const [node] = await mesh.start(1);
  expect(() => node!.broadcast(new Uint8Array(MAX_APPLICATION_PAYLOAD_BYTES + 1))).toThrow(RangeError);
  expect(() => node!.broadcast(new Uint8Array(MAX_APPLICATION_PAYLOAD_BYTES))).not.toThrow();
});

it('refuses a payload that is neither bytes nor a string, and goes on serving', async () => {
  mesh = new TestMesh();
  const [node] = await mesh.start(1);
  for (const value of [42, { text: 'hi' }, null, undefined, [1, 2, 3]]) {
    expect(() => node!.broadcast(value as unknown as string)).toThrow(TypeError);
  }
  expect(node!.stats().protocol.broadcasts).toBe(0);
  expect(() => node!.broadcast(Buffer.from('bytes'))).not.toThrow();
});
