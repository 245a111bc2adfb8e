import {
  AUTHENTICATED_BEACON_BYTES,
  BEACON_BYTES,
  type Beacon,
  decodeAuthenticatedBeacon,
  decodeBeacon,
  encodeAuthenticatedBeacon,
  encodeBeacon,
} from '../codec/beacon.js';
import type { Millis, NodeId } from '../core/types.js';
import { KeyedRateLimiter } from '../transport/rate-limit.js';

/**
 * Which beacons a node believes: the policy between the socket and the 'peer' event, without
 * sockets or timers (the clock is injected), so every rule is testable on its own.
 *
 * In a private network a beacon must carry a MAC under the network's beacon key and a send time
 * within BEACON_MAX_AGE_MS of ours, later than the last one we accepted from that node: a stranger
 * cannot forge one, and a recorded one cannot be replayed (it is either stale or not newer). In the
 * open network anyone may announce anything, as before; there, as in a private network, a rate limit
 * per node and per host keeps a flood of beacons from turning into a flood of dials.
 */

/**
 * How far a beacon's send time may be from our clock, either way. Beacons repeat every few seconds,
 * so a window of 30 s loses nothing; it does assume the LAN's clocks agree within 30 s (NTP, or any
 * phone-synchronised laptop, keeps them far closer).
 */
export const BEACON_MAX_AGE_MS: Millis = 30_000;

/** Beacons accepted per second from one node, and in a burst: an honest node sends at most ~6 in its first second. */
export const BEACONS_PER_NODE_PER_SECOND = 10;
export const BEACON_BURST_PER_NODE = 20;

/** Beacons accepted per second from one host, all ids together: bounds a flood of invented ids. */
export const BEACONS_PER_HOST_PER_SECOND = 200;
export const BEACON_BURST_PER_HOST = 400;

/** Senders remembered for rate limits and replay detection; beyond it the oldest is forgotten. */
export const MAX_TRACKED_BEACON_SOURCES = 4096;

export type BeaconVerdict =
  | { readonly ok: true; readonly beacon: Beacon }
  | {
      readonly ok: false;
      /** own: our beacon looped back; the others are refusals, each counted separately. */
      readonly kind: 'own' | 'malformed' | 'unauthenticated' | 'replayed' | 'rate-limited';
      readonly reason: string;
    }
  | {
      readonly ok: false;
      /**
       * Our node id in a beacon that is not ours: another node runs with our identity (the same
       * key file, copied or shared). The two can never link, since each takes the other for itself.
       */
      readonly kind: 'conflict';
      readonly reason: string;
      /** Where the other node takes links: the beacon's source address and announced TCP port. */
      readonly address: string;
    };

export interface BeaconFilterOptions {
  readonly self: NodeId;
  /** The TCP port our beacons announce: one of ours with another port is another node's. */
  readonly listenPort: number;
  /** Whether a beacon's source address can be our own: where our beacons come back from. */
  readonly isOwnAddress: (host: string) => boolean;
  /** The network's beacon key; undefined in the open network. */
  readonly beaconKey?: Uint8Array;
  /** Wall clock, ms since the epoch (beacon times are compared across machines). */
  readonly clock?: () => number;
  /** Monotonic clock for rate limits. */
  readonly monotonic?: () => number;
  readonly maxAgeMs?: Millis;
}

export class BeaconFilter {
  private readonly clock: () => number;
  private readonly monotonic: () => number;
  private readonly maxAgeMs: Millis;
  private readonly perNode = new KeyedRateLimiter(
    BEACONS_PER_NODE_PER_SECOND,
    BEACON_BURST_PER_NODE,
    MAX_TRACKED_BEACON_SOURCES,
  );
  private readonly perHost = new KeyedRateLimiter(
    BEACONS_PER_HOST_PER_SECOND,
    BEACON_BURST_PER_HOST,
    MAX_TRACKED_BEACON_SOURCES,
  );
  /** Send time of the last beacon accepted from each node (private networks only). */
  private readonly lastSentAt = new Map<NodeId, number>();
  /** Send time of our previous beacon: the next one is later (see nextOwnSendTime). */
  private lastOwnSentAt = 0;
  /**
   * Send times of our recent beacons, oldest first: only those within the time window matter, since
   * older ones are refused as stale anyway. At most MAX_TRACKED_BEACON_SOURCES, like the other tables.
   */
  private readonly ownSendTimes = new Set<number>();

  constructor(private readonly options: BeaconFilterOptions) {
    this.clock = options.clock ?? Date.now;
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.maxAgeMs = options.maxAgeMs ?? BEACON_MAX_AGE_MS;
  }

  /** Our beacon, authenticated when we are in a private network. */
  encode(beacon: Beacon): Buffer {
    const key = this.options.beaconKey;
    if (key === undefined) return encodeBeacon(beacon);
    this.lastOwnSentAt = this.nextOwnSendTime();
    this.rememberOwnSendTime(this.lastOwnSentAt);
    return encodeAuthenticatedBeacon({ ...beacon, sentAt: this.lastOwnSentAt }, key);
  }

  /**
   * Later than our previous beacon's, so that receivers take each one for new, even within one
   * millisecond or after the clock went back a little (up to half the time window ahead, a time is
   * still accepted by receivers whose clocks are that far behind ours). After a larger step back
   * (NTP correcting a clock that ran ahead), staying later would keep our beacons ahead of every
   * receiver's clock, refused for as long as the step: we start again from the clock. A receiver
   * then refuses ours only until they are later than the last it accepted, which was within the
   * window of its clock: a window's length at most. The replay guard loses nothing: the recordings
   * it could now take for new, of beacons stamped ahead of its clock, it would take just the same
   * while our own beacons stayed ahead.
   */
  private nextOwnSendTime(): number {
    const now = this.clock();
    const later = this.lastOwnSentAt + 1;
    return later - now > this.maxAgeMs / 2 ? now : Math.max(now, later);
  }

  private rememberOwnSendTime(sentAt: number): void {
    const staleBefore = this.clock() - this.maxAgeMs;
    for (const oldest of this.ownSendTimes) {
      if (oldest >= staleBefore && this.ownSendTimes.size < MAX_TRACKED_BEACON_SOURCES) break;
      this.ownSendTimes.delete(oldest);
    }
    this.ownSendTimes.add(sentAt);
  }

  check(datagram: Buffer, host: string): BeaconVerdict {
    const decoded = this.decode(datagram);
    if (!decoded.ok) return decoded;
    const { beacon, sentAt } = decoded;
    // Before the conflict check: an outsider without the key must not pass off a recording of one
    // of our beacons, replayed from its own address, as a copy of our identity.
    if (sentAt !== undefined) {
      const refusal = this.checkFreshness(beacon, sentAt, host);
      if (refusal !== undefined) return { ok: false, kind: 'replayed', reason: refusal };
    }
    const self = beacon.id === this.options.self;
    // Ahead of the rate limits: our own beacons must not use up our host's allowance, which the
    // other nodes on this host share. Dropping a forged one costs no more than rate-limiting it.
    if (self && this.isOwnSource(beacon, host)) return { ok: false, kind: 'own', reason: 'our own beacon' };
    if (beacon.port === 0) {
      // Port 0 cannot be dialled; the codec accepts any u16, so the check belongs here.
      return { ok: false, kind: 'malformed', reason: 'bad-field: beacon announces TCP port 0' };
    }
    // Beacons with our id count against their host's allowance too: a host announcing a new port in
    // each would otherwise make a warning and an event of every one.
    const now = this.monotonic();
    if (!this.perHost.take(host, now)) return rateLimited(host);
    if (self) {
      const address = `${host}:${beacon.port}`;
      return {
        ok: false,
        kind: 'conflict',
        reason: `identity-conflict: ${address} announces our node id`,
        address,
      };
    }
    if (!this.perNode.take(`${host}/${beacon.id}`, now)) return rateLimited(host);
    if (sentAt !== undefined) this.remember(beacon.id, sentAt);
    return { ok: true, beacon };
  }

  /** Whether a beacon with our id comes from where our own beacons loop back from. */
  private isOwnSource(beacon: Beacon, host: string): boolean {
    return beacon.port === this.options.listenPort && this.options.isOwnAddress(host);
  }

  private decode(
    datagram: Buffer,
  ): { ok: true; beacon: Beacon; sentAt: number | undefined } | (BeaconVerdict & { ok: false }) {
    const key = this.options.beaconKey;
    if (key === undefined) {
      if (
        datagram.length === AUTHENTICATED_BEACON_BYTES &&
        decodeBeacon(datagram.subarray(0, BEACON_BYTES)).ok
      ) {
        return unauthenticated('beacon of a private network; we are in the open network');
      }
      const result = decodeBeacon(datagram);
      if (!result.ok) return { ok: false, kind: 'malformed', reason: result.error.message };
      return { ok: true, beacon: result.value, sentAt: undefined };
    }
    if (datagram.length === BEACON_BYTES && decodeBeacon(datagram).ok) {
      return unauthenticated('beacon of the open network; we are in a private network');
    }
    const result = decodeAuthenticatedBeacon(datagram, key);
    if (result.ok) {
      const { sentAt, ...beacon } = result.value;
      return { ok: true, beacon, sentAt };
    }
    if (result.error.message.includes('mac does not verify')) {
      return unauthenticated('mac does not verify under our network key (another network, or forged)');
    }
    return { ok: false, kind: 'malformed', reason: result.error.message };
  }

  private checkFreshness(beacon: Beacon, sentAt: number, host: string): string | undefined {
    const skew = this.clock() - sentAt;
    if (Math.abs(skew) > this.maxAgeMs) {
      return `replayed: beacon time is ${skew} ms off our clock, window ${this.maxAgeMs} ms`;
    }
    const id = beacon.id;
    if (id === this.options.self) {
      // A copy of our identity stamps its beacons by its own clock, interleaved with ours, so "newer
      // than the last" cannot apply to our id. A send time we stamped ourselves is ours, though: heard
      // from anywhere but where our beacons loop back from, it is a recording replayed.
      const ours = this.ownSendTimes.has(sentAt);
      if (ours && !this.isOwnSource(beacon, host)) return 'replayed: our own beacon, from another address';
      return undefined;
    }
    const last = this.lastSentAt.get(id);
    if (last !== undefined && sentAt <= last) return 'replayed: not newer than the last beacon of that node';
    return undefined;
  }

  private remember(id: NodeId, sentAt: number): void {
    this.lastSentAt.delete(id); // re-inserted last: the map's order is then least recently heard first
    if (this.lastSentAt.size >= MAX_TRACKED_BEACON_SOURCES) {
      const oldest = this.lastSentAt.keys().next().value;
      if (oldest !== undefined) this.lastSentAt.delete(oldest);
    }
    this.lastSentAt.set(id, sentAt);
  }
}

function unauthenticated(detail: string): BeaconVerdict & { ok: false } {
  return { ok: false, kind: 'unauthenticated', reason: `wrong-network-key: ${detail}` };
}

function rateLimited(host: string): BeaconVerdict & { ok: false } {
  return { ok: false, kind: 'rate-limited', reason: `rate-limited: too many beacons from ${host}` };
}
