import { afterEach, expect, it } from 'vitest';
import { MAX_APPLICATION_PAYLOAD_BYTES } from '../../src/codec/index.js';
import { TestMesh } from '../helpers/mesh.js';
import { waitUntil } from '../helpers/wait.js';

let mesh: TestMesh;
afterEach(async () => {
  await mesh?.stopAll();
});

it('broadcast() reports backlog, drained() waits it out, and every message still arrives once', async () => {
  mesh = new TestMesh({ transport: { sendHighWaterBytes: 256 * 1024 } });
  const [sender, receiver] = await mesh.start(2);
  await mesh.waitConnected();
  const payload = new Uint8Array(256 * 1024);
  let sent = 0;
  let backlogged = false;
  // A fast sender: broadcasts until told to slow down (bounded, in case it never is).
  while (!backlogged && sent < 64) {
    backlogged = sender!.broadcast(payload).backlogged;
    sent++;
  }
  expect(backlogged).toBe(true);
  await sender!.drained();
  expect(sender!.broadcast('after the drain').backlogged).toBe(false);
  sent++;
  await waitUntil('every broadcast at the receiver', () => mesh.deliveryCounts(receiver!).size === sent, [
    [receiver!, 'message'],
  ]);
  expect([...mesh.deliveryCounts(receiver!).values()].every((n) => n === 1)).toBe(true);
  expect(sender!.stats().transport.rejections['send-queue-full']).toBe(0);
});

it('ends a backlog even with a high-water mark below the socket buffer threshold', async () => {
  // A link was marked backlogged as soon as its queue passed the option, but a socket emits
  // 'drain' only once its own 16 KiB threshold was passed: below it, drained() waited for good.
  mesh = new TestMesh({ transport: { sendHighWaterBytes: 1 } });
  const [sender, receiver] = await mesh.start(2);
  await mesh.waitConnected();
  const payload = new Uint8Array(12 * 1024);
  let sent = 0;
  let backlogged = false;
  while (!backlogged && sent < 2000) {
    backlogged = sender!.broadcast(payload).backlogged;
    sent++;
  }
  expect(backlogged).toBe(true);
  await sender!.drained();
  await waitUntil('every broadcast at the receiver', () => mesh.deliveryCounts(receiver!).size === sent, [
    [receiver!, 'message'],
  ]);
  expect(sender!.stats().transport.rejections['send-queue-full']).toBe(0);
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
