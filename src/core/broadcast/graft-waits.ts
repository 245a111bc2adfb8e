import type { Millis, NodeId } from '../types.js';
import type { MissingMessage } from './announcements.js';
import type { MessageKey } from './message-id.js';

/**
 * The configured timers are floors; an estimate can stretch a wait to at most this many times the
 * configured timer 1 (2 s by default): a 1 MiB payload crossing a few hops of a 100 Mbit/s LAN,
 * each hop sending and taking it in in 84 ms. It also bounds what a neighbour can do with copies
 * sent late on purpose: repair slows down to this, no further. Every sample is cut to it, so one
 * outlier cannot hold the wait there for long either.
 */
export const GRAFT_WAIT_CAP_FACTOR = 8;

/**
 * An estimate that no sample has refreshed for this long is dropped, and the waits are the
 * configured timers again. Samples come only while announcements beat the tree's copies, so a wait
 * stretched by a burst of large payloads (or a partition's repair) would otherwise stay long, and
 * slow the repair of the next failure, for as long as the traffic stays light.
 */
export const GRAFT_WAIT_STALE_AFTER: Millis = 60_000;

/**
 * Grafted messages whose copies are still being timed: a few per Graft timeout even when a tree
 * link breaks under heavy traffic. Beyond it the oldest is forgotten, which only costs a sample.
 */
export const MAX_GRAFTS_TIMED = 1_024;

/**
 * A delay's smoothed value and variation, as TCP estimates a round trip (RFC 6298 §2: gains 1/8
 * and 1/4; the first sample sets the mean, and half of it the variation).
 */
export class DelayEstimate {
  private smoothed: Millis | undefined;
  private variation: Millis = 0;
  private sampledAt: Millis = Number.NEGATIVE_INFINITY;

  /** @param staleAfter an estimate whose last sample is older than this counts as none */
  constructor(private readonly staleAfter: Millis) {}

  add(sample: Millis, now: Millis): void {
    if (!(sample >= 0 && Number.isFinite(sample))) return;
    const stale = now - this.sampledAt > this.staleAfter;
    this.sampledAt = now;
    if (this.smoothed === undefined || stale) {
      this.smoothed = sample;
      this.variation = sample / 2;
      return;
    }
    this.variation = 0.75 * this.variation + 0.25 * Math.abs(this.smoothed - sample);
    this.smoothed = 0.875 * this.smoothed + 0.125 * sample;
  }

  /**
   * RFC 6298's timeout, smoothed + 4 × variation, at most `cap` and at least `floor`; `floor` alone
   * before any sample and once the last one is stale.
   */
  bound(floor: Millis, cap: Millis, now: Millis): Millis {
    if (this.smoothed === undefined || now - this.sampledAt > this.staleAfter) return floor;
    return Math.max(floor, Math.min(cap, this.smoothed + 4 * this.variation));
  }
}

/** A message we sent Grafts for, while its copies are still being timed. */
interface GraftedMessage {
  readonly announcedAt: Millis;
  /** Its timer waited on for older messages: its tree copy measures a queue, not the tree. */
  deferred: boolean;
  /** The tree's copy came (and was timed, unless deferred). */
  treeCopied: boolean;
  /** The peers sent a Graft, each once, and when its last Graft went; -1 once its answer came. */
  readonly peers: NodeId[];
  readonly askedAt: Millis[];
}

/**
 * How long a node waits before grafting a missing message (timer 1), and for a Graft's answer
 * before asking the next announcer (timer 2), learnt from what it sees. Plumtree's timers must
 * outlast the tree's own delivery, or a Graft fetches a second copy of a payload that was on its
 * way (the paper, p. 8, leaves them to the deployment). The configured 250 and 100 ms do on a LAN
 * with small messages, but a large payload takes its size over the link's rate to leave and to come
 * in at every hop.
 *
 * - Timer 1 follows the tree's lag: the time from a message's first announcement to a copy that no
 *   Graft asked for, the tree's own. One that comes after we grafted (as a duplicate) says the wait
 *   was too short; one that comes before says how long the tree takes anyway. A message whose
 *   timer waited on for older ones (MAX_GRAFT_DEFERRALS) is not a sample: its lag is a queue's.
 * - Timer 2 follows a Graft's round trip: from the Graft to that peer's answer, even an answer
 *   that comes after the next announcer was asked (each answer is told apart by its sender, so
 *   there is no ambiguity to avoid, as TCP must for a retransmission).
 *
 * Both are the configured values as long as the estimates stay below them, which with small
 * messages on a LAN they do: they only ever lengthen a wait. The simulator's runs without loss
 * (stable, crash, silent crash, churn, partition) are the same event for event. With loss, links
 * that die make slow copies and the waits stretch at times: `meshcast sim --nodes 1000
 * --broadcasts 20 --loss L`, seeds 1-20, counted deliveries later than 250 ms 2,632 → 1,627 at
 * 0.001 (the slowest 389 → 978 ms) and 9,264 → 7,206 at 0.01 (after the next broadcast 35 → 11);
 * one run of the forty ended with 27 nodes apart (seed 16 at 0.01, whose 27 were apart for a while
 * before too: loss can split the overlay, see src/sim/README.md). With 1 MB payloads
 * on 100 Mbit/s interfaces (`meshcast sim --nodes 1000 --broadcasts 10 --bandwidth 100
 * --payload-bytes 1000000 --broadcast-interval 10000`, seeds 1-3) the RMR went from 1.40-1.44 to
 * 0.42-0.46, and the last delivery from 2.35-2.44 s to 3.24-3.47 s on average: the Grafts that
 * fetched second copies had also been shortcuts past a deep tree.
 */
export class GraftWaits {
  private readonly treeLag = new DelayEstimate(GRAFT_WAIT_STALE_AFTER);
  private readonly graftRoundTrip = new DelayEstimate(GRAFT_WAIT_STALE_AFTER);
  /** Grafted messages, roughly oldest first, until their tree copy comes or they are too old. */
  private readonly grafts = new Map<MessageKey, GraftedMessage>();
  private readonly cap: Millis;

  constructor(
    private readonly graftTimeout: Millis,
    private readonly graftRetryTimeout: Millis,
  ) {
    this.cap = GRAFT_WAIT_CAP_FACTOR * graftTimeout;
  }

  /** Timer 1: from a message's first announcement until it is grafted. */
  graftWait(now: Millis): Millis {
    return this.treeLag.bound(this.graftTimeout, this.cap, now);
  }

  /** Timer 2: from a Graft until the next announcer is asked. */
  retryWait(now: Millis): Millis {
    return this.graftRoundTrip.bound(this.graftRetryTimeout, this.cap, now);
  }

  /**
   * A Graft for `missing` went to `peer`. A record of an earlier announcement of the same message
   * (given up, then announced again) is replaced, keeping only its Grafts still unanswered: their
   * answers must not pass for the tree's copy. A record holds at most one time per peer.
   */
  graftSent(missing: MissingMessage, peer: NodeId, now: Millis): void {
    let grafted = this.grafts.get(missing.key);
    if (grafted === undefined || grafted.announcedAt !== missing.announcedAt) {
      const earlier = grafted;
      this.grafts.delete(missing.key);
      this.forgetOld(now);
      if (this.grafts.size >= MAX_GRAFTS_TIMED) this.forgetOldest();
      grafted = {
        announcedAt: missing.announcedAt,
        deferred: false,
        treeCopied: false,
        peers: [],
        askedAt: [],
      };
      for (let i = 0; earlier !== undefined && i < earlier.peers.length; i++) {
        const askedAt = earlier.askedAt[i] as Millis;
        if (askedAt < 0) continue;
        grafted.peers.push(earlier.peers[i] as NodeId);
        grafted.askedAt.push(askedAt);
      }
      this.grafts.set(missing.key, grafted);
    }
    if (missing.deferrals > 0) grafted.deferred = true;
    const index = grafted.peers.indexOf(peer);
    if (index < 0) {
      grafted.peers.push(peer);
      grafted.askedAt.push(now);
    } else {
      grafted.askedAt[index] = now;
    }
  }

  /**
   * A copy of `key` came from `from`: the first one, or a later one from a neighbour (not a
   * catch-up repeat). `missing` is the message's announcement record if the first copy was
   * announced before it came.
   */
  copyArrived(key: MessageKey, from: NodeId, now: Millis, missing?: MissingMessage): void {
    const grafted = this.grafts.size === 0 ? undefined : this.grafts.get(key);
    if (grafted !== undefined) {
      // Its timer may have waited on for older messages after a Graft too.
      if (missing !== undefined && missing.deferrals > 0) grafted.deferred = true;
      this.timeGrafted(key, grafted, from, now);
    } else if (missing !== undefined && missing.deferrals === 0 && missing.asked.length === 0) {
      // Never grafted: the tree's copy. (A grafted message whose record is gone tells nothing: its
      // copy may be a Graft's answer.)
      this.treeLag.add(Math.min(this.cap, now - missing.announcedAt), now);
    }
  }

  /** Messages whose copies are being timed (a memory bound). */
  get timed(): number {
    return this.grafts.size;
  }

  /**
   * An asked peer's first answer times its round trip; the first copy from anyone else is the
   * tree's. The record goes once both are in: the tree's copy and every asked peer's answer.
   */
  private timeGrafted(key: MessageKey, grafted: GraftedMessage, from: NodeId, now: Millis): void {
    if (now - grafted.announcedAt > this.horizon) {
      this.grafts.delete(key);
      return;
    }
    const index = grafted.peers.indexOf(from);
    if (index < 0) {
      if (grafted.treeCopied) return;
      grafted.treeCopied = true;
      if (!grafted.deferred) this.treeLag.add(Math.min(this.cap, now - grafted.announcedAt), now);
    } else {
      const askedAt = grafted.askedAt[index] as Millis;
      if (askedAt < 0) return;
      grafted.askedAt[index] = -1;
      this.graftRoundTrip.add(Math.min(this.cap, now - askedAt), now);
    }
    if (grafted.treeCopied && grafted.askedAt.every((askedAt) => askedAt < 0)) this.grafts.delete(key);
  }

  /** A copy later than this after the announcement would be cut to the cap: it is not waited for. */
  private get horizon(): Millis {
    return 2 * this.cap;
  }

  /** Drops grafted messages announced longer ago than the horizon, from the oldest on. */
  private forgetOld(now: Millis): void {
    for (const [key, grafted] of this.grafts) {
      if (now - grafted.announcedAt <= this.horizon) return;
      this.grafts.delete(key);
    }
  }

  private forgetOldest(): void {
    const oldest = this.grafts.keys().next();
    if (!oldest.done) this.grafts.delete(oldest.value);
  }
}
