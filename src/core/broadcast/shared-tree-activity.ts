import type { Millis, NodeId } from '../types.js';

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
 */
export class SharedTreeActivity {
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
  }

  /**
   * Whether `origin`'s message `seq` is the newest that followed the shared tree here, and came at
   * least `quiet` after the one before it.
   */
  isQuietOn(origin: NodeId, seq: number, quiet: Millis): boolean {
    return this.newestOrigin === origin && this.newestSeq === seq && this.newestAt - this.previousAt >= quiet;
  }
}
