import { describe, expect, it } from 'vitest';
import { encodeAuthenticatedBeacon, encodeBeacon } from '../../src/codec/beacon.js';
import {
  BEACON_BURST_PER_HOST,
  BEACON_BURST_PER_NODE,
  BEACON_MAX_AGE_MS,
  BEACONS_PER_NODE_PER_SECOND,
  BeaconFilter,
  type BeaconVerdict,
  MAX_TRACKED_BEACON_SOURCES,
} from '../../src/discovery/beacon-filter.js';
import { networkKeyFromSecret } from '../../src/identity/network-key.js';
import { randomNodeId } from './helpers.js';

const HOST = '127.0.0.9';
/** The TCP port the filter's own node announces; its beacons come back from HOST. */
const OWN_PORT = 4000;
const KEY = networkKeyFromSecret(Buffer.alloc(32, 1)).beaconKey;
const OTHER_KEY = networkKeyFromSecret(Buffer.alloc(32, 2)).beaconKey;

/** A filter with hand-driven clocks: `wall` for beacon times, `mono` for rate limits. */
function filter(beaconKey?: Buffer) {
  const time = { wall: 1_700_000_000_000, mono: 0 };
  const self = randomNodeId();
  const f = new BeaconFilter({
    self,
    listenPort: OWN_PORT,
    isOwnAddress: (host) => host === HOST,
    beaconKey,
    clock: () => time.wall,
    monotonic: () => time.mono,
  });
  return { f, time, self };
}

const peer = { id: randomNodeId(), port: 4000, wantsPeers: true, tag: randomNodeId() };

/** 'ok' for a beacon believed, else why it was not. */
function kindOf(verdict: BeaconVerdict): string {
  return verdict.ok ? 'ok' : verdict.kind;
}

describe('BeaconFilter', () => {
  it('believes a fresh beacon MACd under our key', () => {
    const { f, time } = filter(KEY);
    const verdict = f.check(encodeAuthenticatedBeacon({ ...peer, sentAt: time.wall - 1000 }, KEY), HOST);
    expect(verdict).toEqual({ ok: true, beacon: peer });
  });

  it.each([
    ['an open beacon', () => encodeBeacon(peer)],
    [
      'a beacon of another network',
      () => encodeAuthenticatedBeacon({ ...peer, sentAt: 1_700_000_000_000 }, OTHER_KEY),
    ],
  ])('in a private network, refuses %s as unauthenticated', (_label, datagram) => {
    const { f } = filter(KEY);
    expect(f.check(datagram(), HOST)).toMatchObject({
      ok: false,
      kind: 'unauthenticated',
      reason: /^wrong-network-key/,
    });
  });

  it('in the open network, refuses a private network beacon as unauthenticated', () => {
    const { f, time } = filter();
    const datagram = encodeAuthenticatedBeacon({ ...peer, sentAt: time.wall }, KEY);
    expect(f.check(datagram, HOST)).toMatchObject({ ok: false, kind: 'unauthenticated' });
    expect(f.check(encodeBeacon(peer), HOST)).toEqual({ ok: true, beacon: peer });
  });

  it('refuses a replayed beacon: the same one again, an older one, or one outside the time window', () => {
    const { f, time } = filter(KEY);
    const first = encodeAuthenticatedBeacon({ ...peer, sentAt: time.wall }, KEY);
    const older = encodeAuthenticatedBeacon({ ...peer, sentAt: time.wall - 500 }, KEY);
    expect(f.check(first, HOST).ok).toBe(true);
    expect(f.check(first, HOST)).toMatchObject({ ok: false, kind: 'replayed' });
    expect(f.check(older, HOST)).toMatchObject({ ok: false, kind: 'replayed' });
    // A beacon recorded earlier by an attacker, replayed once the window has passed.
    const other = { ...peer, id: randomNodeId() };
    const recorded = encodeAuthenticatedBeacon({ ...other, sentAt: time.wall }, KEY);
    time.wall += BEACON_MAX_AGE_MS + 1;
    expect(f.check(recorded, HOST)).toMatchObject({ ok: false, kind: 'replayed' });
    const fromTheFuture = encodeAuthenticatedBeacon(
      { ...other, sentAt: time.wall + BEACON_MAX_AGE_MS + 1 },
      KEY,
    );
    expect(f.check(fromTheFuture, HOST)).toMatchObject({ ok: false, kind: 'replayed' });
  });

  it('believes a beacon exactly BEACON_MAX_AGE_MS off our clock, either way, and refuses one a millisecond further', () => {
    const { f, time } = filter(KEY);
    const at = (offset: number) =>
      encodeAuthenticatedBeacon({ ...peer, id: randomNodeId(), sentAt: time.wall + offset }, KEY);
    expect(kindOf(f.check(at(-BEACON_MAX_AGE_MS), HOST))).toBe('ok');
    expect(kindOf(f.check(at(BEACON_MAX_AGE_MS), HOST))).toBe('ok');
    expect(kindOf(f.check(at(-BEACON_MAX_AGE_MS - 1), HOST))).toBe('replayed');
    expect(kindOf(f.check(at(BEACON_MAX_AGE_MS + 1), HOST))).toBe('replayed');
  });

  it('remembers the last beacon time of at most MAX_TRACKED_BEACON_SOURCES nodes, the least recently heard forgotten first', () => {
    const { f, time } = filter(KEY);
    const beaconOf = (id: string) => encodeAuthenticatedBeacon({ ...peer, id, sentAt: time.wall }, KEY);
    const first = beaconOf(randomNodeId());
    const second = beaconOf(randomNodeId());
    expect(f.check(first, HOST).ok).toBe(true);
    expect(f.check(second, HOST).ok).toBe(true);
    // Each from a host of its own, so that no rate limit interferes.
    const hostOf = (i: number) => `10.1.${i >> 8}.${i & 0xff}`;
    for (let i = 0; i < MAX_TRACKED_BEACON_SOURCES - 1; i++) {
      expect(f.check(beaconOf(randomNodeId()), hostOf(i)).ok).toBe(true);
    }
    // The second node is still remembered; the first, heard least recently, was forgotten to make
    // room for the last: a copy of its beacon is new again (the freshness window still bounds that).
    expect(f.check(second, HOST)).toMatchObject({ ok: false, kind: 'replayed' });
    expect(f.check(first, HOST).ok).toBe(true);
  });

  it('stamps each of its own beacons later than the previous one, even within one millisecond', () => {
    const { f } = filter(KEY);
    const receiver = filter(KEY).f;
    const a = f.encode(peer);
    const b = f.encode(peer);
    expect(receiver.check(a, HOST).ok).toBe(true);
    expect(receiver.check(b, HOST).ok).toBe(true);
  });

  it('is heard again at once after its clock is stepped back by hours, and stays ordered after a small step', () => {
    const sender = filter(KEY);
    const receiver = filter(KEY);
    const trueTime = receiver.time.wall;
    sender.time.wall = trueTime + 2 * 3_600_000; // started with a clock two hours ahead
    expect(receiver.f.check(sender.f.encode(peer), HOST)).toMatchObject({ ok: false, kind: 'replayed' });
    sender.time.wall = trueTime; // NTP steps it back
    expect(receiver.f.check(sender.f.encode(peer), HOST)).toEqual({ ok: true, beacon: peer });
    // A step back within half the window keeps the times increasing: every beacon is still new.
    receiver.time.wall += 1000;
    sender.time.wall = receiver.time.wall;
    expect(receiver.f.check(sender.f.encode(peer), HOST).ok).toBe(true);
    sender.time.wall -= BEACON_MAX_AGE_MS / 2 - 1000;
    expect(receiver.f.check(sender.f.encode(peer), HOST).ok).toBe(true);
    expect(receiver.f.check(sender.f.encode(peer), HOST).ok).toBe(true);
  });

  it('ignores its own beacons and refuses port 0', () => {
    const { f, self } = filter();
    const own = encodeBeacon({ id: self, port: OWN_PORT, wantsPeers: true, tag: self });
    expect(f.check(own, HOST)).toMatchObject({ ok: false, kind: 'own' });
    expect(f.check(encodeBeacon({ ...peer, port: 0 }), HOST)).toMatchObject({ ok: false, kind: 'malformed' });
  });

  it.each([
    ['another port on our address (a second process with our key file)', HOST, OWN_PORT + 1],
    ['our port from another address (another machine with a copy of it)', '10.0.0.2', OWN_PORT],
    ['another port from another address', '10.0.0.2', OWN_PORT + 1],
  ])('reports our node id announced from %s as a conflict, with its address', (_label, host, port) => {
    const conflict = {
      ok: false,
      kind: 'conflict',
      reason: `identity-conflict: ${host}:${port} announces our node id`,
      address: `${host}:${port}`,
    };
    const open = filter();
    expect(
      open.f.check(encodeBeacon({ id: open.self, port, wantsPeers: true, tag: open.self }), host),
    ).toEqual(conflict);
    const closed = filter(KEY);
    const sentAt = closed.time.wall;
    const beacon = encodeAuthenticatedBeacon(
      { id: closed.self, port, wantsPeers: true, tag: closed.self, sentAt },
      KEY,
    );
    expect(closed.f.check(beacon, host)).toEqual(conflict);
  });

  it('refuses a recording of our own beacon replayed from another address, instead of reporting a conflict', () => {
    const { f, time, self } = filter(KEY);
    const ours = { id: self, port: OWN_PORT, wantsPeers: true, tag: self };
    const recorded = f.encode(ours);
    const outsider = '10.0.0.66';
    expect(f.check(recorded, HOST)).toMatchObject({ ok: false, kind: 'own' });
    expect(f.check(recorded, outsider)).toMatchObject({ ok: false, kind: 'replayed' });
    time.wall += 3_600_000;
    expect(f.check(recorded, outsider)).toMatchObject({ ok: false, kind: 'replayed' });
    // A real copy of our identity stamps by its own clock, which may run behind ours: still reported.
    f.encode(ours);
    const copy = encodeAuthenticatedBeacon({ ...ours, sentAt: time.wall - 2000 }, KEY);
    expect(f.check(copy, '10.0.0.2')).toMatchObject({ ok: false, kind: 'conflict' });
  });

  it('remembers the send times of at most MAX_TRACKED_BEACON_SOURCES of its own beacons, the oldest forgotten first', () => {
    const { f, self } = filter(KEY);
    const ours = { id: self, port: OWN_PORT, wantsPeers: true, tag: self };
    // The clock stands still: every beacon is within the window, and only the bound forgets one.
    const first = f.encode(ours);
    const second = f.encode(ours);
    for (let i = 0; i < MAX_TRACKED_BEACON_SOURCES - 1; i++) f.encode(ours);
    const outsider = '10.0.0.66';
    expect(f.check(second, outsider)).toMatchObject({ ok: false, kind: 'replayed' });
    // The first is no longer known for ours: from elsewhere it reads as a copy of our identity.
    expect(f.check(first, outsider)).toMatchObject({ ok: false, kind: 'conflict' });
  });

  it('rate-limits beacons with our id from elsewhere and refuses their port 0, as it does any other', () => {
    const { f, self } = filter();
    const fromPort = (port: number) => encodeBeacon({ id: self, port, wantsPeers: true, tag: self });
    expect(f.check(fromPort(0), '10.0.0.2')).toMatchObject({ ok: false, kind: 'malformed' });
    // One host inventing a new address (port) per beacon: each conflict would be a warning and an event.
    const kinds = Array.from({ length: BEACON_BURST_PER_HOST + 10 }, (_, i) =>
      kindOf(f.check(fromPort(i + 1), '10.0.0.66')),
    );
    expect(kinds.filter((kind) => kind === 'conflict')).toHaveLength(BEACON_BURST_PER_HOST);
    expect(kinds.slice(BEACON_BURST_PER_HOST)).toEqual(Array(10).fill('rate-limited'));
    // Our own beacons looping back are neither limited nor limit anyone else on our host.
    const own = fromPort(OWN_PORT);
    for (let i = 0; i < BEACON_BURST_PER_HOST; i++) expect(kindOf(f.check(own, HOST))).toBe('own');
    expect(f.check(encodeBeacon(peer), HOST).ok).toBe(true);
  });

  it('limits the beacons believed per node, refilling with time', () => {
    const { f, time } = filter();
    const datagram = encodeBeacon(peer);
    const results = Array.from({ length: BEACON_BURST_PER_NODE + 10 }, () => f.check(datagram, HOST).ok);
    expect(results.filter(Boolean)).toHaveLength(BEACON_BURST_PER_NODE);
    expect(f.check(datagram, HOST)).toMatchObject({ ok: false, kind: 'rate-limited' });
    time.mono += 1000;
    const refilled = Array.from({ length: 50 }, () => f.check(datagram, HOST).ok).filter(Boolean);
    expect(refilled).toHaveLength(BEACONS_PER_NODE_PER_SECOND);
    // Another node on the same host has its own allowance.
    expect(f.check(encodeBeacon({ ...peer, id: randomNodeId() }), HOST).ok).toBe(true);
  });
});
