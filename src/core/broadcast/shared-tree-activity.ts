import type { Millis, NodeId } from '../types.js';

/** How many of the latest messages that followed the shared tree are remembered (see since). */
const RECENT_MESSAGES = 8;

/** A message by its origin and sequence number. */
export interface MessageRef {
  readonly origin: NodeId;
  readonly seq: number;
}

/**
 * Which message last followed the shared tree (the one every origin without a tree of its own
 * uses) at this node, when it came, and when the one before it came: whether the shared tree is
 * quiet enough to be bent towards an origin (paper §3.8, PlumtreeBroadcast.optimise).
 *
 * Each swap moves a node under a neighbour that got the message in fewer hops, so the swaps that
 * one message causes all lead towards its origin and keep the tree connected. Swaps on two
 * origins' hop counts at once do not: nodes re-parent in opposite directions, and with the Prunes
 * of the next message's duplicates, a part of the tree is cut off until a Graft, a graft timeout
 * later. In the benchmark's latency phase at 100 nodes (one message from a random node every
 * ~35 ms) 5 of 6 runs had such a Graft, and 1 of 8 once the shared tree was bent only while quiet.
 * Under a stream from many origins the tree keeps the shape its duplicates gave it; a shortcut for
 * one origin would be a detour for the next anyway.
 *
 * It also remembers the last few messages that followed the shared tree, for a new parent to catch
 * up a node that re-parented under it (PlumtreeBroadcast.sendCatchUp).
 */
export class SharedTreeActivity {
  /** The last RECENT_MESSAGES that followed the shared tree or a fresh copy of it, in order received. */
  private readonly recent: MessageRef[] = [];
  private newestOrigin: NodeId | undefined;
  private newestSeq = 0;
  private newestAt: Millis = Number.NEGATIVE_INFINITY;
  private previousAt: Millis = Number.NEGATIVE_INFINITY;

  /** A new message of `origin` followed the shared tree here at `now`. */
  note(origin: NodeId, seq: number, now: Millis): void {
    this.previousAt = this.newestAt;
    this.newestOrigin = origin;
    this.newestSeq = seq;
    this.newestAt = now;
    this.remember(origin, seq);
  }

  /**
   * `origin`'s message `seq` followed a copy of the shared tree made for it just now (its origin's
   * second message, OriginTrees.noteMessage): the shared tree's shape, but another tree from now
   * on, so it is remembered for `since` only and leaves the shared tree as quiet as it was.
   */
  noteCopy(origin: NodeId, seq: number): void {
    this.remember(origin, seq);
  }

  /**
   * The messages that followed the shared tree (or a fresh copy) here after `origin`'s message
   * `seq`, oldest first; none if that one is not among the last few.
   */
  since(origin: NodeId, seq: number): readonly MessageRef[] {
    const index = this.recent.findIndex((m) => m.origin === origin && m.seq === seq);
    return index < 0 ? [] : this.recent.slice(index + 1);
  }

  /**
   * Whether `origin`'s message `seq` is the newest that followed the shared tree here, and came at
   * least `quiet` after the one before it.
   */
  isQuietOn(origin: NodeId, seq: number, quiet: Millis): boolean {
    return this.newestOrigin === origin && this.newestSeq === seq && this.newestAt - this.previousAt >= quiet;
  }

  /** Whether `origin`'s message `seq` is the newest that followed the shared tree here. */
  isNewest(origin: NodeId, seq: number): boolean {
    return this.newestOrigin === origin && this.newestSeq === seq;
  }

  private remember(origin: NodeId, seq: number): void {
    if (this.recent.push({ origin, seq }) > RECENT_MESSAGES) this.recent.shift();
  }
}
