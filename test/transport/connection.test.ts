import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/identity/identity.js';
import { Connection } from '../../src/transport/connection.js';
import { TokenBucket } from '../../src/transport/rate-limit.js';

/** A connection that never touches its socket: forgivePause is bookkeeping only. */
function connectionOpenedAt(now: number): Connection {
  const socket = {} as Socket;
  return new Connection(
    socket,
    'in',
    '127.0.0.1',
    generateIdentity(),
    undefined,
    1024,
    new TokenBucket(1, 1, now),
    now,
  );
}

describe('Connection.forgivePause', () => {
  it('moves the deadlines later by the pause, but never past now: silence after the pause still counts', () => {
    const conn = connectionOpenedAt(1_000);
    conn.lingerSince = 1_000;
    conn.forgivePause(300, 2_000);
    expect([conn.openedAt, conn.lastReceivedAt, conn.lingerSince]).toEqual([1_300, 1_300, 1_300]);
    // A pause longer than the time since: the deadlines stop at now, not in the future.
    conn.forgivePause(5_000, 2_000);
    expect([conn.openedAt, conn.lastReceivedAt, conn.lingerSince]).toEqual([2_000, 2_000, 2_000]);
    expect(conn.startedAt).toBe(1_000);
  });
});

describe('Connection.sendStalledFor', () => {
  it('counts from the last time the kernel took any of the queue, a part of a write in progress included', () => {
    // A socket as sendStalledFor sees it: Node's queue, and what libuv has left of the write in progress.
    const socket = { writableLength: 0, _handle: { writeQueueSize: 0 } };
    const conn = new Connection(
      socket as unknown as Socket,
      'in',
      '127.0.0.1',
      generateIdentity(),
      undefined,
      1024,
      new TokenBucket(1, 1, 0),
      0,
    );
    expect(conn.sendStalledFor(10_000)).toBe(0); // nothing queued, however long since anything
    // A write of 100,000 bytes, 40,000 of them in the kernel at once: Node counts none done yet.
    conn.bytesHandedOver += 100_000;
    socket.writableLength += 100_000;
    socket._handle.writeQueueSize = 60_000;
    expect(conn.sendStalledFor(11_000)).toBe(1_000);
    socket._handle.writeQueueSize = 50_000; // the kernel took a part of it
    expect(conn.sendStalledFor(12_000)).toBe(0);
    expect(conn.sendStalledFor(15_000)).toBe(3_000);
    // Our own pause of 1.5 s: the peer could not be seen reading meanwhile.
    conn.forgivePause(1_500, 15_000);
    expect(conn.sendStalledFor(15_000)).toBe(1_500);
    conn.forgivePause(60_000, 15_000); // never past now
    expect(conn.sendStalledFor(16_000)).toBe(1_000);
    // 200,000 bytes queued behind it; the first write done, they go as one request, none in the
    // kernel yet: more left of the write in progress than before, but the kernel took the first.
    conn.bytesHandedOver += 200_000;
    socket.writableLength += 200_000 - 100_000;
    socket._handle.writeQueueSize = 200_000;
    expect(conn.sendStalledFor(17_000)).toBe(0);
    expect(conn.sendStalledFor(18_000)).toBe(1_000);
    socket.writableLength = 0;
    socket._handle.writeQueueSize = 0;
    expect(conn.sendStalledFor(50_000)).toBe(0);
  });
});
