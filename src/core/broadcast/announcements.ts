import type { NodeId, PeerInfo } from '../types.js';
import type { MessageKey } from './message-id.js';

/** A lazy peer said it has a message we lack, having received it `hops` links from its origin. */
export interface Announcement {
  readonly peer: PeerInfo;
  readonly hops: number;
}

/** A message announced to us but not received yet. */
export interface MissingMessage {
  readonly key: MessageKey;
  readonly origin: NodeId;
  readonly seq: number;
  /** Announcers not asked yet, oldest first: the paper grafts them in the order they announced. */
  readonly announcers: Announcement[];
  /** Token of the graft timer in flight for this message; undefined when none is armed. */
  timerToken: number | undefined;
  /** Graft timeouts that waited on instead, for a tree still bringing older messages. */
  deferrals: number;
}

export type AnnounceResult =
  /** Recorded (or a repeat from the same peer, which changes nothing). */
  | { readonly kind: 'recorded'; readonly message: MissingMessage }
  /** The announcer already has `maxPerPeer` outstanding announcements: this one is ignored. */
  | { readonly kind: 'overLimit' };

/**
 * The missing-message table of Plumtree (paper Alg. 2): for each message announced by IHave and not
 * yet received, who announced it. A per-peer index makes dropping a peer that went down cost only
 * its own announcements, never a scan of the table, and bounds what one peer can make us hold.
 */
export class Announcements {
  private readonly byKey = new Map<MessageKey, MissingMessage>();
  private readonly byPeer = new Map<NodeId, Set<MissingMessage>>();
  private readonly maxPerPeer: number;

  constructor(maxPerPeer: number) {
    this.maxPerPeer = maxPerPeer;
  }

  /** Messages currently missing. */
  get size(): number {
    return this.byKey.size;
  }

  get(key: MessageKey): MissingMessage | undefined {
    return this.byKey.get(key);
  }

  /** Outstanding announcements from `peer`. */
  countFrom(peer: NodeId): number {
    return this.byPeer.get(peer)?.size ?? 0;
  }

  announce(key: MessageKey, origin: NodeId, seq: number, peer: PeerInfo, hops: number): AnnounceResult {
    let fromPeer = this.byPeer.get(peer.id);
    let message = this.byKey.get(key);
    if (message !== undefined && fromPeer?.has(message)) return { kind: 'recorded', message };
    if (fromPeer !== undefined && fromPeer.size >= this.maxPerPeer) return { kind: 'overLimit' };
    if (message === undefined) {
      message = { key, origin, seq, announcers: [], timerToken: undefined, deferrals: 0 };
      this.byKey.set(key, message);
    }
    if (fromPeer === undefined) {
      fromPeer = new Set();
      this.byPeer.set(peer.id, fromPeer);
    }
    fromPeer.add(message);
    message.announcers.push({ peer, hops });
    return { kind: 'recorded', message };
  }

  /** Whether `peer` announced `message` and was not asked for it yet. */
  notAsked(message: MissingMessage, peer: NodeId): boolean {
    return message.announcers.some((a) => a.peer.id === peer);
  }

  /** Takes `preferred` if it announced `message` and was not asked yet, else the oldest announcer. */
  takeNextAnnouncer(message: MissingMessage, preferred?: NodeId): Announcement | undefined {
    let index = preferred === undefined ? -1 : message.announcers.findIndex((a) => a.peer.id === preferred);
    if (index < 0) index = 0;
    const [next] = message.announcers.splice(index, 1);
    if (next !== undefined) this.unindex(next.peer.id, message);
    return next;
  }

  /** Forgets `message` altogether: it arrived, or nobody is left to ask. */
  delete(message: MissingMessage): void {
    if (this.byKey.get(message.key) !== message) return;
    this.byKey.delete(message.key);
    for (const announcement of message.announcers) this.unindex(announcement.peer.id, message);
    message.announcers.length = 0;
  }

  /**
   * Forgets every announcement from `peer` (it left the active view). Messages it alone announced
   * stay while their graft timer is in flight; that timer then finds nobody to ask and drops them.
   */
  dropPeer(peer: NodeId): void {
    const fromPeer = this.byPeer.get(peer);
    if (fromPeer === undefined) return;
    this.byPeer.delete(peer);
    for (const message of fromPeer) {
      const index = message.announcers.findIndex((a) => a.peer.id === peer);
      if (index >= 0) message.announcers.splice(index, 1);
      if (message.announcers.length === 0 && message.timerToken === undefined) {
        this.byKey.delete(message.key);
      }
    }
  }

  private unindex(peer: NodeId, message: MissingMessage): void {
    const fromPeer = this.byPeer.get(peer);
    if (fromPeer === undefined) return;
    fromPeer.delete(message);
    if (fromPeer.size === 0) this.byPeer.delete(peer);
  }
}
