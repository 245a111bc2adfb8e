import { afterEach, describe, expect, it } from 'vitest';
import type { PeerInfo } from '../../src/core/types.js';
import { CLOSE_DEADLINE_MS } from '../../src/transport/defaults.js';
import { eventually, gossip, link, ManagerPool, nextEvent, rawSocket, recordMessages } from './helpers.js';

const pool = new ManagerPool();
afterEach(() => pool.closeAll());

/** Handles that would keep the process alive, by type (sockets, servers, timers). */
function activeHandles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

const PAYLOAD_BYTES = 16 * 1024;

describe('LinkManager: disconnect and close', () => {
  it('disconnect() delivers everything already sent before ending the link', async () => {
    // A send queue large enough for the whole burst: this test is about draining, not about limits.
    const a = await pool.start({ maxSendQueueBytes: 64 * 1024 * 1024 });
    const b = await pool.start();
    await link(a, b);
    const atB = recordMessages(b.manager);
    const downAtB = nextEvent<[PeerInfo, string]>(b.manager, 'linkDown');
    const downAtA: [PeerInfo, string][] = [];
    a.manager.on('linkDown', (...args) => downAtA.push(args));
    const count = 500; // 8 MB: far more than the socket buffers, so most of it is still queued
    for (let seq = 0; seq < count; seq++) a.manager.send(b.info, gossip(a.info.id, seq, PAYLOAD_BYTES));
    expect(a.manager.stats().pendingWriteBytes).toBeGreaterThan(0);
    a.manager.disconnect(b.info.id);
    // Synchronous and exactly once, for a link we closed on purpose.
    expect(downAtA).toEqual([[b.info, 'local']]);
    expect(a.manager.links()).toEqual([]);
    expect(await downAtB).toEqual([a.info, 'remote']);
    expect(atB.map((m) => m.seq)).toEqual([...Array(count).keys()]);
  });

  it('disconnect() during the dial still delivers the queued messages, without link events', async () => {
    const a = await pool.start();
    const b = await pool.start();
    const atB = recordMessages(b.manager);
    const eventsAtA: string[] = [];
    for (const event of ['linkUp', 'linkDown', 'dialFailed'] as const)
      a.manager.on(event, () => eventsAtA.push(event));
    const downAtB = nextEvent<[PeerInfo, string]>(b.manager, 'linkDown');
    for (let seq = 0; seq < 10; seq++) a.manager.send(b.info, gossip(a.info.id, seq));
    a.manager.disconnect(b.info.id);
    expect(await downAtB).toEqual([a.info, 'remote']);
    expect(atB.map((m) => m.seq)).toEqual([...Array(10).keys()]);
    await eventually('A to close its socket', () => a.manager.stats().linksClosed === 1);
    expect(eventsAtA).toEqual([]);
  });

  it('close() resolves promptly with links, dials and handshakes open, and leaves no handles', async () => {
    const before = activeHandles();
    const a = await pool.start();
    const b = await pool.start();
    await link(a, b);
    const silent = await rawSocket(a.info.address); // a handshake in progress at A
    const pendingDial = a.manager.dialAddress(b.info.address).then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    const downAtA = nextEvent<[PeerInfo, string]>(a.manager, 'linkDown');
    const downAtB = nextEvent<[PeerInfo, string]>(b.manager, 'linkDown');
    const started = performance.now();
    await a.manager.close();
    expect(performance.now() - started).toBeLessThan(CLOSE_DEADLINE_MS);
    expect(await downAtA).toEqual([b.info, 'local']);
    expect(await pendingDial).toMatch(/closed/);
    expect((await downAtB)[0]).toEqual(a.info);
    await new Promise((resolve) => silent.once('close', resolve));
    await b.manager.close();
    // Nothing of the managers remains that could keep the process alive.
    const after = activeHandles();
    for (const type of ['TCPServerWrap', 'TCPSocketWrap', 'Timeout']) {
      expect(after.get(type) ?? 0, type).toBeLessThanOrEqual(before.get(type) ?? 0);
    }
    // A closed manager ignores further use instead of throwing.
    a.manager.send(b.info, { type: 'join' });
    a.manager.disconnect(b.info.id);
    await expect(a.manager.dialAddress(b.info.address)).rejects.toThrow(/closed/);
    await expect(a.manager.close()).resolves.toBeUndefined();
  });
});
