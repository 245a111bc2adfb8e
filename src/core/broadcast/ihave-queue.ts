import { removeSlots } from '../arrays.js';
import type { IHave } from '../messages.js';
import type { NodeId, PeerInfo } from '../types.js';

export type IHaveEntry = IHave['entries'][number];

/** How many of a batch's newest entries `withdraw` looks at. */
const WITHDRAW_SCAN = 16;

/** Each batch is three consecutive slots of `slots`: the peer's id, the peer, its entries. */
const ID = 0;
const PEER = 1;
const ENTRIES = 2;
const SLOTS_PER_BATCH = 3;

/**
 * Announcements waiting to go out, one batch per lazy peer, so that the announcements of many
 * broadcasts travel in one IHave message. Entries are shared between peers (one object per
 * message), so queueing costs one array slot per peer.
 *
 * Batches sit in one array, in the order they were started (the order a flush sends them in), and
 * are found by a scan of the peers' ids: there is at most one per neighbour, a handful, and one
 * array is two objects to read where a Map of batches is five (at 10,000 simulated nodes, each a
 * cache miss on every announcement queued, withdrawn or flushed).
 */
export class IHaveQueue {
  private readonly slots: (NodeId | PeerInfo | IHaveEntry[])[] = [];

  /** Peers with a batch waiting. */
  get size(): number {
    return this.slots.length / SLOTS_PER_BATCH;
  }

  /** The peer of the `index`-th batch, oldest first (index below size). */
  peerAt(index: number): PeerInfo {
    return this.slots[index * SLOTS_PER_BATCH + PEER] as PeerInfo;
  }

  /** The entries of the `index`-th batch, oldest first (index below size). */
  entriesAt(index: number): IHaveEntry[] {
    return this.slots[index * SLOTS_PER_BATCH + ENTRIES] as IHaveEntry[];
  }

  /** Queues `entry` for `peer`; returns the size of that peer's batch now. */
  add(peer: PeerInfo, entry: IHaveEntry): number {
    const at = this.find(peer.id);
    if (at < 0) {
      // Created holding its entry: most batches never get a second one (one broadcast per flush
      // interval), and pushing into an empty array reserves room for 17.
      this.slots.push(peer.id, peer, [entry]);
      return 1;
    }
    const entries = this.slots[at + ENTRIES] as IHaveEntry[];
    entries.push(entry);
    return entries.length;
  }

  /** Removes and returns `peer`'s batch. */
  take(peer: NodeId): IHaveEntry[] | undefined {
    const at = this.find(peer);
    if (at < 0) return undefined;
    const entries = this.slots[at + ENTRIES] as IHaveEntry[];
    this.removeBatch(at);
    return entries;
  }

  /** Forgets every batch (after a flush has read them through peerAt and entriesAt). */
  clear(): void {
    removeSlots(this.slots, 0, this.slots.length);
  }

  /**
   * Takes the announcement of (origin, seq) back out of `peer`'s batch, if it is among the newest
   * WITHDRAW_SCAN entries: an announcement crosses the peer's own for the same message within a
   * flush interval or two, so it is near the end; a deeper search would cost more than it saves.
   */
  withdraw(peer: NodeId, origin: NodeId, seq: number): void {
    const at = this.find(peer);
    if (at < 0) return;
    const entries = this.slots[at + ENTRIES] as IHaveEntry[];
    const stop = Math.max(0, entries.length - WITHDRAW_SCAN);
    for (let i = entries.length - 1; i >= stop; i--) {
      const entry = entries[i] as IHaveEntry;
      if (entry.seq !== seq || entry.origin !== origin) continue;
      removeSlots(entries, i, 1);
      if (entries.length === 0) this.removeBatch(at);
      return;
    }
  }

  /** Forgets what was queued for `peer`: it left the active view. */
  drop(peer: NodeId): void {
    const at = this.find(peer);
    if (at >= 0) this.removeBatch(at);
  }

  /** Removes the batch whose first slot is `at`, keeping the others in order. */
  private removeBatch(at: number): void {
    removeSlots(this.slots, at, SLOTS_PER_BATCH);
  }

  /** The first slot of `peer`'s batch, or -1. */
  private find(peer: NodeId): number {
    const slots = this.slots;
    for (let at = ID; at < slots.length; at += SLOTS_PER_BATCH) if (slots[at] === peer) return at;
    return -1;
  }
}
