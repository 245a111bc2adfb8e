import type { NodeId, PeerInfo } from '../types.js';

/**
 * The active view as the broadcast layer keeps it: peers by id, in the order they came (the order
 * payloads and announcements go out in), with a Map's semantics: setting a present id replaces its
 * peer in place, deleting one keeps the others' order. Two arrays scanned by id rather than a Map:
 * a view holds a handful of peers, and at 10,000 simulated nodes every cache line of a Map's table
 * that an event reads is a miss.
 */
export class NeighbourList {
  private readonly ids: NodeId[] = [];
  private readonly peers: PeerInfo[] = [];

  get size(): number {
    return this.ids.length;
  }

  has(id: NodeId): boolean {
    return this.indexOf(id) >= 0;
  }

  get(id: NodeId): PeerInfo | undefined {
    const index = this.indexOf(id);
    return index < 0 ? undefined : this.peers[index];
  }

  set(peer: PeerInfo): void {
    const index = this.indexOf(peer.id);
    if (index >= 0) {
      this.peers[index] = peer;
      return;
    }
    this.ids.push(peer.id);
    this.peers.push(peer);
  }

  delete(id: NodeId): void {
    const index = this.indexOf(id);
    if (index < 0) return;
    this.ids.splice(index, 1);
    this.peers.splice(index, 1);
  }

  /** The live backing array, oldest first: callers must not keep it, nor change the list while reading it. */
  values(): readonly PeerInfo[] {
    return this.peers;
  }

  private indexOf(id: NodeId): number {
    const ids = this.ids;
    for (let i = 0; i < ids.length; i++) if (ids[i] === id) return i;
    return -1;
  }
}
