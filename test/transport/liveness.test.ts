import { afterEach, describe, expect, it } from 'vitest';
import type { PeerInfo } from '../../src/core/types.js';
import {
  eventually,
  gossip,
  link,
  ManagerPool,
  nextEvent,
  RawPeer,
  rawSocket,
  recordMessages,
} from './helpers.js';

const pool = new ManagerPool();
afterEach(() => pool.closeAll());

const KEEP_ALIVE_MS = 40;
const IDLE_TIMEOUT_MS = 250;
const fast = { keepAliveIntervalMs: KEEP_ALIVE_MS, idleTimeoutMs: IDLE_TIMEOUT_MS };

describe('LinkManager: dead link detection', () => {
  it('closes a link whose peer went silent after its Hello, within the idle timeout', async () => {
    const b = await pool.start(fast);
    const up = nextEvent<[PeerInfo, string]>(b.manager, 'linkUp');
    const down = nextEvent<[PeerInfo, string]>(b.manager, 'linkDown');
    // The silent peer still reads: it sees B's Hello and then B's keep-alive pings.
    const silent = await RawPeer.dial(b.info.address);
    const silentId = silent.id;
    // The last byte B receives is sent no earlier than this.
    const lastSentAt = performance.now();
    silent.hello();
    await up;
    const [peer, reason] = await down;
    const silentFor = performance.now() - lastSentAt;
    expect(peer.id).toBe(silentId);
    expect(reason).toBe('timeout');
    expect(silentFor).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 5);
    // One housekeeping tick of slack (a quarter of the shortest timeout), plus scheduling noise.
    expect(silentFor).toBeLessThan(IDLE_TIMEOUT_MS + 500);
    const seen = silent.frames.map((f) => f.type);
    expect(seen[0]).toBe('hello');
    expect(seen.filter((t) => t === 'ping').length).toBeGreaterThanOrEqual(2);
    expect(b.manager.links()).toEqual([]);
    silent.socket.destroy();
  });

  it('keeps a quiet but live link up with pings', async () => {
    const a = await pool.start(fast);
    const b = await pool.start(fast);
    const downs: string[] = [];
    for (const m of [a.manager, b.manager]) m.on('linkDown', (_peer, reason) => downs.push(reason));
    await link(a, b);
    // Ten keep-alive intervals of silence is well past the idle timeout.
    await eventually('ten pings each way', () =>
      [a.manager, b.manager].every((m) => m.stats().framesIn >= 11),
    );
    expect(downs).toEqual([]);
    expect(a.manager.links()).toHaveLength(1);
    expect(b.manager.links()).toHaveLength(1);
  });

  it('keeps its links through a pause of its own event loop longer than the idle timeout', async () => {
    const a = await pool.start(fast);
    const b = await pool.start(fast);
    const downs: string[] = [];
    for (const m of [a.manager, b.manager]) m.on('linkDown', (_peer, reason) => downs.push(reason));
    await link(a, b);
    const atA = recordMessages(a.manager);
    const atB = recordMessages(b.manager);
    // Both ends share this process, so neither could read the other's pings while it was held.
    const heldUntil = performance.now() + 3 * IDLE_TIMEOUT_MS;
    while (performance.now() < heldUntil) {
      // A long synchronous task, a GC pause or a debugger stop: the event loop does not run.
    }
    a.manager.send(b.info, gossip(a.info.id, 1));
    b.manager.send(a.info, gossip(b.info.id, 2));
    await eventually('a message each way after the pause', () => atA.length === 1 && atB.length === 1);
    expect(downs).toEqual([]);
    expect(a.manager.links()).toHaveLength(1);
    expect(b.manager.links()).toHaveLength(1);
  });

  it("reports 'remote' when the peer closes, and a later send dials again", async () => {
    const a = await pool.start();
    const b = await pool.start();
    await link(a, b);
    const down = nextEvent<[PeerInfo, string]>(a.manager, 'linkDown');
    b.manager.disconnect(a.info.id);
    expect(await down).toEqual([b.info, 'remote']);
    const up = nextEvent<[PeerInfo, string]>(a.manager, 'linkUp');
    a.manager.send(b.info, { type: 'join' });
    expect(await up).toEqual([b.info, 'out']);
  });

  it("reports a silent link down as 'timeout' at once, though a handshake from its host is in progress", async () => {
    // No handshake times out during this test. Only a FIN, which may be the peer retiring a
    // duplicate, makes the manager wait for a replacement link; a silent link is simply dead.
    const b = await pool.start({ ...fast, handshakeTimeoutMs: 60_000 });
    const silent = await RawPeer.dial(b.info.address);
    const up = nextEvent<[PeerInfo, string]>(b.manager, 'linkUp');
    silent.hello();
    const [peer] = await up;
    const pending = await rawSocket(b.info.address); // begun before the loss, from the same host
    try {
      const down = nextEvent<[PeerInfo, string]>(b.manager, 'linkDown');
      expect(await down).toEqual([peer, 'timeout']);
      expect(b.manager.links()).toEqual([]);
    } finally {
      silent.socket.destroy();
      pending.destroy();
    }
  });

  it('dials again on a send once a link that came from an earlier send is gone', async () => {
    const a = await pool.start();
    const b = await pool.start();
    const firstUp = nextEvent<[PeerInfo, string]>(a.manager, 'linkUp');
    a.manager.send(b.info, { type: 'join' }); // the link comes from this send's dial
    expect(await firstUp).toEqual([b.info, 'out']);
    const down = nextEvent<[PeerInfo, string]>(a.manager, 'linkDown');
    b.manager.disconnect(a.info.id);
    expect(await down).toEqual([b.info, 'remote']);
    const up = nextEvent<[PeerInfo, string]>(a.manager, 'linkUp');
    a.manager.send(b.info, { type: 'join' });
    expect(await up).toEqual([b.info, 'out']);
  });
});
