import { pickMany, pickManyInPlace, type Random, randomInt } from '../random.js';
import type { NodeId, PeerInfo } from '../types.js';

/**
 * A small set of peers keyed by id, with O(1) remove once found and uniform random choice: a dense
 * array of peers plus a parallel array of their ids. Removal swaps the last entry into the hole, so
 * order carries no meaning. Views hold tens of peers, so a look-up is a scan of the ids, which are
 * next to each other in memory: cheaper than a Map, whose table is a few more cache lines to read
 * (at 10,000 simulated nodes, each one a miss) and a kilobyte per view to keep.
 */
export class PeerSet {
  private readonly items: PeerInfo[] = [];
  private readonly ids: NodeId[] = [];

  get size(): number {
    return this.items.length;
  }

  has(id: NodeId): boolean {
    return this.indexOf(id) >= 0;
  }

  get(id: NodeId): PeerInfo | undefined {
    const index = this.indexOf(id);
    return index < 0 ? undefined : this.items[index];
  }

  /** Adds `peer`, or refreshes its address if the id is present. Returns whether it was new. */
  add(peer: PeerInfo): boolean {
    const index = this.indexOf(peer.id);
    if (index >= 0) {
      this.items[index] = peer;
      return false;
    }
    this.ids.push(peer.id);
    this.items.push(peer);
    return true;
  }

  /** Adds `peer`, whose id the caller knows to be absent (it just looked): no second look-up. */
  addAbsent(peer: PeerInfo): void {
    this.ids.push(peer.id);
    this.items.push(peer);
  }

  /** Replaces the stored address of a present peer; a no-op for an absent one. Returns whether present. */
  refresh(peer: PeerInfo): boolean {
    const index = this.indexOf(peer.id);
    if (index < 0) return false;
    // The same object (usual: peers are passed around, not copied) is not read at all.
    const stored = this.items[index];
    if (stored !== peer && stored?.address !== peer.address) this.items[index] = peer;
    return true;
  }

  remove(id: NodeId): PeerInfo | undefined {
    const index = this.indexOf(id);
    if (index < 0) return undefined;
    const removed = this.items[index] as PeerInfo;
    const last = this.items.pop() as PeerInfo;
    const lastId = this.ids.pop() as NodeId;
    if (index < this.items.length) {
      this.items[index] = last;
      this.ids[index] = lastId;
    }
    return removed;
  }

  clear(): void {
    this.items.length = 0;
    this.ids.length = 0;
  }

  /** The live backing array: callers must not keep or mutate it across changes. */
  values(): readonly PeerInfo[] {
    return this.items;
  }

  /** A uniformly chosen peer, or undefined when empty. */
  pickRandom(random: Random): PeerInfo | undefined {
    return this.items.length === 0 ? undefined : this.items[randomInt(random, this.items.length)];
  }

  /**
   * A uniformly chosen peer whose id is none of `except`, or undefined: one draw, the same pick as
   * filtering the peers first would give. The excluded ones are found in the ids instead of by
   * reading every peer, since views are spread over the heap: at 10,000 simulated nodes each peer
   * read is a cache miss.
   */
  pickRandomExcept(random: Random, except: Iterable<NodeId | undefined>): PeerInfo | undefined {
    const excluded = this.indicesOf(except);
    const matching = this.items.length - excluded.length;
    if (matching <= 0) return undefined;
    let index = randomInt(random, matching);
    // The target-th kept peer: step over each excluded slot at or before it (ascending order).
    for (const skipped of excluded) if (skipped <= index) index++;
    return this.items[index];
  }

  /** Up to `count` distinct peers whose ids are none of `except`, in random order (as pickMany). */
  sampleExcept(random: Random, count: number, except: Iterable<NodeId | undefined>): PeerInfo[] {
    if (count <= 0) return [];
    const excluded = this.indicesOf(except);
    if (excluded.length === 0) return pickMany(random, this.items, count);
    const candidates: PeerInfo[] = [];
    let next = 0;
    for (let i = 0; i < this.items.length; i++) {
      if (i === excluded[next]) next++;
      else candidates.push(this.items[i] as PeerInfo);
    }
    return pickManyInPlace(random, candidates, count);
  }

  /** Slots of the present ids among `ids`, each once, ascending. */
  private indicesOf(ids: Iterable<NodeId | undefined>): number[] {
    const indices: number[] = [];
    for (const id of ids) {
      const index = id === undefined ? -1 : this.indexOf(id);
      if (index < 0 || indices.includes(index)) continue;
      // Insertion into place: a handful of indices, where sort() would allocate a work area.
      let at = indices.length;
      indices.push(index);
      while (at > 0 && (indices[at - 1] as number) > index) {
        indices[at] = indices[at - 1] as number;
        at--;
      }
      indices[at] = index;
    }
    return indices;
  }

  /** The slot of `id`, or -1. */
  private indexOf(id: NodeId): number {
    const ids = this.ids;
    for (let i = 0; i < ids.length; i++) if (ids[i] === id) return i;
    return -1;
  }

  /** Up to `count` distinct peers in random order. */
  sample(random: Random, count: number): PeerInfo[] {
    return count <= 0 ? [] : pickMany(random, this.items, count);
  }
}
