import type { ProtocolAction } from '../actions.js';
import type { Gossip } from '../messages.js';
import {
  requireNonNegativeIntegers,
  requirePositiveDurations,
  requirePositiveIntegers,
} from '../option-checks.js';
import type { Millis, NodeId, PeerInfo } from '../types.js';
import { admitNewGossip, type MessageAuthenticator } from './authenticator.js';
import { isWellFormedGossip, messageKey } from './message-id.js';
import { isUnseenBroadcast, SeenCache } from './seen-cache.js';
import { SequenceCounter } from './sequence.js';
import {
  type BroadcastEvent,
  type BroadcastStats,
  type BroadcastStrategy,
  type BroadcastTimer,
  emptyBroadcastStats,
} from './strategy.js';

export interface FloodOptions {
  /** Most (origin, seq) pairs remembered for duplicate suppression. */
  readonly seenCacheMaxEntries: number;
  /** How long a pair is remembered. */
  readonly seenCacheMaxAge: Millis;
  /** Period of the sweep that drops pairs older than `seenCacheMaxAge`. */
  readonly seenSweepInterval: Millis;
  /**
   * Sequence number of this node's first broadcast. A node restarted with the same id must not
   * reuse numbers its previous life sent, or peers would drop its messages as duplicates; the
   * runtime passes Date.now() * 1000, which grows faster than any node broadcasts.
   */
  readonly initialSeq: number;
}

/**
 * A flood's duplicates all arrive within a few link latencies of the first copy (milliseconds on
 * a LAN), so a minute of memory covers stalled links and GC pauses with a wide margin.
 */
export const DEFAULT_SEEN_CACHE_MAX_AGE: Millis = 60_000;
/**
 * Caps memory at roughly 10,000 × ~150 bytes ≈ 1.5 MB per node. It holds the full minute up to
 * ~166 broadcasts/s network-wide; above that the count bound shortens the window (10,000 / rate),
 * which stays far longer than a flood takes to settle until rates of thousands per second.
 * A simulator of 100,000 nodes with few messages pays only for the messages it sends.
 */
export const DEFAULT_SEEN_CACHE_MAX_ENTRIES = 10_000;
/** Sweeping every 10 s keeps entries at most 70 s old; each sweep touches only expired entries. */
export const DEFAULT_SEEN_SWEEP_INTERVAL: Millis = 10_000;
/** Tests and simulations start at zero; the runtime overrides this (see FloodOptions.initialSeq). */
export const DEFAULT_INITIAL_SEQ = 0;
/** Highest initialSeq: four billion broadcasts before a seq outgrows the wire's 53 bits. */
export const MAX_INITIAL_SEQ = Number.MAX_SAFE_INTEGER - 2 ** 32;

export const DEFAULT_FLOOD_OPTIONS: FloodOptions = {
  seenCacheMaxEntries: DEFAULT_SEEN_CACHE_MAX_ENTRIES,
  seenCacheMaxAge: DEFAULT_SEEN_CACHE_MAX_AGE,
  seenSweepInterval: DEFAULT_SEEN_SWEEP_INTERVAL,
  initialSeq: DEFAULT_INITIAL_SEQ,
};

/** Throws RangeError for a configuration no node could run with; a programming error, not input. */
export function validateFloodOptions(options: FloodOptions): void {
  requirePositiveIntegers(options, ['seenCacheMaxEntries']);
  requirePositiveDurations(options, ['seenCacheMaxAge', 'seenSweepInterval']);
  requireNonNegativeIntegers(options, ['initialSeq']);
  if (options.initialSeq > MAX_INITIAL_SEQ)
    throw new RangeError(`initialSeq must be at most ${MAX_INITIAL_SEQ}`);
}

/** Plain data naming only its type: one object serves every arming (see plumtree's IHAVE_FLUSH_TIMER). */
const SEEN_SWEEP_TIMER: BroadcastTimer = { type: 'seenSweep' };

/** The timer after which the seen cache (and Plumtree's payload cache) drop what has aged out. */
export function seenSweepTimer(options: FloodOptions): ProtocolAction {
  return { type: 'setTimer', after: options.seenSweepInterval, timer: SEEN_SWEEP_TIMER };
}

/**
 * Plain flooding: every new payload goes to every active neighbour except the one it came from.
 * Over a connected overlay it reaches everyone; each node sends each payload up to |active| - 1
 * times, and the seen cache turns the redundant copies into counted duplicates.
 */
export class FloodBroadcast implements BroadcastStrategy {
  private readonly selfId: NodeId;
  private readonly options: FloodOptions;
  private readonly neighbours = new Map<NodeId, PeerInfo>();
  private readonly seen: SeenCache;
  private readonly sequence: SequenceCounter;
  private started = false;
  private readonly counters: BroadcastStats = emptyBroadcastStats();
  private readonly authenticator: MessageAuthenticator | undefined;

  constructor(selfId: NodeId, options: FloodOptions, authenticator?: MessageAuthenticator) {
    this.selfId = selfId;
    this.options = options;
    this.authenticator = authenticator;
    this.seen = new SeenCache(options.seenCacheMaxEntries, options.seenCacheMaxAge);
    this.sequence = new SequenceCounter(options.initialSeq);
  }

  stats(): BroadcastStats {
    return { ...this.counters, seenCacheSize: this.seen.size };
  }

  lastSeq(): number {
    return this.sequence.last;
  }

  isUnseen(message: Gossip): boolean {
    return isUnseenBroadcast(message, this.selfId, this.seen);
  }

  /** Flooding pushes over every link alike: none is worth more than another. */
  carriesTree(_peer: NodeId): boolean {
    return false;
  }

  /** Flooding pushes every payload at once: nothing is left for a neighbour to fetch later. */
  leave(_now: Millis, _out: ProtocolAction[]): void {}

  handle(event: BroadcastEvent, now: Millis, out: ProtocolAction[]): void {
    switch (event.type) {
      case 'start':
        if (this.started) return;
        this.started = true;
        this.armSweep(out);
        return;
      case 'neighborUp':
        this.neighbours.set(event.peer.id, event.peer);
        return;
      case 'neighborDown':
        this.neighbours.delete(event.peer.id);
        return;
      case 'broadcast':
        this.originate(event.payload, event.minSeq, out);
        return;
      case 'message':
        if (event.message.type === 'gossip') this.onGossip(event.from, event.message, now, out);
        else this.counters.invalidPayloads++;
        return;
      case 'timer':
        this.seen.sweep(now);
        this.armSweep(out);
        return;
    }
  }

  private originate(payload: Uint8Array, minSeq: number | undefined, out: ProtocolAction[]): void {
    const seq = this.sequence.take(minSeq);
    this.counters.broadcasts++;
    const signature = this.authenticator?.sign(this.selfId, seq, payload);
    const message: Gossip = { type: 'gossip', origin: this.selfId, seq, hops: 0, signature, payload };
    for (const peer of this.neighbours.values()) this.sendPayload(peer, message, out);
  }

  private onGossip(from: PeerInfo, message: Gossip, now: Millis, out: ProtocolAction[]): void {
    if (!isWellFormedGossip(message)) {
      this.counters.invalidPayloads++;
      return;
    }
    this.counters.payloadsReceived++;
    const key = messageKey(message.origin, message.seq);
    // Our own message is never delivered to ourselves, even after the cache forgot it.
    if (message.origin === this.selfId || this.seen.has(key)) {
      this.counters.duplicates++;
      return;
    }
    if (!admitNewGossip(this.seen, this.authenticator, from, message, key, now, this.counters, out)) return;
    const relay: Gossip = { ...message, hops: message.hops + 1 };
    for (const peer of this.neighbours.values()) {
      if (peer.id !== from.id) this.sendPayload(peer, relay, out);
    }
    // After the relays, as in Plumtree: a listener that takes its time holds up no peer.
    out.push({
      type: 'deliver',
      origin: message.origin,
      seq: message.seq,
      hops: message.hops + 1,
      payload: message.payload,
    });
  }

  private sendPayload(to: PeerInfo, message: Gossip, out: ProtocolAction[]): void {
    this.counters.payloadsSent++;
    out.push({ type: 'send', to, message });
  }

  private armSweep(out: ProtocolAction[]): void {
    out.push(seenSweepTimer(this.options));
  }
}
