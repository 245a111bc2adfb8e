import type { NodeId, PeerInfo } from '../types.js';

/** Timers the membership layer arms; plain data so the runtime or simulator can store them. */
export type MembershipTimer =
  /** Start a shuffle; re-armed with jitter each time it fires. */
  | { readonly type: 'shuffle' }
  /** Top the active view up from the passive view; re-armed each time it fires. */
  | { readonly type: 'repair' }
  /**
   * Deadline of the Neighbor request (or Join) numbered `request` to `peer`. The number tells it
   * from a later request to the same peer, whose own deadline must not be cut short.
   */
  | { readonly type: 'neighborTimeout'; readonly peer: NodeId; readonly request: number }
  /** Try again to reach a neighbour whose link went silent; re-armed while any is remembered. */
  | { readonly type: 'reconnect' }
  /** Deadline of the OverlayTag probe numbered `request` to a late bootstrap contact `peer`. */
  | { readonly type: 'probeTimeout'; readonly peer: NodeId; readonly request: number }
  /** Pass the overlay tag, which fell within TAG_FLOOD_INTERVAL of the last time, on now. */
  | { readonly type: 'tagFlood' };

const MEMBERSHIP_TIMER_TYPES: ReadonlySet<string> = new Set([
  'shuffle',
  'repair',
  'neighborTimeout',
  'reconnect',
  'probeTimeout',
  'tagFlood',
]);

export function isMembershipTimer(timer: { readonly type: string }): timer is MembershipTimer {
  return MEMBERSHIP_TIMER_TYPES.has(timer.type);
}

/**
 * Whether `address`, given by `namedBy` (a neighbour, or the node our shuffle walk ended at) for a
 * peer we do not know, may be kept and dialled later. The runtime refuses addresses no honest node
 * passes on (src/transport/second-hand.ts); the simulator's addresses are names, and it takes all.
 */
export type AddressCheck = (address: string, namedBy: PeerInfo) => boolean;

/** Monotonic counters (and two gauges) describing what the membership layer did. */
export interface MembershipStats {
  /** Membership messages this node sent, of every kind. */
  controlMessagesSent: number;
  /** Membership messages this node received, of every kind. */
  controlMessagesReceived: number;
  joinsSent: number;
  forwardJoinsSent: number;
  neighborRequestsSent: number;
  neighborRequestsAccepted: number;
  neighborRequestsRejected: number;
  neighborRequestTimeouts: number;
  /** Neighbor{high} sent by a starving node after every passive peer refused it. */
  escalations: number;
  /** Neighbor{high} sent to a neighbour whose link had gone silent, to heal a partition. */
  reconnects: number;
  /** Neighbor{high} sent to a node of another overlay heard on the LAN, to join the two. */
  merges: number;
  /** Joins sent through a late bootstrap contact in another overlay (see HyParView.lateContact). */
  lateJoins: number;
  /** Times this node adopted a smaller overlay tag from a neighbour (see OverlayTag). */
  tagChanges: number;
  shufflesStarted: number;
  shuffleRepliesSent: number;
  disconnectsSent: number;
  /** Peers that entered / left the active view. */
  neighborUps: number;
  neighborDowns: number;
  /** Active peers dropped to make room for another (each also counts as a neighborDown). */
  evictions: number;
  /** Active peers lost to a broken link or failed dial. */
  failures: number;
  /** Membership messages dropped because a field was out of range. */
  invalidMessages: number;
  /**
   * Peers named second-hand at an address the AddressCheck refused: left out, or the ForwardJoin or
   * Shuffle about them dropped. A peer we know keeps the address we know and is never counted.
   */
  unusableAddresses: number;
  /** Gauge: Neighbor requests and Joins awaiting an answer. */
  pendingRequests: number;
  /** Gauge: peers in the active view. */
  activeViewSize: number;
  /** Gauge: peers in the passive view. */
  passiveViewSize: number;
}

export function emptyMembershipStats(): MembershipStats {
  return {
    controlMessagesSent: 0,
    controlMessagesReceived: 0,
    joinsSent: 0,
    forwardJoinsSent: 0,
    neighborRequestsSent: 0,
    neighborRequestsAccepted: 0,
    neighborRequestsRejected: 0,
    neighborRequestTimeouts: 0,
    escalations: 0,
    reconnects: 0,
    merges: 0,
    lateJoins: 0,
    tagChanges: 0,
    shufflesStarted: 0,
    shuffleRepliesSent: 0,
    disconnectsSent: 0,
    neighborUps: 0,
    neighborDowns: 0,
    evictions: 0,
    failures: 0,
    invalidMessages: 0,
    unusableAddresses: 0,
    pendingRequests: 0,
    activeViewSize: 0,
    passiveViewSize: 0,
  };
}
