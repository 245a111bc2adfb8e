import type { ProtocolAction } from '../actions.js';
import type { BroadcastMessage, Gossip } from '../messages.js';
import type { Millis, NodeId, PeerInfo } from '../types.js';

/** Timers of the broadcast layer; plain data. */
export type BroadcastTimer =
  /** Forget old message ids (and, for Plumtree, old cached payloads); re-armed each time. */
  | { readonly type: 'seenSweep' }
  /**
   * Plumtree: (origin, seq) was announced but has not arrived; ask the next announcer for it.
   * `token` tells this deadline from an older one for the same message, which must be ignored.
   */
  | { readonly type: 'graftTimeout'; readonly origin: NodeId; readonly seq: number; readonly token: number }
  /** Plumtree: send the IHave announcements collected since the last flush. */
  | { readonly type: 'ihaveFlush' };

const BROADCAST_TIMER_TYPES: ReadonlySet<string> = new Set(['seenSweep', 'graftTimeout', 'ihaveFlush']);

export function isBroadcastTimer(timer: { readonly type: string }): timer is BroadcastTimer {
  return BROADCAST_TIMER_TYPES.has(timer.type);
}

/** What the Protocol feeds a broadcast strategy. Neighbour changes come from the membership layer. */
export type BroadcastEvent =
  | { readonly type: 'start' }
  | { readonly type: 'neighborUp'; readonly peer: PeerInfo }
  /** `leaving`: this node is leaving the overlay; the peer is forgotten, and nobody told. */
  | { readonly type: 'neighborDown'; readonly peer: PeerInfo; readonly leaving?: boolean }
  | { readonly type: 'message'; readonly from: PeerInfo; readonly message: BroadcastMessage }
  | { readonly type: 'broadcast'; readonly payload: Uint8Array; readonly minSeq?: number }
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
  /** Broadcast-layer control messages sent (Plumtree IHave/Graft/Prune/Relink; zero for flooding). */
  broadcastControlSent: number;
  /** Broadcast messages dropped: out-of-range fields, or a kind this strategy does not speak. */
  invalidPayloads: number;
  /** New payloads without a valid signature of their origin: dropped, and their link closed. */
  invalidSignatures: number;
  /** New payloads with a valid signature but outside the replay window: dropped. */
  staleMessages: number;
  /** Gauge: (origin, seq) pairs remembered for duplicate suppression. */
  seenCacheSize: number;
  // Plumtree only; zero for flooding.
  /** IHave messages sent, and the announcements they carried. */
  ihaveMessagesSent: number;
  ihaveEntriesSent: number;
  /** Graft messages sent: to fetch a missing payload, or (optimisations) only to re-link. */
  graftsSent: number;
  /** Prune messages sent: after a duplicate payload, or to drop a parent (optimisations). */
  prunesSent: number;
  /** Relink messages sent: after losing a tree link, to the neighbours that were lazy towards us. */
  relinksSent: number;
  /** Grafts answered with the payload from the cache. */
  graftsAnswered: number;
  /** Grafts that asked for a payload no longer (or never) in the cache. */
  graftsUnanswerable: number;
  /**
   * Payloads a Graft asked for, or its catch-up would have sent, that were not sent: that
   * neighbour had them from us already while cached, or its catch-up byte budget was spent.
   */
  graftAnswersWithheld: number;
  /** Tree optimisations: a lazy link announced a clearly shorter path, so it replaced the parent. */
  optimisations: number;
  /** Payloads a new parent sent after an optimisation's Graft, which had passed it just before. */
  catchUpPayloadsSent: number;
  /**
   * Prunes taken back with a Graft: a first copy came over the link while our Prune was on its
   * way, so the link carried that message after all (PlumtreeBroadcast.revokePrune).
   */
  prunesRevoked: number;
  /**
   * Graft timeouts waited on once more because the tree was still bringing older messages of the
   * origin (PlumtreeBroadcast.onGraftTimeout).
   */
  graftsDeferred: number;
  /** Announcements ignored because their sender already had too many outstanding. */
  announcementsDropped: number;
  /** Broadcast control messages from peers outside the active view, ignored. */
  strangerMessages: number;
  /**
   * Gauges: eager and lazy peers of the shared tree, origins with a tree of their own (see
   * OriginTrees), messages announced but missing, cached payloads.
   */
  eagerPeers: number;
  lazyPeers: number;
  originTrees: number;
  missingMessages: number;
  payloadCacheEntries: number;
  payloadCacheBytes: number;
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
    invalidSignatures: 0,
    staleMessages: 0,
    seenCacheSize: 0,
    ihaveMessagesSent: 0,
    ihaveEntriesSent: 0,
    graftsSent: 0,
    prunesSent: 0,
    relinksSent: 0,
    graftsAnswered: 0,
    graftsUnanswerable: 0,
    graftAnswersWithheld: 0,
    optimisations: 0,
    catchUpPayloadsSent: 0,
    prunesRevoked: 0,
    graftsDeferred: 0,
    announcementsDropped: 0,
    strangerMessages: 0,
    eagerPeers: 0,
    lazyPeers: 0,
    originTrees: 0,
    missingMessages: 0,
    payloadCacheEntries: 0,
    payloadCacheBytes: 0,
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
  /** Whether a received `message` would be new here, and so have its signature checked (isUnseenBroadcast). */
  isUnseen(message: Gossip): boolean;
  /**
   * Whether losing the link to neighbour `peer` would cut a broadcast tree here (a link payloads
   * are pushed over); the membership evicts another neighbour first when it can.
   */
  carriesTree(peer: NodeId): boolean;
  /**
   * This node is about to leave (its goodbyes follow these actions on each link): hand the
   * neighbours what only this node holds, which they could no longer fetch from it.
   */
  leave(now: Millis, out: ProtocolAction[]): void;
}

/**
 * Names of the strategies the Protocol can build: 'plumtree' (the default) pushes payloads along
 * a spanning tree and only announces them on the other links; 'flood' pushes every payload on
 * every link, the simplest reference.
 */
export type BroadcastKind = 'flood' | 'plumtree';

export const BROADCAST_KINDS: readonly BroadcastKind[] = ['flood', 'plumtree'];
