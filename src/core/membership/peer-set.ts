import { pickMany, pickManyInPlace, type Random, randomInt } from '../random.js';
import type { NodeId, PeerInfo } from '../types.js';

/** Reused by pickRandom, whose `accept` callbacks never pick from a PeerSet themselves. */
const scratch: PeerInfo[] = [];

/**
 * A small set of peers keyed by id, with O(1) add, remove, lookup and uniform random choice: a
 * dense array for sampling plus an id → index map. Removal swaps the last entry into the hole, so
 * order carries no meaning. Views hold tens of peers, so a filtered pick is a plain scan.
 */
export class PeerSet {
  private readonly items: PeerInfo[] = [];
  private readonly indexById = new Map<NodeId, number>();

  get size(): number {
    return this.items.length;
  }

  has(id: NodeId): boolean {
    return this.indexById.has(id);
  }

  get(id: NodeId): PeerInfo | undefined {
    const index = this.indexById.get(id);
    return index === undefined ? undefined : this.items[index];
  }

  /** Adds `peer`, or refreshes its address if the id is present. Returns whether it was new. */
  add(peer: PeerInfo): boolean {
    const index = this.indexById.get(peer.id);
    if (index !== undefined) {
      this.items[index] = peer;
      return false;
    }
    this.indexById.set(peer.id, this.items.length);
    this.items.push(peer);
    return true;
  }

  /** Replaces the stored address of a present peer; a no-op for an absent one. Returns whether present. */
  refresh(peer: PeerInfo): boolean {
    const index = this.indexById.get(peer.id);
    if (index === undefined) return false;
    if (this.items[index]?.address !== peer.address) this.items[index] = peer;
    return true;
  }

  remove(id: NodeId): PeerInfo | undefined {
    const index = this.indexById.get(id);
    if (index === undefined) return undefined;
    const removed = this.items[index] as PeerInfo;
    const last = this.items.pop() as PeerInfo;
    this.indexById.delete(id);
    if (last !== removed) {
      this.items[index] = last;
      this.indexById.set(last.id, index);
    }
    return removed;
  }

  clear(): void {
    this.items.length = 0;
    this.indexById.clear();
  }

  /** The live backing array: callers must not keep or mutate it across changes. */
  values(): readonly PeerInfo[] {
    return this.items;
  }

  /** A uniformly chosen peer for which `accept` holds (all peers without it), or undefined. */
  pickRandom(random: Random, accept?: (peer: PeerInfo) => boolean): PeerInfo | undefined {
    if (accept === undefined) {
      return this.items.length === 0 ? undefined : this.items[randomInt(random, this.items.length)];
    }
    // One pass of `accept` (it runs for every membership decision), collecting the matches in a
    // shared scratch array; the draw and the pick are those of counting first, then walking again.
    const matching = scratch;
    matching.length = 0;
    for (const peer of this.items) if (accept(peer)) matching.push(peer);
    const picked = matching.length === 0 ? undefined : matching[randomInt(random, matching.length)];
    matching.length = 0;
    return picked;
  }

  /** Up to `count` distinct peers for which `accept` holds, in random order. */
  sample(random: Random, count: number, accept?: (peer: PeerInfo) => boolean): PeerInfo[] {
    if (count <= 0) return [];
    if (accept === undefined) return pickMany(random, this.items, count);
    return pickManyInPlace(random, this.items.filter(accept), count);
  }
}
