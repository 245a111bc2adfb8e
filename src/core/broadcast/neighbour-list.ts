import { removeSlots } from '../arrays.js';
import type { NodeId, PeerInfo } from '../types.js';

/**
 * The active view as the broadcast layer keeps it: peers by id, in the order they came (the order
 * payloads and announcements go out in), with a Map's semantics: setting a present id replaces its
 * peer in place, deleting one keeps the others' order. One array of (id, peer) pairs, scanned by
 * id, rather than a Map: a view holds a handful of peers, and at 10,000 simulated nodes every cache
 * line of a Map's table that an event reads is a miss; a relay checks its sender and then pushes
 * to every peer, all from the same few lines.
 */
export class NeighbourList {
  private readonly slots: (NodeId | PeerInfo)[] = [];

  get size(): number {
    return this.slots.length >> 1;
  }

  /** The `index`-th peer, oldest first (index below size). */
  peerAt(index: number): PeerInfo {
    return this.slots[2 * index + 1] as PeerInfo;
  }

  has(id: NodeId): boolean {
    return this.find(id) >= 0;
  }

  get(id: NodeId): PeerInfo | undefined {
    const at = this.find(id);
    return at < 0 ? undefined : (this.slots[at + 1] as PeerInfo);
  }

  set(peer: PeerInfo): void {
    const at = this.find(peer.id);
    if (at >= 0) {
      this.slots[at + 1] = peer;
      return;
    }
    this.slots.push(peer.id, peer);
  }

  delete(id: NodeId): void {
    const at = this.find(id);
    if (at < 0) return;
    removeSlots(this.slots, at, 2);
  }

  /** The slot of `id`'s pair, or -1. */
  private find(id: NodeId): number {
    const slots = this.slots;
    for (let at = 0; at < slots.length; at += 2) if (slots[at] === id) return at;
    return -1;
  }
}
