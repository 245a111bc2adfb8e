import type { IHave } from '../messages.js';
import type { NodeId, PeerInfo } from '../types.js';

export type IHaveEntry = IHave['entries'][number];

/** How many of a batch's newest entries `withdraw` looks at. */
const WITHDRAW_SCAN = 16;

interface Batch {
  readonly peer: PeerInfo;
  entries: IHaveEntry[];
}

/**
 * Announcements waiting to go out, one batch per lazy peer, so that the announcements of many
 * broadcasts travel in one IHave message. Entries are shared between peers (one object per
 * message), so queueing costs one array slot per peer.
 */
export class IHaveQueue {
  private readonly batches = new Map<NodeId, Batch>();

  /** Queues `entry` for `peer`; returns the size of that peer's batch now. */
  add(peer: PeerInfo, entry: IHaveEntry): number {
    const batch = this.batches.get(peer.id);
    if (batch === undefined) {
      // Created holding its entry: most batches never get a second one (one broadcast per flush
      // interval), and pushing into an empty array reserves room for 17.
      this.batches.set(peer.id, { peer, entries: [entry] });
      return 1;
    }
    batch.entries.push(entry);
    return batch.entries.length;
  }

  /** Removes and returns `peer`'s batch. */
  take(peer: NodeId): IHaveEntry[] | undefined {
    const batch = this.batches.get(peer);
    if (batch === undefined) return undefined;
    this.batches.delete(peer);
    return batch.entries;
  }

  /** Removes and returns every batch. */
  takeAll(): Batch[] {
    const all = [...this.batches.values()];
    this.batches.clear();
    return all;
  }

  /**
   * Takes the announcement of (origin, seq) back out of `peer`'s batch, if it is among the newest
   * WITHDRAW_SCAN entries: an announcement crosses the peer's own for the same message within a
   * flush interval or two, so it is near the end; a deeper search would cost more than it saves.
   */
  withdraw(peer: NodeId, origin: NodeId, seq: number): void {
    const batch = this.batches.get(peer);
    if (batch === undefined) return;
    const entries = batch.entries;
    const stop = Math.max(0, entries.length - WITHDRAW_SCAN);
    for (let i = entries.length - 1; i >= stop; i--) {
      const entry = entries[i] as IHaveEntry;
      if (entry.seq !== seq || entry.origin !== origin) continue;
      entries.splice(i, 1);
      if (entries.length === 0) this.batches.delete(peer);
      return;
    }
  }

  /** Forgets what was queued for `peer`: it left the active view. */
  drop(peer: NodeId): void {
    this.batches.delete(peer);
  }
}
