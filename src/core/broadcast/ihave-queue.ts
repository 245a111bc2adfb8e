import type { IHave } from '../messages.js';
import type { NodeId, PeerInfo } from '../types.js';

export type IHaveEntry = IHave['entries'][number];

/** How many of a batch's newest entries `withdraw` looks at. */
const WITHDRAW_SCAN = 16;

/**
 * Announcements waiting to go out, one batch per lazy peer, so that the announcements of many
 * broadcasts travel in one IHave message. Entries are shared between peers (one object per
 * message), so queueing costs one array slot per peer.
 *
 * Batches sit in arrays in the order they were started (the order a flush sends them in), found by
 * a scan of the peers' ids: there is at most one per neighbour, a handful, and a scan of one array
 * costs fewer cache misses than a Map's table (at 10,000 simulated nodes, each one counts).
 */
export class IHaveQueue {
  private readonly ids: NodeId[] = [];
  private readonly peers: PeerInfo[] = [];
  private readonly batches: IHaveEntry[][] = [];

  /** Peers with a batch waiting. */
  get size(): number {
    return this.ids.length;
  }

  /** The peer of the `index`-th batch, oldest first (index below size). */
  peerAt(index: number): PeerInfo {
    return this.peers[index] as PeerInfo;
  }

  /** The entries of the `index`-th batch, oldest first (index below size). */
  entriesAt(index: number): IHaveEntry[] {
    return this.batches[index] as IHaveEntry[];
  }

  /** Queues `entry` for `peer`; returns the size of that peer's batch now. */
  add(peer: PeerInfo, entry: IHaveEntry): number {
    const index = this.indexOf(peer.id);
    if (index < 0) {
      // Created holding its entry: most batches never get a second one (one broadcast per flush
      // interval), and pushing into an empty array reserves room for 17.
      this.ids.push(peer.id);
      this.peers.push(peer);
      this.batches.push([entry]);
      return 1;
    }
    const entries = this.batches[index] as IHaveEntry[];
    entries.push(entry);
    return entries.length;
  }

  /** Removes and returns `peer`'s batch. */
  take(peer: NodeId): IHaveEntry[] | undefined {
    const index = this.indexOf(peer);
    if (index < 0) return undefined;
    const entries = this.batches[index];
    this.removeAt(index);
    return entries;
  }

  /** Forgets every batch (after a flush has read them through peerAt and entriesAt). */
  clear(): void {
    // Emptied by pops, which keep the arrays' room: `length = 0` drops it, to be allocated again.
    while (this.ids.length > 0) {
      this.ids.pop();
      this.peers.pop();
      this.batches.pop();
    }
  }

  /**
   * Takes the announcement of (origin, seq) back out of `peer`'s batch, if it is among the newest
   * WITHDRAW_SCAN entries: an announcement crosses the peer's own for the same message within a
   * flush interval or two, so it is near the end; a deeper search would cost more than it saves.
   */
  withdraw(peer: NodeId, origin: NodeId, seq: number): void {
    const index = this.indexOf(peer);
    if (index < 0) return;
    const entries = this.batches[index] as IHaveEntry[];
    const stop = Math.max(0, entries.length - WITHDRAW_SCAN);
    for (let i = entries.length - 1; i >= stop; i--) {
      const entry = entries[i] as IHaveEntry;
      if (entry.seq !== seq || entry.origin !== origin) continue;
      entries.splice(i, 1);
      if (entries.length === 0) this.removeAt(index);
      return;
    }
  }

  /** Forgets what was queued for `peer`: it left the active view. */
  drop(peer: NodeId): void {
    const index = this.indexOf(peer);
    if (index >= 0) this.removeAt(index);
  }

  private indexOf(peer: NodeId): number {
    const ids = this.ids;
    for (let i = 0; i < ids.length; i++) if (ids[i] === peer) return i;
    return -1;
  }

  /** Removes a batch, keeping the others in the order they were started. */
  private removeAt(index: number): void {
    this.ids.splice(index, 1);
    this.peers.splice(index, 1);
    this.batches.splice(index, 1);
  }
}
