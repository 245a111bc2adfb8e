import { afterEach, describe, expect, it } from 'vitest';
import { encodeAuthenticatedBeacon } from '../../src/codec/beacon.js';
import { DEFAULT_DISCOVERY_PORT } from '../../src/discovery/multicast.js';
import { networkKeyFromSecret } from '../../src/identity/network-key.js';
import { type Probe, probe, randomNodeId, rawSender, uniqueGroup, waitFor } from './helpers.js';

// Every test here opens real sockets: run it only through scripts/in-loopback-netns.sh.

const running: Probe[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.discovery.stop()));
});

const FAST = { eagerIntervalMs: 20, announceIntervalMs: 20 };
const KEY_A = networkKeyFromSecret(Buffer.alloc(32, 0xa)).beaconKey;
const KEY_B = networkKeyFromSecret(Buffer.alloc(32, 0xb)).beaconKey;

async function started(group: string, beaconKey?: Buffer): Promise<Probe> {
  const p = probe(group, { ...FAST, beaconKey });
  running.push(p);
  await p.discovery.start();
  return p;
}

describe('MulticastDiscovery in a private network', () => {
  it('hears only nodes of its own network on a shared group', async () => {
    const group = uniqueGroup();
    const [a1, a2, b1, open] = [
      await started(group, KEY_A),
      await started(group, KEY_A),
      await started(group, KEY_B),
      await started(group),
    ];
    await waitFor(
      'both private networks and the open node to beacon a while',
      () =>
        [a1.heardFrom(a2.id), a2.heardFrom(a1.id)].every((n) => n >= 10) &&
        [a1, b1, open].every((p) => p.discovery.stats().unauthenticated >= 10),
    );
    for (const p of [a1, a2]) {
      expect(p.peers.every((peer) => peer.id === a1.id || peer.id === a2.id)).toBe(true);
      expect(p.rejected.some((r) => r.reason.startsWith('wrong-network-key'))).toBe(true);
    }
    expect(b1.peers).toEqual([]);
    expect(open.peers).toEqual([]);
  });

  it('ignores forged and replayed beacons, counting each', async () => {
    const group = uniqueGroup();
    const a = probe(group, { announceIntervalMs: 60_000, eagerIntervalMs: 60_000, beaconKey: KEY_A });
    running.push(a);
    await a.discovery.start();
    const sender = await rawSender();
    try {
      const genuine = encodeAuthenticatedBeacon(
        { id: randomNodeId(), port: 4000, wantsPeers: true, tag: randomNodeId(), sentAt: Date.now() },
        KEY_A,
      );
      const forged = encodeAuthenticatedBeacon(
        { id: randomNodeId(), port: 4000, wantsPeers: true, tag: randomNodeId(), sentAt: Date.now() },
        KEY_B,
      );
      const stale = encodeAuthenticatedBeacon(
        {
          id: randomNodeId(),
          port: 4000,
          wantsPeers: true,
          tag: randomNodeId(),
          sentAt: Date.now() - 60_000,
        },
        KEY_A,
      );
      for (const datagram of [genuine, genuine, forged, stale, genuine]) {
        await sender.sendTo(group, DEFAULT_DISCOVERY_PORT, datagram);
      }
      await waitFor('every datagram to be judged', () => {
        const s = a.discovery.stats();
        return s.beaconsReceived + s.replayed + s.unauthenticated >= 5;
      });
      const stats = a.discovery.stats();
      expect(stats.beaconsReceived).toBe(1);
      expect(stats.replayed).toBe(3);
      expect(stats.unauthenticated).toBe(1);
      expect(a.peers).toHaveLength(1);
    } finally {
      sender.close();
    }
  });
});
