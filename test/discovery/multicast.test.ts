import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { BEACON_BYTES, BEACON_VERSION, encodeBeacon } from '../../src/codec/index.js';
import { MAX_TRACKED_BEACON_SOURCES } from '../../src/discovery/beacon-filter.js';
import { DEFAULT_DISCOVERY_PORT } from '../../src/discovery/multicast.js';
import { type Probe, probe, randomNodeId, rawSender, uniqueGroup, waitFor, withDeadline } from './helpers.js';

// Every test here opens real sockets: run it only through scripts/in-loopback-netns.sh.

const running: Probe[] = [];

async function started(group: string, ...options: Parameters<typeof probe>[1][]): Promise<Probe[]> {
  const probes = options.map((o) => probe(group, o));
  running.push(...probes);
  await Promise.all(probes.map((p) => p.discovery.start()));
  return probes;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.discovery.stop()));
});

/** Fast cadence so tests see many beacons quickly. */
const FAST = { eagerIntervalMs: 20, announceIntervalMs: 20 };

describe('MulticastDiscovery on loopback', () => {
  it('lets two instances find each other, with dialable addresses and the wantsPeers flag', async () => {
    const [a, b] = (await started(uniqueGroup(), { wantsPeers: true }, { wantsPeers: false })) as [
      Probe,
      Probe,
    ];
    await waitFor('a and b to hear each other', () => a.heardFrom(b.id) > 0 && b.heardFrom(a.id) > 0);

    expect(a.peers[0]).toEqual({
      id: b.id,
      address: `127.0.0.1:${b.listenPort}`,
      wantsPeers: false,
      tag: b.id,
    });
    expect(b.peers[0]).toEqual({
      id: a.id,
      address: `127.0.0.1:${a.listenPort}`,
      wantsPeers: true,
      tag: a.id,
    });
  });

  it('lets three instances all find each other', async () => {
    const probes = await started(uniqueGroup(), {}, {}, {});
    await waitFor('every pair to meet', () =>
      probes.every((p) => probes.every((q) => p === q || p.heardFrom(q.id) > 0)),
    );
    for (const p of probes) {
      expect(p.heardFrom(p.id)).toBe(0);
      expect(new Set(p.peers.map((peer) => peer.id)).size).toBe(2);
    }
  });

  it('ignores and counts its own looped-back beacons', async () => {
    const [a] = (await started(uniqueGroup(), FAST)) as [Probe];
    await waitFor('own beacons to loop back', () => a.discovery.stats().ownIgnored >= 5);

    const stats = a.discovery.stats();
    expect(a.peers).toEqual([]);
    expect(stats.beaconsReceived).toBe(0);
    expect(stats.malformed).toBe(0);
    expect(stats.beaconsSent).toBeGreaterThanOrEqual(stats.ownIgnored);
  });

  it('takes the beacons that come back from its pinned interface for its own, whatever the OS lists', async () => {
    // 127.0.0.2 is local (the loopback interface holds all of 127.0.0.0/8) but is no interface's
    // listed address: only the pin says that our beacons come back from it.
    const [a] = (await started(uniqueGroup(), { ...FAST, interfaceAddress: '127.0.0.2' })) as [Probe];
    await waitFor('own beacons to loop back', () => a.discovery.stats().ownIgnored >= 3);
    expect(a.conflicts).toEqual([]);
    expect(a.discovery.stats().identityConflicts).toBe(0);
  });

  it('reports, once, another instance that announces its node id, and hears no peer in it', async () => {
    const id = randomNodeId();
    const [a, b] = (await started(uniqueGroup(), { ...FAST, self: id }, { ...FAST, self: id })) as [
      Probe,
      Probe,
    ];
    await waitFor(
      'several beacons of each to reach the other',
      () => a.discovery.stats().identityConflicts >= 5 && b.discovery.stats().identityConflicts >= 5,
    );

    expect(a.conflicts).toEqual([`127.0.0.1:${b.listenPort}`]);
    expect(b.conflicts).toEqual([`127.0.0.1:${a.listenPort}`]);
    for (const p of [a, b]) {
      expect(p.peers).toEqual([]);
      expect(p.rejected).toEqual([]);
      expect(p.discovery.stats().ownIgnored).toBeGreaterThan(0);
    }
  });

  it('still reports a real copy of its identity after a flood of beacons with its id from invented addresses', async () => {
    const group = uniqueGroup();
    const [a] = (await started(group, { announceIntervalMs: 60_000, wantsPeers: false })) as [Probe];
    const withOurId = (port: number) => encodeBeacon({ id: a.id, port, wantsPeers: true, tag: a.id });
    // Every beacon with our id from elsewhere is counted as one or the other.
    const counted = () => a.discovery.stats().identityConflicts + a.discovery.stats().rateLimited;
    const flooder = await rawSender();
    const copy = await rawSender('127.0.0.2');
    try {
      // More invented addresses than discovery remembers, in batches small enough for the socket buffer.
      const batches = Math.ceil(MAX_TRACKED_BEACON_SOURCES / 100) + 1;
      let sent = 0;
      for (let b = 0; b < batches; b++) {
        for (let i = 0; i < 100; i++) await flooder.sendTo(group, DEFAULT_DISCOVERY_PORT, withOurId(++sent));
        await waitFor(`${sent} beacons to be counted`, () => counted() === sent);
      }
      await copy.sendTo(group, DEFAULT_DISCOVERY_PORT, withOurId(4000));
      await waitFor("the copy's beacon to be counted", () => counted() === sent + 1);

      expect(a.conflicts).toContain('127.0.0.2:4000');
      expect(a.discovery.stats().rateLimited).toBeGreaterThan(0);
    } finally {
      flooder.close();
      copy.close();
    }
  });

  it('drops and counts malformed datagrams while real beacons still arrive', async () => {
    const group = uniqueGroup();
    const [a, b] = (await started(group, {}, FAST)) as [Probe, Probe];
    const sender = await rawSender();
    try {
      const valid = encodeBeacon({ id: randomNodeId(), port: 4000, wantsPeers: true, tag: randomNodeId() });
      const wrongMagic = Buffer.from(valid);
      wrongMagic.write('XCST', 0, 'ascii');
      const wrongVersion = Buffer.from(valid);
      wrongVersion[4] = BEACON_VERSION + 1;
      const portZero = encodeBeacon({ id: randomNodeId(), port: 0, wantsPeers: false, tag: randomNodeId() });
      const junk: [Uint8Array, string][] = [
        [Buffer.alloc(0), 'truncated'],
        [Buffer.from('hello world'), 'bad-magic'],
        [valid.subarray(0, 4), 'truncated'],
        [valid.subarray(0, BEACON_BYTES - 1), 'truncated'],
        [Buffer.concat([valid, Buffer.from([0])]), 'trailing-bytes'],
        [wrongMagic, 'bad-magic'],
        [wrongVersion, 'bad-version'],
        [portZero, 'bad-field'],
      ];
      for (const [bytes] of junk) await sender.sendTo(group, DEFAULT_DISCOVERY_PORT, bytes);
      await waitFor('all junk to be rejected', () => a.discovery.stats().malformed === junk.length);

      expect(a.rejected.map((r) => r.reason.split(':')[0])).toEqual(junk.map(([, reason]) => reason));
      expect(new Set(a.rejected.map((r) => r.from))).toEqual(new Set([`127.0.0.1:${sender.address().port}`]));
      expect(a.peers.every((p) => p.id === b.id)).toBe(true);

      // Still working after the junk: a fresh beacon from b arrives.
      const heardBefore = a.heardFrom(b.id);
      await waitFor('a beacon from b after the junk', () => a.heardFrom(b.id) > heardBefore);
    } finally {
      sender.close();
    }
  });

  it('survives arbitrary datagrams (property)', async () => {
    const group = uniqueGroup();
    const [a] = (await started(group, { announceIntervalMs: 60_000, wantsPeers: false })) as [Probe];
    const sender = await rawSender();
    try {
      // Random bytes essentially never start with the magic, so each one must be rejected.
      const datagrams = fc.sample(fc.uint8Array({ maxLength: 200 }), { numRuns: 200, seed: 42 });
      for (const datagram of datagrams) await sender.sendTo(group, DEFAULT_DISCOVERY_PORT, datagram);
      await waitFor(
        'every datagram to be rejected',
        () => a.discovery.stats().malformed === datagrams.length,
      );
      expect(a.peers).toEqual([]);
    } finally {
      sender.close();
    }
  });

  it('announces at the eager cadence while it wants peers and slowly otherwise', async () => {
    const group = uniqueGroup();
    // The clock for "nothing was sent meanwhile" is another node's beacons, not a sleep.
    const [a, clock, listener] = (await started(
      group,
      { eagerIntervalMs: 20, announceIntervalMs: 60_000, wantsPeers: true },
      FAST,
      { announceIntervalMs: 60_000, wantsPeers: false },
    )) as [Probe, Probe, Probe];
    await waitFor('a to announce eagerly', () => a.discovery.stats().beaconsSent >= 10);

    a.discovery.setWantsPeers(false);
    const sentWhenSlowed = a.discovery.stats().beaconsSent;
    const heardWhenSlowed = listener.heardFrom(clock.id);
    await waitFor('20 clock beacons', () => listener.heardFrom(clock.id) >= heardWhenSlowed + 20);
    // At most one send that was already in flight when the cadence changed.
    expect(a.discovery.stats().beaconsSent).toBeLessThanOrEqual(sentWhenSlowed + 1);

    a.discovery.setWantsPeers(true);
    await waitFor('a to announce eagerly again', () => a.discovery.stats().beaconsSent >= sentWhenSlowed + 5);
    expect(listener.peers.filter((p) => p.id === a.id).at(-1)?.wantsPeers).toBe(true);
  });

  it('stop() resolves fast, is idempotent, and the instance falls silent', async () => {
    const group = uniqueGroup();
    const [a, b, clock] = (await started(group, FAST, FAST, FAST)) as [Probe, Probe, Probe];
    await waitFor('a to hear b', () => a.heardFrom(b.id) > 0);

    await withDeadline('stop()', b.discovery.stop(), 500);
    await withDeadline('second stop()', b.discovery.stop(), 500);
    // Beacons already in the socket buffer may still arrive: wait for a's receive queue to drain first.
    const heardAt = a.heardFrom(clock.id);
    await waitFor('a few clock beacons', () => a.heardFrom(clock.id) >= heardAt + 5);
    const heardFromB = a.heardFrom(b.id);
    await waitFor('20 more clock beacons', () => a.heardFrom(clock.id) >= heardAt + 25);

    expect(a.heardFrom(b.id)).toBe(heardFromB);
  });

  it('keeps meshes on different groups of the same port apart', async () => {
    const groupA = uniqueGroup();
    const groupB = uniqueGroup();
    const [a1, a2] = (await started(groupA, FAST, FAST)) as [Probe, Probe];
    const [b1, b2] = (await started(groupB, FAST, FAST)) as [Probe, Probe];

    await waitFor('each pair to exchange 10 beacons', () =>
      [a1.heardFrom(a2.id), a2.heardFrom(a1.id), b1.heardFrom(b2.id), b2.heardFrom(b1.id)].every(
        (n) => n >= 10,
      ),
    );
    for (const p of [a1, a2])
      expect(p.peers.every((peer) => peer.id === a1.id || peer.id === a2.id)).toBe(true);
    for (const p of [b1, b2])
      expect(p.peers.every((peer) => peer.id === b1.id || peer.id === b2.id)).toBe(true);
  });

  it('can be started again after stop()', async () => {
    const group = uniqueGroup();
    const [a, b] = (await started(group, FAST, FAST)) as [Probe, Probe];
    await a.discovery.stop();
    await a.discovery.start();
    const heard = b.heardFrom(a.id);
    await waitFor('b to hear the restarted a', () => b.heardFrom(a.id) > heard);
  });
});
