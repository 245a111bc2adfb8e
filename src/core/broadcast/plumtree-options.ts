import { requirePositiveDurations, requirePositiveIntegers } from '../option-checks.js';
import type { Millis } from '../types.js';

/**
 * Plumtree parameters. "Paper" is Leitão, Pereira, Rodrigues, "Epidemic Broadcast Trees",
 * SRDS 2007 (page numbers of the DI-FCUL TR-07-14 version). The paper leaves the timeouts to the
 * deployment: "a protocol parameter that should be configured considering the diameter of the
 * overlay and a target maximum recovery latency" (p. 8). The values below are chosen for a LAN and
 * for the simulator's default 1-10 ms links, and were measured there (src/sim, seed 1, stable
 * phase unless said otherwise).
 */
export interface PlumtreeOptions {
  /**
   * Timer 1: how long an announced message may stay missing before we Graft an announcer; at least
   * this, longer where the tree is measured to take longer (GraftWaits).
   */
  readonly graftTimeout: Millis;
  /**
   * Timer 2: how long to wait for a Graft's answer before asking the next announcer; at least
   * this, longer where answers are measured to take longer (GraftWaits).
   */
  readonly graftRetryTimeout: Millis;
  /** Announcements for lazy peers are collected this long and sent as one IHave. */
  readonly ihaveFlushInterval: Millis;
  /** A peer's batch is sent at once when it holds this many announcements. */
  readonly ihaveBatchMax: number;
  /**
   * A lazy link that announces a path at least this many hops shorter replaces the parent, in an
   * origin's own tree (OriginTrees).
   */
  readonly optimisationThreshold: number;
  /** The same in the tree shared by the origins without a tree of their own. */
  readonly sharedOptimisationThreshold: number;
  /** How long a payload is kept to answer Grafts for it. */
  readonly payloadCacheMaxAge: Millis;
  /** Most bytes of payloads (plus a fixed overhead per entry) kept to answer Grafts. */
  readonly payloadCacheMaxBytes: number;
  /** Most announcements of missing messages remembered per peer; further ones are ignored. */
  readonly maxAnnouncementsPerPeer: number;
  /** Most origins with a tree of their own (and as many seen once), least recently used out. */
  readonly maxOriginTrees: number;
  /** A new neighbour is told (one IHave) of the messages this node received this recently. */
  readonly newNeighbourAnnounceWindow: Millis;
}

/**
 * Timer 1. A missing message is usually still on its way down the tree, whose path can be several
 * hops longer than the announcer's; firing early fetches a payload that was about to arrive (a
 * redundant copy, then a Prune), firing late only slows repair. Measured: with timer 1 plus the
 * flush at ~50 ms, 1,000 nodes fetched needless copies (RMR 0.06, 0.37 at 25 ms); from 100 ms on,
 * none, even at 10,000 nodes (25-hop deepest paths). 250 ms leaves that margin again for a node
 * whose event loop lags under a throughput test, and still repairs within a third of a second
 * (healing after 30% of 1,000 nodes crashed: 337 ms; 189 ms with 100 ms).
 */
export const DEFAULT_GRAFT_TIMEOUT: Millis = 250;
/**
 * Timer 2. Paper p. 9: "smaller than the first, in the order of an average round trip time to a
 * neighbor". A LAN round trip is under a millisecond and a simulated one 2-20 ms, but the answer
 * also waits behind the grafted peer's event loop and send queue; 100 ms avoids asking a second
 * announcer (a second copy) while the first answer is on its way.
 */
export const DEFAULT_GRAFT_RETRY_TIMEOUT: Millis = 100;
/**
 * The paper's lazy push leaves to a dispatch policy when announcements go out. 25 ms collapses the
 * announcements of everything relayed within that window into one IHave per lazy link (one frame
 * instead of dozens under a throughput test), and adds 25 ms to a repair that timer 1 dominates.
 * The delay also lets the eager copy win the race: with a 50 ms timer 1, a 5 ms flush gave RMR
 * 0.058 at 1,000 nodes, a 25 ms flush 0.001.
 */
export const DEFAULT_IHAVE_FLUSH_INTERVAL: Millis = 25;
/**
 * Each flush waits the interval ± this fraction, drawn anew. Nodes that received the same message
 * at the same moment arm their timers together, and without the spread they flush together too:
 * one burst of IHaves per interval, landing on whichever broadcast is on its way then. In the
 * benchmark's latency phase (N = 10, one process, 12 runs each) the spread took node 0's
 * last-delivery p99 from 8.3 to 7.0 ms (mean of the runs), with as many IHave frames as before.
 */
export const IHAVE_FLUSH_JITTER = 0.5;
/**
 * How many times a graft timeout waits once more (another graftTimeout each) for a message that
 * the tree is still bringing older messages before (PlumtreeBroadcast.onGraftTimeout). Three keep
 * the slowest such wait near a second, after which a path that slow is worth replacing: the Graft
 * makes the announcer a tree link.
 */
export const MAX_GRAFT_DEFERRALS = 3;
/** 256 entries of 41 bytes: a ~10 KB frame, small enough not to hold up payloads on the link. */
export const DEFAULT_IHAVE_BATCH_MAX = 256;
/**
 * Paper §3.8 (optimisation); its evaluation uses a threshold of 7 (p. 12, as iroh-gossip reads
 * it). Here it only bends an origin's own tree (OriginTrees), which starts as a copy of the
 * shared tree, a detour for most origins. Measured in an earlier variant with per-origin trees
 * (2,000 nodes, 5 origins, 50 broadcasts, seed 1): with 7 the last delivery hop stayed at 12-13;
 * 3 brought it to 9-10, 2 to 8-9 and 1 to 7, within ~20 broadcasts, after which the trees stop
 * changing and hardly any Graft is sent. 2 swaps only for a clear gain and costs half the Grafts
 * of 1 on the way.
 */
export const DEFAULT_OPTIMISATION_THRESHOLD = 2;
/**
 * The paper's 7 (p. 12, as iroh-gossip reads it) for the shared tree: a shortcut for one origin is
 * often a detour for the next, so only long detours are worth a swap. Measured at 10,000 nodes
 * (100 broadcasts from random nodes, seed 1): the last delivery hop was 26 with it, 34 without;
 * at 1,000 nodes a threshold of 4 cost ~130 Grafts and Prunes per broadcast (~26 at 7). It applies
 * only while the shared tree is quiet (SharedTreeActivity).
 */
export const DEFAULT_SHARED_OPTIMISATION_THRESHOLD = 7;
/**
 * Grafts come within a graft timeout or two of the announcement, so 30 s covers stalled links,
 * GC pauses and a partition that heals quickly, with a wide margin.
 */
export const DEFAULT_PAYLOAD_CACHE_MAX_AGE: Millis = 30_000;
/** 64 MiB caps the cache under heavy traffic (the age bound then shortens to 64 MiB / rate). */
export const DEFAULT_PAYLOAD_CACHE_MAX_BYTES = 64 * 1024 * 1024;
/**
 * An announcement normally lives until the eager copy arrives, milliseconds later; 2,048
 * outstanding covers thousands of broadcasts per second racing a slow eager path, and caps what
 * one peer can make us hold at ~2,048 × ~200 bytes ≈ 400 KB.
 */
export const DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER = 2_048;
/**
 * Most Grafts one neighbour may have in flight (sent for messages not resolved yet, see
 * Announcements); a message whose only announcers are at this limit waits another graft timeout.
 * The paper's Graft (Alg. 2) fetches one missing message; a neighbour whose announcements are all
 * grafted at once (a tree link: every new neighbour starts as one) would otherwise get a Graft and
 * cost us a timer for every entry it names. 256 is one full IHave batch (DEFAULT_IHAVE_BATCH_MAX):
 * a broken tree link leaves far fewer messages missing than that within a graft timeout.
 */
export const MAX_GRAFTS_IN_FLIGHT_PER_PEER = 256;
/**
 * How long a neighbour that an optimisation made our parent, and that then let a message go missing
 * before pushing us any (a Graft had to fetch it), is not made a parent by optimisation again. An
 * announcer's hop counts cannot be checked: one that claims 0 hops for everything and pushes
 * nothing would otherwise get our honest parent pruned on every message, each then waiting a graft
 * timeout (found by a review, test/core/plumtree.test.ts). A minute is thousands of messages at
 * the rates where it matters, and costs an honest but slow neighbour only shortcuts.
 */
export const FAILED_OPTIMISATION_DISTRUST_MS: Millis = 60_000;
/**
 * Most catch-up bytes (see PlumtreeBroadcast.sendCatchUp) sent to one neighbour per graft timeout.
 * A catch-up repeats the few payloads (at most 7) that may have passed us while the neighbour's
 * Graft was on its way: a race of one graft timeout, not a backlog. 1 MiB covers seven payloads
 * of up to 146 KiB, and always at least one payload of any size (the largest is 1 MiB); a payload
 * the budget holds back reaches the neighbour by IHave and Graft, a graft timeout later. Without
 * it, one 45-byte Graft naming an old message had 7 cached payloads sent (7 MiB of 1 MiB ones).
 */
export const CATCH_UP_BYTES_PER_PEER = 1024 * 1024;
/**
 * What a leaving node pushes to each neighbour of its own unfetched messages (see
 * PlumtreeBroadcast.leave), and always one payload of any size. The goodbye queues behind it, and
 * a node gives its goodbyes a quarter of a second before closing its links (GOODBYE_GRACE_MS):
 * 64 KiB to each of 5 neighbours is 26 ms at 100 Mbit/s, where the catch-up budget's 1 MiB each
 * took 420 ms and cut the goodbyes off. Enough for the last few messages of a chat, which a
 * goodbye ends.
 */
export const LEAVE_PUSH_BYTES_PER_PEER = 64 * 1024;
/**
 * A tree costs a few lazy neighbour ids per origin (~150 bytes), so 1,024 origins cost ~150 KB at
 * most. An origin beyond that follows the shared tree for one message, then copies it again.
 */
export const DEFAULT_MAX_ORIGIN_TREES = 1_024;
/**
 * A message sent just as many nodes crash can lose every path to part of the survivors: the
 * origin's tree links and its lazy links may all lead to dead nodes, so nobody announces it to the
 * nodes cut off. Their new neighbours (HyParView replaces the dead ones within a few hundred
 * milliseconds; 0.36 s after 50% of 10,000 crashed) tell them of what they received recently, and
 * a Graft fetches it. Two seconds covers that repair several times over; the IHave holds at most
 * ihaveBatchMax entries, so under heavy traffic only the newest are announced.
 */
export const DEFAULT_NEW_NEIGHBOUR_ANNOUNCE_WINDOW: Millis = 2_000;
/**
 * Most entries of one incoming IHave that are looked at; the rest are ignored (and counted as
 * invalid). Four times the default batch leaves room for peers configured differently.
 */
export const IHAVE_ENTRIES_LIMIT = 4 * DEFAULT_IHAVE_BATCH_MAX;

export const DEFAULT_PLUMTREE_OPTIONS: PlumtreeOptions = {
  graftTimeout: DEFAULT_GRAFT_TIMEOUT,
  graftRetryTimeout: DEFAULT_GRAFT_RETRY_TIMEOUT,
  ihaveFlushInterval: DEFAULT_IHAVE_FLUSH_INTERVAL,
  ihaveBatchMax: DEFAULT_IHAVE_BATCH_MAX,
  optimisationThreshold: DEFAULT_OPTIMISATION_THRESHOLD,
  sharedOptimisationThreshold: DEFAULT_SHARED_OPTIMISATION_THRESHOLD,
  payloadCacheMaxAge: DEFAULT_PAYLOAD_CACHE_MAX_AGE,
  payloadCacheMaxBytes: DEFAULT_PAYLOAD_CACHE_MAX_BYTES,
  maxAnnouncementsPerPeer: DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER,
  maxOriginTrees: DEFAULT_MAX_ORIGIN_TREES,
  newNeighbourAnnounceWindow: DEFAULT_NEW_NEIGHBOUR_ANNOUNCE_WINDOW,
};

/** Throws RangeError for a configuration no node could run with; a programming error, not input. */
export function validatePlumtreeOptions(options: PlumtreeOptions): void {
  requirePositiveDurations(options, [
    'graftTimeout',
    'graftRetryTimeout',
    'ihaveFlushInterval',
    'payloadCacheMaxAge',
    'newNeighbourAnnounceWindow',
  ]);
  requirePositiveIntegers(options, [
    'ihaveBatchMax',
    'optimisationThreshold',
    'sharedOptimisationThreshold',
    'payloadCacheMaxBytes',
    'maxAnnouncementsPerPeer',
    'maxOriginTrees',
  ]);
  if (options.ihaveBatchMax > IHAVE_ENTRIES_LIMIT) {
    throw new RangeError(`ihaveBatchMax must be at most ${IHAVE_ENTRIES_LIMIT}, what peers accept`);
  }
}
