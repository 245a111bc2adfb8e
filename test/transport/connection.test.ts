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
