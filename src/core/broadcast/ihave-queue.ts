import type { IHave } from '../messages.js';
import type { NodeId, PeerInfo } from '../types.js';

export type IHaveEntry = IHave['entries'][number];

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

  /** Forgets what was queued for `peer`: it left the active view. */
  drop(peer: NodeId): void {
    this.batches.delete(peer);
  }
}
