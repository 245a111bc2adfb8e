import type { Millis, NodeId } from '../types.js';

/**
 * Neighbours per origin whose one late echo a tree remembers (see isRepeatEcho), the oldest
 * forgotten first: more than an active view holds (5 by default).
 */
const MAX_ECHOERS = 8;

/** How many of an origin's latest seqs its tree remembers (see recentSeqs). */
const RECENT_SEQS = 8;

interface OwnTree {
  readonly lazy: Set<NodeId>;
  /** The seq of the message this tree was copied for: older ones followed the shared tree. */
  readonly firstSeq: number;
  /** The highest sequence number of this origin's messages received so far. */
  newestSeq: number;
  /** The neighbour that message came from; undefined for our own messages. */
  newestFrom: NodeId | undefined;
  /** When that message arrived. */
  newestAt: Millis;
  /** Neighbours, not the carrier, that have sent one late copy of an older message (see isRepeatEcho). */
  readonly echoers: NodeId[];
  /** The seqs of its last RECENT_SEQS messages, in the order received. */
  readonly recentSeqs: number[];
}

/**
 * Which neighbours are lazy (announced to) rather than eager (pushed to), per origin.
 *
 * One shared tree, as in the paper, carries each origin's first message: every neighbour starts
 * eager, the first broadcasts flood, and duplicates prune it to a spanning tree. But a shared tree
 * is rooted nowhere in particular: between two random nodes it runs about twice its depth, so the
 * last delivery hop was 17-26 at 1,000-10,000 nodes where a tree rooted at the origin needs 7-9.
 * So an origin that broadcasts again gets a tree of its own, a copy of the shared one, which the
 * optimisation (paper §3.8) then bends towards short paths from that origin without touching the
 * tree the other origins use. One-off origins never cost more than the shared tree.
 *
 * Every node copies at the same moment, on receiving the origin's second message and before
 * relaying it, so both ends of a link agree on which tree a Prune or Graft for that origin means:
 * an origin's messages and the control messages about them reach a node only after that copy.
 * All but those about its first message, which followed the shared tree: a swap there sends a
 * Graft and a Prune that may arrive after the copy. The Graft names its message and re-links the
 * tree that message followed (setForMessage); the Prune names none and lands in the copy, so the
 * shared tree keeps that link eager at this end, which costs a duplicate, not a cut.
 *
 * Memory: at most `maxOrigins` own trees and as many origins seen once, least recently used first
 * out. A forgotten origin follows the shared tree again for one message, then copies it anew.
 */
export class OriginTrees {
  private readonly maxOrigins: number;
  private readonly shared = new Set<NodeId>();
  /** Insertion order is recency order. */
  private readonly own = new Map<NodeId, OwnTree>();
  /** The origin last set into `own`, so at its end: noteMessage leaves it in place. */
  private newestOwn: NodeId | undefined;
  private readonly seenOnce = new Set<NodeId>();

  constructor(maxOrigins: number) {
    this.maxOrigins = maxOrigins;
  }

  /** Origins with a tree of their own. */
  get ownTrees(): number {
    return this.own.size;
  }

  /** Lazy links of the shared tree. */
  get sharedLazy(): number {
    return this.shared.size;
  }

  hasOwn(origin: NodeId): boolean {
    return this.own.has(origin);
  }

  /**
   * A new message from `origin` (ours included), received at `now` from neighbour `from` (undefined
   * for our own): its second one gives it a tree of its own.
   */
  noteMessage(origin: NodeId, seq: number, now: Millis, from?: NodeId): void {
    const own = this.own.get(origin);
    if (own !== undefined) {
      // Moved to the end, unless it is there already: a delete from a map of a few entries has V8
      // build it a new, smaller table, and one origin's stream would pay that per message.
      if (origin !== this.newestOwn) {
        this.own.delete(origin);
        this.own.set(origin, own);
        this.newestOwn = origin;
      }
      if (seq > own.newestSeq) {
        own.newestSeq = seq;
        own.newestFrom = from;
        own.newestAt = now;
      }
      if (own.recentSeqs.push(seq) > RECENT_SEQS) own.recentSeqs.shift();
      return;
    }
    if (!this.seenOnce.delete(origin)) {
      this.seenOnce.add(origin);
      if (this.seenOnce.size > this.maxOrigins)
        this.seenOnce.delete(this.seenOnce.values().next().value as NodeId);
      return;
    }
    if (this.own.size >= this.maxOrigins) this.own.delete(this.own.keys().next().value as NodeId);
    this.newestOwn = origin;
    this.own.set(origin, {
      lazy: new Set(this.shared),
      firstSeq: seq,
      newestSeq: seq,
      newestFrom: from,
      newestAt: now,
      echoers: [],
      recentSeqs: [seq],
    });
  }

  /**
   * The seqs of `origin`'s last few messages (none for an origin without a tree of its own, which
   * has sent one message): what a new tree link may have missed while it was being made.
   */
  recentSeqs(origin: NodeId): readonly number[] {
    return this.own.get(origin)?.recentSeqs ?? [];
  }

  /**
   * Whether a newer message of `origin` has arrived since message `seq`: a copy of `seq` that
   * arrives now took a path that the tree has since left, so it says nothing about today's tree.
   */
  isSuperseded(origin: NodeId, seq: number): boolean {
    const own = this.own.get(origin);
    return own !== undefined && seq < own.newestSeq;
  }

  /**
   * Whether `origin`'s next message should come to us over the link to `peer`: in the origin's own
   * tree, the link its newest message came over; in the shared tree, which carries every origin
   * and so has no direction, any tree link.
   */
  isCarrier(origin: NodeId, peer: NodeId): boolean {
    const own = this.own.get(origin);
    if (own === undefined) return !this.shared.has(peer);
    return own.newestFrom === peer && !own.lazy.has(peer);
  }

  /**
   * The carrier of `origin`'s tree if that tree is still bringing messages older than `seq`: the
   * newest so far is older and came over the carrier less than `within` ago. Undefined otherwise.
   */
  carrierBehind(origin: NodeId, seq: number, now: Millis, within: Millis): NodeId | undefined {
    const own = this.own.get(origin);
    if (own === undefined || own.newestFrom === undefined || own.newestSeq >= seq) return undefined;
    if (own.lazy.has(own.newestFrom) || now - own.newestAt >= within) return undefined;
    return own.newestFrom;
  }

  /**
   * Notes a late copy of an older message of `origin` (see isSuperseded) from `peer`. Whether `peer`,
   * which is not the carrier, sent one before: a cycle through `peer` persists. Counted for each
   * neighbour: two whose echoes alternate would otherwise never repeat.
   */
  isRepeatEcho(origin: NodeId, peer: NodeId): boolean {
    const own = this.own.get(origin);
    if (own === undefined || own.newestFrom === peer) return false;
    const index = own.echoers.indexOf(peer);
    if (index >= 0) {
      own.echoers.splice(index, 1);
      return true;
    }
    if (own.echoers.push(peer) > MAX_ECHOERS) own.echoers.shift();
    return false;
  }

  /** The lazy links that `origin`'s messages follow. */
  lazyFor(origin: NodeId): ReadonlySet<NodeId> {
    return this.own.get(origin)?.lazy ?? this.shared;
  }

  isLazy(origin: NodeId, peer: NodeId): boolean {
    return (this.own.get(origin)?.lazy ?? this.shared).has(peer);
  }

  /** Whether `peer` is a tree link in the shared tree or any own tree. O(own trees). */
  isEagerSomewhere(peer: NodeId): boolean {
    if (!this.shared.has(peer)) return true;
    for (const own of this.own.values()) if (!own.lazy.has(peer)) return true;
    return false;
  }

  /** Whether `peer` is only announced to in the shared tree or any own tree. O(own trees). */
  isLazySomewhere(peer: NodeId): boolean {
    if (this.shared.has(peer)) return true;
    for (const own of this.own.values()) if (own.lazy.has(peer)) return true;
    return false;
  }

  /**
   * Whether `origin`'s message `seq` followed the origin's own tree here, rather than the shared
   * one: it has a tree of its own, copied for this message or an earlier one.
   */
  followedOwn(origin: NodeId, seq: number): boolean {
    return this.treeForMessage(origin, seq) !== this.shared;
  }

  /**
   * Makes `peer` lazy or eager in the tree `origin`'s message `seq` followed. A Graft names a
   * message, and may have been sent about one that came before the copy: its sender re-linked
   * the shared tree, and our copy, made before the Graft arrived, did not get the change.
   */
  setForMessage(origin: NodeId, seq: number, peer: NodeId, lazy: boolean): void {
    setMember(this.treeForMessage(origin, seq), peer, lazy);
  }

  /** Makes `peer` lazy or eager in the tree `origin`'s messages follow. */
  set(origin: NodeId, peer: NodeId, lazy: boolean): void {
    setMember(this.own.get(origin)?.lazy ?? this.shared, peer, lazy);
  }

  /**
   * A neighbour that came or went is eager in every tree (paper Alg. 1: a new neighbour joins
   * eagerPushPeers), so a tree that lost a link is mended at once, without waiting for a Graft;
   * each tree's next message prunes the new link where it closes a cycle, one duplicate per tree.
   * Starting it lazy in the own trees instead saved those duplicates but left trees cut until a
   * Graft: latency p99 at 30 nodes went from 20-40 ms to 259 ms. O(own trees), only on a change.
   */
  resetPeer(peer: NodeId): void {
    this.shared.delete(peer);
    for (const own of this.own.values()) {
      own.lazy.delete(peer);
      // A new link's first late echo is its first: a transient of the new tree, not a cycle.
      if (own.echoers.length > 0) removeFrom(own.echoers, peer);
    }
  }

  /** The lazy set of the tree `origin`'s message `seq` followed: its own from the copy on. */
  private treeForMessage(origin: NodeId, seq: number): Set<NodeId> {
    const own = this.own.get(origin);
    return own !== undefined && seq >= own.firstSeq ? own.lazy : this.shared;
  }
}

function removeFrom(list: NodeId[], peer: NodeId): void {
  const index = list.indexOf(peer);
  if (index >= 0) list.splice(index, 1);
}

function setMember(lazySet: Set<NodeId>, peer: NodeId, lazy: boolean): void {
  if (lazy) lazySet.add(peer);
  else lazySet.delete(peer);
}
