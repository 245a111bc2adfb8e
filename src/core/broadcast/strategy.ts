import type { ProtocolAction } from '../actions.js';
import type { BroadcastMessage } from '../messages.js';
import type { Millis, PeerInfo } from '../types.js';

/** Timers of the broadcast layer; plain data. Plumtree will add its own variants here. */
export type BroadcastTimer = { readonly type: 'seenSweep' };

const BROADCAST_TIMER_TYPES: ReadonlySet<string> = new Set(['seenSweep']);

export function isBroadcastTimer(timer: { readonly type: string }): timer is BroadcastTimer {
  return BROADCAST_TIMER_TYPES.has(timer.type);
}

/** What the Protocol feeds a broadcast strategy. Neighbour changes come from the membership layer. */
export type BroadcastEvent =
  | { readonly type: 'start' }
  | { readonly type: 'neighborUp'; readonly peer: PeerInfo }
  | { readonly type: 'neighborDown'; readonly peer: PeerInfo }
  | { readonly type: 'message'; readonly from: PeerInfo; readonly message: BroadcastMessage }
  | { readonly type: 'broadcast'; readonly payload: Uint8Array }
  | { readonly type: 'timer'; readonly timer: BroadcastTimer };

export interface BroadcastStats {
  /** Payloads this node originated. */
  broadcasts: number;
  /** Gossip messages sent, originated and relayed. */
  payloadsSent: number;
  /** Gossip messages received, duplicates included. */
  payloadsReceived: number;
  /** Received payloads already seen (or our own coming back). */
  duplicates: number;
  /** Payloads handed to the application. */
  delivered: number;
  /** Broadcast-layer control messages sent (Plumtree IHave/Graft/Prune; zero for flooding). */
  broadcastControlSent: number;
  /** Broadcast messages dropped: out-of-range fields, or a kind this strategy does not speak. */
  invalidPayloads: number;
  /** Gauge: (origin, seq) pairs remembered for duplicate suppression. */
  seenCacheSize: number;
}

export function emptyBroadcastStats(): BroadcastStats {
  return {
    broadcasts: 0,
    payloadsSent: 0,
    payloadsReceived: 0,
    duplicates: 0,
    delivered: 0,
    broadcastControlSent: 0,
    invalidPayloads: 0,
    seenCacheSize: 0,
  };
}

/**
 * A dissemination algorithm over the active view. It appends what it wants done to `out` (no
 * return array, so a relay costs no extra allocation) and never does IO itself.
 */
export interface BroadcastStrategy {
  handle(event: BroadcastEvent, now: Millis, out: ProtocolAction[]): void;
  stats(): BroadcastStats;
  /** Sequence number of this node's latest broadcast (initialSeq - 1 before the first). */
  lastSeq(): number;
}

/** Names of the strategies the Protocol can build; Plumtree will join 'flood'. */
export type BroadcastKind = 'flood';
