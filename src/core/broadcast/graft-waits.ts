import type { Millis, NodeId } from '../types.js';
import type { MissingMessage } from './announcements.js';
import type { MessageKey } from './message-id.js';

/**
 * A delay's smoothed value and variation, estimated as TCP estimates a round trip (RFC 6298 §2:
 * gains 1/8 and 1/4, the first sample sets the mean and half of it the variation).
 */
export class DelayEstimate {
  private smoothed: Millis | undefined;
  private variation: Millis = 0;

  add(sample: Millis): void {
    if (!(sample >= 0 && Number.isFinite(sample))) return;
    if (this.smoothed === undefined) {
      this.smoothed = sample;
      this.variation = sample / 2;
      return;
    }
    this.variation = 0.75 * this.variation + 0.25 * Math.abs(this.smoothed - sample);
    this.smoothed = 0.875 * this.smoothed + 0.125 * sample;
  }

  /** RFC 6298's timeout, smoothed + 4 × variation, kept within [floor, cap]; `floor` before any sample. */
  bound(floor: Millis, cap: Millis): Millis {
    if (this.smoothed === undefined) return floor;
    return Math.min(cap, Math.max(floor, this.smoothed + 4 * this.variation));
  }
}

/**
 * The configured timers are floors; an estimate can stretch a wait to at most this many times its
 * floor. Eight times the default timer 1 is 2 s: a 1 MiB payload crossing a few hops of a
 * 100 Mbit/s LAN, each hop sending and receiving it in 84 ms. It also bounds what a neighbour can
 * do by announcing messages long before it has them: repair slows down to this, no further.
 */
export const GRAFT_WAIT_CAP_FACTOR = 8;

/** A message grafted recently: when it was first announced, so that a late tree copy is timed. */
interface Grafted {
  readonly announcedAt: Millis;
  /** The peers sent a Graft for it: their copies answer Grafts, they are not the tree's. */
  readonly asked: readonly NodeId[];
}

/**
 * How long a node waits before grafting a missing message, and for a Graft's answer, learnt from
 * what it sees. Plumtree's timers must outlast the tree's own delivery, or a Graft fetches a second
 * copy of a payload that was on its way (paper p. 8 leaves them to the deployment). A fixed 250 ms
 * does on a LAN with small messages, but a large payload takes its size over the link's rate to
 * leave and to come in at every hop: 1 MB broadcasts among 1,000 simulated nodes on 100 Mbit/s
 * interfaces took 2.3-2.4 s to reach every node, and the Grafts that the fixed timers sent on the
 * way made the RMR 1.25-1.31 (flooding's is 3). With these estimates it is 0.60-0.68, and the last
 * delivery comes 29% later (3.0-3.1 s): those Grafts were also shortcuts past a deep tree
 * (`meshcast sim --nodes 1000 --broadcasts 10 --bandwidth 100 --payload-bytes 1000000
 * --broadcast-interval 10000`, seeds 1-3).
 *
 * - Timer 1 (graftWait) follows the tree's lag: the time from a message's first announcement to
 *   the arrival of a copy that no Graft asked for, the tree's own. Such a copy that comes after we
 *   grafted (as a duplicate) says the wait was too short; one that comes before says how long the
 *   tree takes anyway.
 * - Timer 2 (retryWait) follows a Graft's round trip: from the Graft to the payload it asked for.
 *
 * Both are the configured values as long as the estimates stay below them, which on a LAN with
 * small messages they do (the simulator's default runs are the same, event for event): they only
 * ever lengthen a wait.
 */
export class GraftWaits {
  private readonly treeLag = new DelayEstimate();
  private readonly graftRoundTrip = new DelayEstimate();
  /** Messages whose Graft was answered, oldest first, until their tree copy or its time is up. */
  private readonly grafted = new Map<MessageKey, Grafted>();

  constructor(
    private readonly graftTimeout: Millis,
    private readonly graftRetryTimeout: Millis,
    /** Most answered Grafts remembered for a late tree copy (the announcements limit per peer). */
    private readonly maxGrafted: number,
  ) {}

  /** Timer 1: from a message's first announcement until it is grafted. */
  graftWait(): Millis {
    return this.treeLag.bound(this.graftTimeout, GRAFT_WAIT_CAP_FACTOR * this.graftTimeout);
  }

  /** Timer 2: from a Graft until the next announcer is asked. */
  retryWait(): Millis {
    return this.graftRoundTrip.bound(this.graftRetryTimeout, GRAFT_WAIT_CAP_FACTOR * this.graftTimeout);
  }

  /** A copy of an announced message that no Graft asked for came `lag` after the first announcement. */
  treeCopy(lag: Millis): void {
    this.treeLag.add(lag);
  }

  /**
   * The payload a Graft asked for `missing` came `roundTrip` after it. Its tree copy, if one still
   * comes, is timed by lateCopy.
   */
  graftAnswered(missing: MissingMessage, roundTrip: Millis, now: Millis): void {
    this.graftRoundTrip.add(roundTrip);
    this.forgetOld(now);
    if (this.grafted.size >= this.maxGrafted) {
      const oldest = this.grafted.keys().next();
      if (!oldest.done) this.grafted.delete(oldest.value);
    }
    this.grafted.set(missing.key, { announcedAt: missing.announcedAt, asked: missing.asked.slice() });
  }

  /** A duplicate of `key` came from `from`: if it was grafted from others, this is its tree copy, late. */
  lateCopy(key: MessageKey, from: NodeId, now: Millis): void {
    const grafted = this.grafted.get(key);
    if (grafted === undefined || grafted.asked.includes(from)) return;
    this.grafted.delete(key);
    this.treeLag.add(now - grafted.announcedAt);
  }

  /** Answered Grafts remembered (a memory bound). */
  get remembered(): number {
    return this.grafted.size;
  }

  /**
   * A tree copy later than twice the cap would not change the wait, which the cap holds anyway.
   * Entries are in announcement order only roughly, so the sweep stops at the first recent one.
   */
  private forgetOld(now: Millis): void {
    const horizon = now - 2 * GRAFT_WAIT_CAP_FACTOR * this.graftTimeout;
    for (const [key, grafted] of this.grafted) {
      if (grafted.announcedAt > horizon) return;
      this.grafted.delete(key);
    }
  }
}
