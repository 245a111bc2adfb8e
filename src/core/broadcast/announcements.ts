import type { Millis, NodeId, PeerInfo } from '../types.js';
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
  /** When the first announcement came: a copy the tree brings later is timed from it (GraftWaits). */
  readonly announcedAt: Millis;
  /** Announcers not asked yet, oldest first: the paper grafts them in the order they announced. */
  readonly announcers: Announcement[];
  /**
   * Announcers already sent a Graft for it. They still count against their limit (see
   * Announcements) until the message is resolved: it arrived, or nobody is left to ask.
   */
  readonly asked: NodeId[];
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
 * its own announcements, never a scan of the table, and bounds what one peer can make us hold: an
 * announcement counts against its peer's limit until its message is resolved, not merely until the
 * peer is asked for it, or a peer whose announcements are grafted at once (every new neighbour is
 * a tree link) could leave any number of messages missing, each with a Graft and a timer.
 */
export class Announcements {
  private readonly byKey = new Map<MessageKey, MissingMessage>();
  private readonly byPeer = new Map<NodeId, Set<MissingMessage>>();
  /** Messages each peer was asked for (a Graft) and that are not resolved yet. */
  private readonly askedOf = new Map<NodeId, number>();
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

  /** Grafts sent to `peer` for messages not resolved yet. */
  graftsInFlight(peer: NodeId): number {
    return this.askedOf.get(peer) ?? 0;
  }

  /** Outstanding announcements from `peer`, asked for or not. */
  countFrom(peer: NodeId): number {
    return this.byPeer.get(peer)?.size ?? 0;
  }

  announce(
    key: MessageKey,
    origin: NodeId,
    seq: number,
    peer: PeerInfo,
    hops: number,
    now: Millis,
  ): AnnounceResult {
    let fromPeer = this.byPeer.get(peer.id);
    let message = this.byKey.get(key);
    if (message !== undefined && fromPeer?.has(message)) return { kind: 'recorded', message };
    if (fromPeer !== undefined && fromPeer.size >= this.maxPerPeer) return { kind: 'overLimit' };
    if (message === undefined) {
      message = {
        key,
        origin,
        seq,
        announcedAt: now,
        announcers: [],
        asked: [],
        timerToken: undefined,
        deferrals: 0,
      };
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

  /**
   * Takes `preferred` if it announced `message` and was not asked yet, else the oldest announcer,
   * skipping those with `maxInFlight` Grafts already in flight; records it as asked. Undefined if
   * no announcer is left, or every one left is at that limit.
   */
  takeNextAnnouncer(
    message: MissingMessage,
    preferred?: NodeId,
    maxInFlight = Number.POSITIVE_INFINITY,
  ): Announcement | undefined {
    const { announcers } = message;
    let index = preferred === undefined ? -1 : announcers.findIndex((a) => a.peer.id === preferred);
    if (index >= 0 && this.graftsInFlight(preferred as NodeId) >= maxInFlight) index = -1;
    if (index < 0) index = announcers.findIndex((a) => this.graftsInFlight(a.peer.id) < maxInFlight);
    if (index < 0) return undefined;
    const [next] = announcers.splice(index, 1);
    if (next === undefined) return undefined;
    message.asked.push(next.peer.id);
    this.askedOf.set(next.peer.id, this.graftsInFlight(next.peer.id) + 1);
    return next;
  }

  /** Forgets `message` altogether: it arrived, or nobody is left to ask. */
  delete(message: MissingMessage): void {
    if (this.byKey.get(message.key) !== message) return;
    this.byKey.delete(message.key);
    this.release(message);
  }

  /**
   * Forgets every announcement from `peer` (it left the active view). Messages it alone announced
   * stay while their graft timer is in flight; that timer then finds nobody to ask and drops them.
   */
  dropPeer(peer: NodeId): void {
    const fromPeer = this.byPeer.get(peer);
    if (fromPeer === undefined) return;
    this.byPeer.delete(peer);
    this.askedOf.delete(peer);
    for (const message of fromPeer) {
      const index = message.announcers.findIndex((a) => a.peer.id === peer);
      if (index >= 0) message.announcers.splice(index, 1);
      const asked = message.asked.indexOf(peer);
      if (asked >= 0) message.asked.splice(asked, 1);
      if (message.announcers.length === 0 && message.timerToken === undefined) this.delete(message);
    }
  }

  /** Unindexes every announcer of `message`, asked or not. */
  private release(message: MissingMessage): void {
    for (const announcement of message.announcers) this.unindex(announcement.peer.id, message);
    for (const peer of message.asked) {
      this.unindex(peer, message);
      const inFlight = this.graftsInFlight(peer) - 1;
      if (inFlight > 0) this.askedOf.set(peer, inFlight);
      else this.askedOf.delete(peer);
    }
    message.announcers.length = 0;
    message.asked.length = 0;
  }

  private unindex(peer: NodeId, message: MissingMessage): void {
    const fromPeer = this.byPeer.get(peer);
    if (fromPeer === undefined) return;
    fromPeer.delete(message);
    if (fromPeer.size === 0) this.byPeer.delete(peer);
  }
}
