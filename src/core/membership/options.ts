import {
  requireNonNegativeIntegers,
  requirePositiveDurations,
  requirePositiveIntegers,
} from '../option-checks.js';
import type { Millis } from '../types.js';

/**
 * HyParView parameters. "Paper" is Leitão, Pereira, Rodrigues, "HyParView: a membership protocol
 * for reliable gossip-based broadcast", DSN 2007; its evaluation (§5) runs 10,000 nodes with
 * fanout 4, and the defaults below are the values it uses unless a comment says otherwise.
 */
export interface MembershipOptions {
  /** Maximum (and target) number of active neighbours. */
  readonly activeViewSize: number;
  /** Maximum number of known-but-unconnected peers kept as replacements. */
  readonly passiveViewSize: number;
  /** Hops a ForwardJoin walks before the last node must take the joiner (ARWL). */
  readonly activeRandomWalkLength: number;
  /** The ForwardJoin ttl at which a node on the walk stores the joiner as passive (PRWL). */
  readonly passiveRandomWalkLength: number;
  /** Hops a Shuffle walks before a node answers it. */
  readonly shuffleTtl: number;
  /** Active peers sampled into a Shuffle (ka). */
  readonly shuffleActiveCount: number;
  /** Passive peers sampled into a Shuffle (kp). */
  readonly shufflePassiveCount: number;
  /** Mean time between two shuffles started by this node. */
  readonly shuffleInterval: Millis;
  /** Each shuffle interval is drawn uniformly from interval × (1 ± jitter). */
  readonly shuffleJitter: number;
  /** A Neighbor request (or Join) unanswered this long counts as failed. */
  readonly neighborRequestTimeout: Millis;
  /** Period of the tick that tops the active view up from the passive view. */
  readonly repairInterval: Millis;
  /** Neighbor requests (and Joins) that may be outstanding at once. */
  readonly maxConcurrentRequests: number;
  /** Longest wait before re-asking passive peers that all refused us (see HyParView.repair). */
  readonly repairBackoffMax: Millis;
  /** Join contacts remembered, to re-join when the node has lost every peer it knew. */
  readonly maxContacts: number;
  /** First wait before reaching again for a neighbour whose link went silent (see HyParView.reconnect). */
  readonly reconnectInterval: Millis;
  /** Longest wait between two attempts to reach such a neighbour; the wait doubles up to it. */
  readonly reconnectBackoffMax: Millis;
  /** Least time between two links made to join another overlay heard on the LAN (see HyParView.discovered). */
  readonly mergeInterval: Millis;
}

/** Paper §5: log10(10,000) + 1 = fanout + 1, so that a flood reaches `fanout` fresh peers. */
export const DEFAULT_ACTIVE_VIEW_SIZE = 5;
/** Paper §5: k · (log10(N) + c) with k = 6; enough replacements to survive 80% node failure. */
export const DEFAULT_PASSIVE_VIEW_SIZE = 30;
/** Paper §5 (ARWL). Six hops mix well in the paper's 10,000-node overlays. */
export const DEFAULT_ACTIVE_RANDOM_WALK_LENGTH = 6;
/** Paper §5 (PRWL). */
export const DEFAULT_PASSIVE_RANDOM_WALK_LENGTH = 3;
/** Paper §4.4 walks the shuffle like a ForwardJoin, so it uses the same length (ARWL). */
export const DEFAULT_SHUFFLE_TTL = DEFAULT_ACTIVE_RANDOM_WALK_LENGTH;
/** Longest walk: a ForwardJoin's or a Shuffle's ttl travels in one byte. */
export const MAX_WALK_LENGTH = 255;
/**
 * Most peers a Shuffle or ShuffleReply may carry before the rest is ignored. Honest nodes send
 * ka + kp (7 by default), which the options therefore keep within it; the cap bounds the work a
 * malformed or hostile message can cause.
 */
export const SHUFFLE_PEERS_LIMIT = 32;
/** Paper §5 (ka). */
export const DEFAULT_SHUFFLE_ACTIVE_COUNT = 3;
/** Paper §5 (kp). */
export const DEFAULT_SHUFFLE_PASSIVE_COUNT = 4;
/**
 * The paper counts in synchronous cycles. On a LAN, membership changes slowly and the passive view
 * is also refreshed by discovery beacons, so one shuffle per 10 s keeps it fresh at ~1 message/s
 * per 10 nodes.
 */
export const DEFAULT_SHUFFLE_INTERVAL: Millis = 10_000;
/** ±20% keeps nodes that started together from shuffling in lock-step. */
export const DEFAULT_SHUFFLE_JITTER = 0.2;
/** A LAN dial plus a round trip is milliseconds; 2 s leaves room for a loaded host or GC pause. */
export const DEFAULT_NEIGHBOR_REQUEST_TIMEOUT: Millis = 2_000;
/**
 * Not in the paper, which repairs only when a failure is detected. A periodic tick also lets a node
 * retry after every candidate refused it, and fill an active view left short by an eviction.
 */
export const DEFAULT_REPAIR_INTERVAL: Millis = 1_000;
/**
 * The paper asks one passive peer at a time. Two in flight halve the healing time when the first
 * candidate is dead (a 2 s timeout), at the cost of sometimes overshooting by one, which the normal
 * eviction absorbs.
 */
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 2;
/**
 * Not in the paper. How long after its Join was taken a node short of neighbours counts as a
 * joiner, which insists with Neighbor{high} until its view is full (see HyParView.fillAfterJoin).
 * Joiners fill within a second or two in the simulator; one that has not after a shuffle period
 * (its new neighbours keep dropping, or the overlay is too small to fill a view) then insists only
 * while starving, like any other node, rather than go on evicting others' neighbours.
 */
export const JOIN_FILL_PERIOD: Millis = 10_000;
/** Refusals only come from full peers; after 30 s many of them will have changed, so ask again. */
export const DEFAULT_REPAIR_BACKOFF_MAX: Millis = 30_000;
/** A handful of bootstrap addresses (and as many former passive peers); more adds nothing but memory. */
export const DEFAULT_MAX_CONTACTS = 8;

/**
 * Not in the paper. A link that goes silent (no FIN, no reply until the idle timeout) may lead to a
 * peer that is alive behind a partition. Each side replaces such links from its own passive view,
 * and once both sides are full HyParView never links them again: it only reacts to failures. So a
 * node keeps reaching for those peers. The first try 10 s on: twice the transport's idle timeout,
 * past a brief outage. A peer that crashed costs one failed dial per try.
 */
export const DEFAULT_RECONNECT_INTERVAL: Millis = 10_000;
/**
 * Two minutes between tries once a partition lasts: each of its nodes tries, so the first link
 * across comes a fraction of that after the repair, and a dead peer costs a dial every 2 min.
 */
export const DEFAULT_RECONNECT_BACKOFF_MAX: Millis = 120_000;
/**
 * Not in the paper. Two overlays that formed apart (two switches joined later, multicast that came
 * up late) each fill every view, and HyParView never links them. A beacon with another overlay's
 * tag, from a node that wants no peers, is from such an overlay; a node links to it, at most once
 * a minute, so that the first beacons heard across make a handful of links rather than a rewiring
 * of all. The same interval paces the dials of bootstrap addresses that never answered.
 */
export const DEFAULT_MERGE_INTERVAL: Millis = 60_000;
/**
 * Least time between two times a node passes a fallen overlay tag on to all its neighbours; a fall
 * within it goes out when it ends. Each fall would otherwise cross the whole overlay, about four
 * messages per node (measured at 200 nodes), so a neighbour sending ever smaller tags could make
 * every node send without bound. An honest overlay's tag falls a few times while it forms and when
 * two overlays meet: a second's delay then is nothing.
 */
export const TAG_FLOOD_INTERVAL: Millis = 1_000;
/**
 * How long a node's tag must have held before a beacon with another one makes it link across (see
 * HyParView.merge). While a fall spreads, members a few hops away still carry the tag before it,
 * and their beacons look like another overlay's: a neighbour sending ever smaller tags kept every
 * node of 20 merging with its own overlay once a minute, 199 evictions in 5 minutes (found by a
 * review). Ten seconds lets a fall cross an overlay of thousands at TAG_FLOOD_INTERVAL a hop, and
 * two beacon intervals pass; an honest overlay's tag falls only while it forms and when it meets
 * another, which it then need not meet again.
 */
export const TAG_SETTLE_PERIOD: Millis = 10_000;
/**
 * Peers whose links went silent are reached for at growing intervals (reconnectInterval doubling
 * up to reconnectBackoffMax) for this long: an hour covers a switch rebooted, a cable moved, a
 * Wi-Fi access point restarted.
 */
export const RECONNECT_EAGER_PERIOD: Millis = 3_600_000;
/**
 * Then they are not forgotten: a partition can outlast the hour (a link between two buildings down
 * for the night), and once every view on both sides is full nothing else would link the halves
 * again; the overlay tag does not tell them apart, since both sides kept the one they shared. So
 * once no peer of the eager hour is due, one of the others, drawn at random, is tried at this
 * interval ±50% (drawn anew each time; the first try falls anywhere in the first interval): the
 * peers that are gone for good cost a node one failed dial every 5 to 15 minutes, ten on average,
 * and after a repair the first of the many nodes that lost a link across gets through within
 * seconds, since the jitter keeps them from trying in step.
 */
export const LATE_RECONNECT_INTERVAL: Millis = 600_000;
/** Such peers remembered at most, the oldest forgotten first: a node lost at most its active view per partition. */
export const RECONNECT_MEMORY_ENTRIES = 32;

/**
 * How long a peer that said goodbye (Disconnect{alive: false}) is not taken back from a discovery
 * beacon. Beacons and links use separate sockets, so a beacon sent just before the goodbye can be
 * read after it, and would put the departed peer back in the passive view, to be dialled in vain
 * later. On an idle node that race is milliseconds; 2 s also covers an event loop held for a
 * while. A node that starts again with the same identity is heard from its first beacon after
 * that (the eager interval is 1 s).
 */
export const DEPARTED_MEMORY: Millis = 2_000;
/** Goodbyes remembered at most, the oldest forgotten first; only a linked peer can say one. */
export const DEPARTED_MEMORY_ENTRIES = 64;

export const DEFAULT_MEMBERSHIP_OPTIONS: MembershipOptions = {
  activeViewSize: DEFAULT_ACTIVE_VIEW_SIZE,
  passiveViewSize: DEFAULT_PASSIVE_VIEW_SIZE,
  activeRandomWalkLength: DEFAULT_ACTIVE_RANDOM_WALK_LENGTH,
  passiveRandomWalkLength: DEFAULT_PASSIVE_RANDOM_WALK_LENGTH,
  shuffleTtl: DEFAULT_SHUFFLE_TTL,
  shuffleActiveCount: DEFAULT_SHUFFLE_ACTIVE_COUNT,
  shufflePassiveCount: DEFAULT_SHUFFLE_PASSIVE_COUNT,
  shuffleInterval: DEFAULT_SHUFFLE_INTERVAL,
  shuffleJitter: DEFAULT_SHUFFLE_JITTER,
  neighborRequestTimeout: DEFAULT_NEIGHBOR_REQUEST_TIMEOUT,
  repairInterval: DEFAULT_REPAIR_INTERVAL,
  maxConcurrentRequests: DEFAULT_MAX_CONCURRENT_REQUESTS,
  repairBackoffMax: DEFAULT_REPAIR_BACKOFF_MAX,
  maxContacts: DEFAULT_MAX_CONTACTS,
  reconnectInterval: DEFAULT_RECONNECT_INTERVAL,
  reconnectBackoffMax: DEFAULT_RECONNECT_BACKOFF_MAX,
  mergeInterval: DEFAULT_MERGE_INTERVAL,
};

/** Throws RangeError for a configuration no node could run with; a programming error, not input. */
export function validateMembershipOptions(options: MembershipOptions): void {
  requirePositiveIntegers(options, ['activeViewSize', 'passiveViewSize', 'maxConcurrentRequests']);
  requireNonNegativeIntegers(options, [
    'activeRandomWalkLength',
    'passiveRandomWalkLength',
    'shuffleTtl',
    'shuffleActiveCount',
    'shufflePassiveCount',
    'maxContacts',
  ]);
  requirePositiveDurations(options, [
    'shuffleInterval',
    'neighborRequestTimeout',
    'repairInterval',
    'repairBackoffMax',
    'reconnectInterval',
    'reconnectBackoffMax',
    'mergeInterval',
  ]);
  if (!(options.shuffleJitter >= 0 && options.shuffleJitter < 1)) {
    throw new RangeError('shuffleJitter must be in [0, 1)');
  }
  // Walks longer than a frame's ttl, or shuffles larger than a receiver takes, would be dropped.
  for (const name of ['activeRandomWalkLength', 'passiveRandomWalkLength', 'shuffleTtl'] as const) {
    if (options[name] > MAX_WALK_LENGTH) throw new RangeError(`${name} must be at most ${MAX_WALK_LENGTH}`);
  }
  if (options.shuffleActiveCount + options.shufflePassiveCount > SHUFFLE_PEERS_LIMIT) {
    throw new RangeError(`shuffleActiveCount + shufflePassiveCount must be at most ${SHUFFLE_PEERS_LIMIT}`);
  }
}
