import type { ProtocolAction } from '../actions.js';
import type { BroadcastMessage, Gossip, Graft, IHave, Prune } from '../messages.js';
import { jittered, type Random } from '../random.js';
import type { Millis, NodeId, PeerInfo } from '../types.js';
import { type Announcement, Announcements, type MissingMessage } from './announcements.js';
import { admitNewGossip, type MessageAuthenticator } from './authenticator.js';
import { type FloodOptions, seenSweepTimer } from './flood.js';
import { GraftWaits } from './graft-waits.js';
import { type IHaveEntry, IHaveQueue } from './ihave-queue.js';
import {
  isHopCount,
  isMessageId,
  isOrigin,
  isWellFormedGossip,
  type MessageKey,
  messageKey,
} from './message-id.js';
import { NeighbourList } from './neighbour-list.js';
import { OriginTrees } from './origin-trees.js';
import { type CachedPayload, ownedPayload, PayloadCache } from './payload-cache.js';
import {
  CATCH_UP_BYTES_PER_PEER,
  FAILED_OPTIMISATION_DISTRUST_MS,
  IHAVE_ENTRIES_LIMIT,
  IHAVE_FLUSH_JITTER,
  LEAVE_PUSH_BYTES_PER_PEER,
  MAX_GRAFT_DEFERRALS,
  MAX_GRAFTS_IN_FLIGHT_PER_PEER,
  type PlumtreeOptions,
} from './plumtree-options.js';
import { isUnseenBroadcast, SeenCache } from './seen-cache.js';
import { SequenceCounter } from './sequence.js';
import { SharedTreeActivity } from './shared-tree-activity.js';
import {
  type BroadcastEvent,
  type BroadcastStats,
  type BroadcastStrategy,
  type BroadcastTimer,
  emptyBroadcastStats,
} from './strategy.js';

/**
 * The flush timer is plain data that says nothing but its type, so one object serves every arming:
 * a runtime holds each armed timer until it fires, and a simulation holds a million of them.
 */
const IHAVE_FLUSH_TIMER: BroadcastTimer = { type: 'ihaveFlush' };

/**
 * Most of our own messages remembered as pushed to no neighbour (see unpushedOwn). A neighbour's
 * first Graft makes its link a tree link, so few go out so in a row; and the newest matter most,
 * as a goodbye is sent last.
 */
const UNPUSHED_OWN_LIMIT = 16;

/** The seen cache and sequence numbering are the same as flooding's. */
export type PlumtreeBroadcastOptions = PlumtreeOptions & FloodOptions;

/**
 * Plumtree (Leitão, Pereira, Rodrigues, "Epidemic Broadcast Trees", SRDS 2007) as a sans-IO
 * state machine over the active view. Each neighbour is either eager (payloads are pushed to it:
 * a tree link) or lazy (only announced by IHave: a repair link). Every neighbour starts eager, so
 * the first broadcast floods; a duplicate payload prunes the link it came on (Alg. 1), which
 * leaves a spanning tree. A message announced but not received within the graft timeout is
 * fetched with a Graft, which also makes that link eager again (Alg. 2). That tree is shared by
 * every origin's first message; an origin that broadcasts again gets a copy of its own, which the
 * optimisation shortens for it (OriginTrees).
 *
 * Per node, state is O(active view × own trees (at most maxOriginTrees) + messages in the
 * caches); each event costs O(active view) plus O(entries) for an IHave, and a neighbour change
 * O(own trees), with no scan of any other table.
 */
export class PlumtreeBroadcast implements BroadcastStrategy {
  private readonly selfId: NodeId;
  private readonly options: PlumtreeBroadcastOptions;
  private readonly neighbours = new NeighbourList();
  private readonly trees: OriginTrees;
  private readonly seen: SeenCache;
  private readonly cache: PayloadCache;
  /** The seen cache keeps an entry at least as long as the payload cache (see cachedWasSeen). */
  private readonly seenOutlivesCache: boolean;
  private readonly missing: Announcements;
  /** Timers 1 and 2, stretched from the configured ones by what the tree's delays turn out to be. */
  private readonly waits: GraftWaits;
  private readonly ihaveQueue = new IHaveQueue();
  /** A flush timer is armed. While none is, nothing is queued: a flush sends it all, queueing arms one. */
  private flushArmed = false;
  /**
   * Tree links that an optimisation made in the last graft timeout, by tree and peer (see
   * freshLinkKey), and when. Until the old parent's Prune has landed, the last copies that took
   * the old path still arrive, and the new parent's catch-up (see sendCatchUp) may repeat them:
   * duplicates on such a link are expected, not a cycle, and pruning it would cut the node from
   * both parents.
   */
  private readonly freshLinks = new Map<string, Millis>();
  private readonly sharedActivity = new SharedTreeActivity();
  /**
   * When we last pruned each neighbour, in any tree: a first copy from it within a graft timeout
   * may have crossed that Prune (see revokePrune). At most one entry per neighbour.
   */
  private readonly lastPruned = new Map<NodeId, Millis>();
  /**
   * Neighbours an optimisation made a parent that have not pushed us a new message since, with the
   * parent each replaced (see FAILED_OPTIMISATION_DISTRUST_MS); and the neighbours whose former
   * parent then had to be grafted for a message they did not bring, until when their announcements
   * make no shortcut. At most one entry per neighbour in each.
   */
  private readonly unprovenParents = new Map<NodeId, NodeId>();
  private readonly distrustedUntil = new Map<NodeId, Millis>();
  /**
   * The payloads sent to each neighbour in answer to its Grafts (asked for, or catch-up), and when:
   * each at most once while cached (payloadCacheMaxAge), so that repeating a 45-byte Graft does not
   * have the same payload sent again. At most one entry per neighbour and cached message.
   */
  private readonly answered = new Map<NodeId, Map<MessageKey, Millis>>();
  /** Catch-up bytes sent to each neighbour since `start`, a window of one graft timeout. */
  private readonly catchUpSpent = new Map<NodeId, { start: Millis; bytes: number }>();
  /**
   * Our own latest messages that went to no neighbour as a payload, only in announcements (every
   * link lazy in their tree), oldest first, at most UNPUSHED_OWN_LIMIT: until a neighbour grafts
   * one, this node holds its only copy (see leave).
   */
  private readonly unpushedOwn: number[] = [];
  /** The peer last asked for a missing payload, and when (see onGraftTimeout). */
  private lastGraft: { readonly peer: NodeId; readonly at: Millis } | undefined;
  private nextTimerToken = 1;
  private readonly sequence: SequenceCounter;
  private started = false;
  private readonly counters: BroadcastStats = emptyBroadcastStats();
  private readonly authenticator: MessageAuthenticator | undefined;

  constructor(
    selfId: NodeId,
    options: PlumtreeBroadcastOptions,
    private readonly random: Random,
    authenticator?: MessageAuthenticator,
  ) {
    this.selfId = selfId;
    this.options = options;
    this.authenticator = authenticator;
    this.seen = new SeenCache(options.seenCacheMaxEntries, options.seenCacheMaxAge);
    this.cache = new PayloadCache(options.payloadCacheMaxBytes, options.payloadCacheMaxAge);
    this.missing = new Announcements(options.maxAnnouncementsPerPeer);
    this.waits = new GraftWaits(options.graftTimeout, options.graftRetryTimeout);
    this.trees = new OriginTrees(options.maxOriginTrees);
    this.sequence = new SequenceCounter(options.initialSeq);
    this.seenOutlivesCache = options.seenCacheMaxAge >= options.payloadCacheMaxAge;
  }

  stats(): BroadcastStats {
    return {
      ...this.counters,
      seenCacheSize: this.seen.size,
      eagerPeers: this.neighbours.size - this.trees.sharedLazy,
      lazyPeers: this.trees.sharedLazy,
      originTrees: this.trees.ownTrees,
      missingMessages: this.missing.size,
      payloadCacheEntries: this.cache.size,
      payloadCacheBytes: this.cache.bytes,
    };
  }

  lastSeq(): number {
    return this.sequence.last;
  }

  isUnseen(message: Gossip): boolean {
    return isUnseenBroadcast(message, this.selfId, this.seen);
  }

  carriesTree(peer: NodeId): boolean {
    return this.trees.isEagerSomewhere(peer);
  }

  handle(event: BroadcastEvent, now: Millis, out: ProtocolAction[]): void {
    switch (event.type) {
      case 'start':
        if (this.started) return;
        this.started = true;
        this.armSweep(out);
        return;
      case 'neighborUp':
        this.trees.resetPeer(event.peer.id);
        this.neighbours.set(event.peer);
        this.announceRecent(event.peer, now, out);
        return;
      case 'neighborDown':
        this.onNeighbourDown(event.peer, event.leaving === true ? undefined : out);
        return;
      case 'broadcast':
        this.originate(event.payload, event.minSeq, now, out);
        return;
      case 'message':
        this.onMessage(event.from, event.message, now, out);
        return;
      case 'timer':
        this.onTimer(event.timer, now, out);
        return;
    }
  }

  /**
   * A tree link that breaks splits every tree it was in, and the part cut off from an origin would
   * get that origin's next message only through an IHave and a Graft: 25 ms of flush plus the
   * 250 ms graft timeout, the slowest messages of a stable network, which still loses a link now
   * and then to a HyParView eviction. So each end makes its lazy links eager again, both ways (it
   * pushes, and a Relink asks the neighbour to push back): whichever side of the cut it is on, its
   * links to the other side reconnect it at once, and the next message of each tree prunes the
   * extra links, a few duplicate copies per tree. Neither end knows which side holds a given
   * origin (in the shared tree, every node is one), so both ends relink both ways.
   */
  /** `out` undefined: this node is leaving, and relinks nobody. */
  private onNeighbourDown(lost: PeerInfo, out: ProtocolAction[] | undefined): void {
    const wasTreeLink = this.trees.isEagerSomewhere(lost.id);
    this.neighbours.delete(lost.id);
    this.trees.resetPeer(lost.id);
    this.missing.dropPeer(lost.id);
    this.lastPruned.delete(lost.id);
    this.unprovenParents.delete(lost.id);
    this.distrustedUntil.delete(lost.id);
    this.answered.delete(lost.id);
    this.catchUpSpent.delete(lost.id);
    this.ihaveQueue.drop(lost.id);
    if (!wasTreeLink || out === undefined) return;
    for (let i = 0; i < this.neighbours.size; i++) {
      const peer = this.neighbours.peerAt(i);
      if (!this.trees.isLazySomewhere(peer.id)) continue;
      this.trees.resetPeer(peer.id);
      this.sendRelink(peer, out);
    }
  }

  private onMessage(from: PeerInfo, message: BroadcastMessage, now: Millis, out: ProtocolAction[]): void {
    switch (message.type) {
      case 'gossip':
        this.onGossip(from, message, now, out);
        return;
      case 'ihave':
        this.onIHave(from, message, now, out);
        return;
      case 'graft':
        this.onGraft(from, message, now, out);
        return;
      case 'prune':
        this.onPrune(from, message);
        return;
      case 'relink':
        if (this.acceptsControl(from, true)) this.trees.resetPeer(from.id);
        return;
      default:
        // Not a broadcast message at all: only malformed input gets here.
        this.counters.invalidPayloads++;
        return;
    }
  }

  private onTimer(timer: BroadcastTimer, now: Millis, out: ProtocolAction[]): void {
    switch (timer.type) {
      case 'seenSweep':
        this.seen.sweep(now);
        this.cache.sweep(now);
        this.forgetStale(this.freshLinks, now);
        this.forgetStale(this.lastPruned, now);
        this.forgetAnswered(now);
        this.armSweep(out);
        return;
      case 'graftTimeout':
        this.onGraftTimeout(timer.origin, timer.seq, timer.token, now, out);
        return;
      case 'ihaveFlush':
        this.flushArmed = false;
        for (let i = 0; i < this.ihaveQueue.size; i++) {
          this.sendIHave(this.ihaveQueue.peerAt(i), this.ihaveQueue.entriesAt(i), out);
        }
        this.ihaveQueue.clear();
        return;
    }
  }

  private originate(data: Uint8Array, minSeq: number | undefined, now: Millis, out: ProtocolAction[]): void {
    const seq = this.sequence.take(minSeq);
    const key = messageKey(this.selfId, seq);
    // Our own message coming back is a duplicate, so the link it came on gets pruned.
    this.seen.add(key, now);
    this.counters.broadcasts++;
    this.noteMessage(this.selfId, seq, undefined, now);
    // Copied so that the cache never changes under a Graft if the application reuses its buffer.
    const payload = new Uint8Array(data);
    const signature = this.authenticator?.sign(this.selfId, seq, payload);
    this.cache.add(key, { origin: this.selfId, seq, hops: 0, parent: undefined, signature }, payload, now);
    const pushed = this.push(
      { type: 'gossip', origin: this.selfId, seq, hops: 0, signature, payload },
      undefined,
      out,
    );
    if (pushed === 0 && this.unpushedOwn.push(seq) > UNPUSHED_OWN_LIMIT) this.unpushedOwn.shift();
  }

  /**
   * Our own messages that went out only as announcements, and that no neighbour has grafted from us
   * yet, are pushed to every neighbour before the goodbyes: nobody else has them, and their Grafts
   * would come a graft timeout or more later, when we are gone. A goodbye broadcast just before
   * leaving (as `meshcast chat` does on quitting) from a node whose links were all lazy (each
   * neighbour had pruned it) otherwise reached nobody: its IHaves were still queued, dropped with
   * the neighbours. Newest first, within LEAVE_PUSH_BYTES_PER_PEER to each neighbour.
   */
  leave(now: Millis, out: ProtocolAction[]): void {
    const spent = new Map<NodeId, number>();
    for (let i = this.unpushedOwn.length - 1; i >= 0; i--) {
      const key = messageKey(this.selfId, this.unpushedOwn[i] as number);
      const cached = this.cache.get(key, now);
      if (cached === undefined || this.answeredAnyone(key)) continue;
      for (let j = 0; j < this.neighbours.size; j++) {
        const peer = this.neighbours.peerAt(j);
        const bytes = spent.get(peer.id) ?? 0;
        if (bytes > 0 && bytes + cached.payload.byteLength > LEAVE_PUSH_BYTES_PER_PEER) continue;
        spent.set(peer.id, bytes + cached.payload.byteLength);
        this.sendCached(peer, cached, out);
      }
    }
    this.unpushedOwn.length = 0;
  }

  /** Whether some neighbour was sent the payload of `key` in answer to a Graft (or as catch-up). */
  private answeredAnyone(key: MessageKey): boolean {
    for (const sent of this.answered.values()) if (sent.has(key)) return true;
    return false;
  }

  private onGossip(from: PeerInfo, message: Gossip, now: Millis, out: ProtocolAction[]): void {
    if (!isWellFormedGossip(message)) {
      this.counters.invalidPayloads++;
      return;
    }
    this.counters.payloadsReceived++;
    const key = messageKey(message.origin, message.seq);
    // Our own message is never delivered to ourselves, even after the cache forgot it.
    if (message.origin === this.selfId || this.seen.has(key)) {
      this.counters.duplicates++;
      const link = this.freshLinkKey(message.origin, message.seq, from.id);
      if (this.isFresh(this.freshLinks.get(link), now)) return;
      if (!this.isNeighbour(from.id)) return;
      this.waits.copyArrived(key, from.id, now);
      // A late echo of an older message: the tree it describes has moved on, and a Prune now would
      // cut the link that carries the newer ones. But a second one from the same neighbour, not the
      // carrier, whoever echoed in between, comes round a cycle that stays: under a steady stream
      // every copy on it is late, so it would never be pruned (one process per node on two cores,
      // 500 messages from node 0 as fast as they go: a thousand such copies in one run). A single
      // echo is left alone: its sender may not have the origin's own tree yet, and would apply the
      // Prune to the shared tree (100 nodes, a broadcast every 40 ms, seed 37: 355 deliveries waited
      // for a Graft, 1,117 when the first echo was pruned).
      if (
        this.trees.isSuperseded(message.origin, message.seq) &&
        !this.trees.isRepeatEcho(message.origin, from.id)
      ) {
        return;
      }
      // The same in the shared tree, which the other origins' messages follow too: the newer one
      // may have come over this very link and still be on its way round the cycle, whose other
      // link its own duplicates will prune; a Prune here as well would cut the cycle twice (100
      // nodes, a broadcast every 40 ms, seed 20: 1,384 deliveries waited for a Graft without this).
      if (!this.trees.hasOwn(message.origin) && !this.sharedActivity.isNewest(message.origin, message.seq)) {
        return;
      }
      // Paper Alg. 1: a second copy means this link closes a cycle; take it out of the tree. But
      // an origin keeps pushing its own messages to every neighbour in its own tree: a neighbour
      // that echoes one got it by a longer path this time, and cutting the direct link would
      // leave it hanging on that path (or on nothing, once that path is pruned in turn).
      const keepPushing = message.origin === this.selfId && this.trees.hasOwn(this.selfId);
      if (!keepPushing) this.trees.set(message.origin, from.id, true);
      this.sendPrune(from, message.origin, now, out);
      return;
    }
    if (!admitNewGossip(this.seen, this.authenticator, from, message, key, now, this.counters, out)) return;
    if (this.unprovenParents.size > 0) this.unprovenParents.delete(from.id);
    this.noteMessage(message.origin, message.seq, from.id, now);
    const hops = message.hops + 1;
    const parent = from.id;
    // The cache copies signature and payload next to each other into its own memory; the relays
    // carry views of it. Only a payload too large for the cache gets copies of its own.
    const cached = this.cache.store(
      key,
      message.origin,
      message.seq,
      hops,
      parent,
      message.signature,
      message.payload,
      now,
    );
    const relayed: Gossip = {
      type: 'gossip',
      origin: message.origin,
      seq: message.seq,
      hops,
      signature:
        cached >= 0 ? this.cache.signatureAt(cached) : message.signature && ownedPayload(message.signature),
      payload: cached >= 0 ? this.cache.payloadAt(cached) : ownedPayload(message.payload),
    };
    const missing = this.missing.get(key);
    this.waits.copyArrived(key, from.id, now, missing);
    if (this.isNeighbour(from.id)) {
      // It may have been lazy: this copy answers our Graft, or it re-linked itself to us, or it
      // crossed our Prune (see revokePrune).
      const lazyHere = this.trees.isLazy(message.origin, from.id);
      this.trees.set(message.origin, from.id, false);
      if (lazyHere && this.isFresh(this.lastPruned.get(from.id), now)) {
        this.revokePrune(from, message, now, out);
      }
      this.push(relayed, from.id, out, missing?.announcers);
    } else {
      // The last copies on a link that just went down. Our tree links were not chosen with this
      // copy: after the Relink that the loss caused, pushing it would be a duplicate for every
      // neighbour, and their Prunes would cut us from every tree at once. Announcing it costs a
      // Graft to a neighbour that lacks it, which the tree it came through rarely leaves.
      this.announce(relayed, out);
    }
    // The application gets the payload as decoded (a view into a socket read buffer, as flooding
    // hands it out); the cache and the relays use a copy that owns its memory, so the cache
    // neither pins the read buffer nor changes when that memory is reused. It gets it after the
    // relays: a listener that takes its time must not hold up the peers further down the tree.
    out.push({ type: 'deliver', origin: message.origin, seq: message.seq, hops, payload: message.payload });
    if (missing === undefined) return;
    // The shortest announcement that beat this copy may show a much shorter path (paper §3.8).
    // Only after the push: the announcer has the message, so it must not get it from us.
    let shortest = missing.announcers[0];
    for (const announcement of missing.announcers) {
      if (shortest === undefined || announcement.hops < shortest.hops) shortest = announcement;
    }
    this.missing.delete(missing);
    if (shortest !== undefined && cached >= 0) {
      this.optimise(
        this.cache.locate(key, now),
        message.origin,
        message.seq,
        shortest.peer,
        shortest.hops,
        now,
        out,
      );
    }
  }

  /**
   * A first copy came over a link that is lazy at our end, from a neighbour we pruned less than a
   * graft timeout ago: it pushed the copy before our Prune (after a duplicate, or a swap in
   * optimise) reached it, or its copy of the tree (OriginTrees) was taken before that. The link
   * is part of the path this message took. If it closes a cycle, this message's own duplicates
   * will take another link out of that cycle; with our Prune too, the part between the two is cut
   * off until a Graft (100 nodes, a broadcast every 40 ms, seed 4: a swap's Prune crossed by the
   * next message, whose duplicates then pruned the only other link of 7 nodes: 192 deliveries
   * waited for a Graft). So the link stays eager at our end, and a Graft that asks for nothing
   * makes it eager again at the sender's end, where it arrives after our Prune: both ends agree,
   * and the next duplicate prunes one link of the cycle, at the cost of that duplicate.
   */
  private revokePrune(from: PeerInfo, message: Gossip, now: Millis, out: ProtocolAction[]): void {
    this.counters.prunesRevoked++;
    this.lastPruned.delete(from.id);
    this.sendGraft(from, message.origin, message.seq, false, out);
    // Its answer, a catch-up (see sendCatchUp), may repeat what we have: no reason to prune again.
    this.markFresh(message.origin, message.seq, from.id, now);
  }

  /**
   * Eager push to the tree links and lazy push (queued announcements) to the others, except to a
   * lazy neighbour among `announcers` (those that announced this message before it reached us) that
   * our announcement would tell nothing, as in onIHave's withdrawal. Across a lazy link whose ends
   * get a message far apart, the earlier end's IHave arrives before the message itself. Returns
   * how many neighbours were sent the payload.
   */
  private push(
    message: Gossip,
    except: NodeId | undefined,
    out: ProtocolAction[],
    announcers?: readonly Announcement[],
  ): number {
    const lazy = this.trees.lazyFor(message.origin);
    let entry: IHaveEntry | undefined;
    let pushed = 0;
    for (let i = 0; i < this.neighbours.size; i++) {
      const peer = this.neighbours.peerAt(i);
      if (peer.id === except) continue;
      if (!lazy.has(peer.id)) {
        this.counters.payloadsSent++;
        out.push({ type: 'send', to: peer, message });
        pushed++;
        continue;
      }
      if (announcers !== undefined && this.announcedAlready(announcers, peer.id, message.hops)) continue;
      entry ??= { origin: message.origin, seq: message.seq, hops: message.hops };
      this.queueIHave(peer, entry, out);
    }
    return pushed;
  }

  /** Whether `peer` announced the message, and our announcement would tell it nothing (tellsNothing). */
  private announcedAlready(announcers: readonly Announcement[], peer: NodeId, hops: number): boolean {
    for (const announcement of announcers) {
      if (announcement.peer.id === peer) return this.tellsNothing(announcement.hops, hops);
    }
    return false;
  }

  /**
   * Whether our announcement of a message we got `ourHops` from its origin would tell nothing to a
   * neighbour that got it `theirHops` away: it has the message, and our path is not short enough
   * for it to re-link to us (paper §3.8; its optimise would stop at the first threshold).
   */
  private tellsNothing(theirHops: number, ourHops: number): boolean {
    return theirHops - (ourHops + 1) < this.options.optimisationThreshold;
  }

  /** Lazy push only, to every neighbour. */
  private announce(message: Gossip, out: ProtocolAction[]): void {
    const entry: IHaveEntry = { origin: message.origin, seq: message.seq, hops: message.hops };
    for (let i = 0; i < this.neighbours.size; i++) this.queueIHave(this.neighbours.peerAt(i), entry, out);
  }

  private queueIHave(peer: PeerInfo, entry: IHaveEntry, out: ProtocolAction[]): void {
    const queued = this.ihaveQueue.add(peer, entry);
    if (queued >= this.options.ihaveBatchMax) {
      this.sendIHave(peer, this.ihaveQueue.take(peer.id) ?? [], out);
    } else if (!this.flushArmed) {
      this.flushArmed = true;
      const after = jittered(this.random, this.options.ihaveFlushInterval, IHAVE_FLUSH_JITTER);
      out.push({ type: 'setTimer', after, timer: IHAVE_FLUSH_TIMER });
    }
  }

  /**
   * Tells a new neighbour what we received lately (see DEFAULT_NEW_NEIGHBOUR_ANNOUNCE_WINDOW): if
   * the crash that gave us this link also cut it off from a message, it Grafts it from us.
   */
  private announceRecent(peer: PeerInfo, now: Millis, out: ProtocolAction[]): void {
    const since = now - this.options.newNeighbourAnnounceWindow;
    const recent = this.cache.storedSince(since, this.options.ihaveBatchMax);
    if (recent.length === 0) return;
    this.sendIHave(
      peer,
      recent.map((entry) => ({ origin: entry.origin, seq: entry.seq, hops: entry.hops })),
      out,
    );
  }

  private onIHave(from: PeerInfo, message: IHave, now: Millis, out: ProtocolAction[]): void {
    // A Graft may only go to a neighbour, so announcements from anyone else are of no use.
    if (!this.isNeighbour(from.id)) {
      this.counters.strangerMessages++;
      return;
    }
    if (!Array.isArray(message.entries)) {
      this.counters.invalidPayloads++;
      return;
    }
    const entries = message.entries;
    if (entries.length > IHAVE_ENTRIES_LIMIT) this.counters.invalidPayloads++;
    const count = Math.min(entries.length, IHAVE_ENTRIES_LIMIT);
    for (let i = 0; i < count; i++) {
      const entry = entries[i] as IHaveEntry | null;
      if (
        typeof entry !== 'object' ||
        entry === null ||
        !isMessageId(entry.origin, entry.seq) ||
        !isHopCount(entry.hops)
      ) {
        this.counters.invalidPayloads++;
        continue;
      }
      if (entry.origin === this.selfId) continue;
      const key = messageKey(entry.origin, entry.seq);
      // Most entries name a message we have: for one that is cached, the cache's answer spares
      // reading the seen cache's table (see cachedWasSeen).
      const cached = this.cache.locate(key, now);
      if (cached >= 0 ? this.cachedWasSeen(key) : this.seen.has(key)) {
        if (cached < 0) continue;
        this.optimise(cached, entry.origin, entry.seq, from, entry.hops, now, out);
        // Our own announcement of it, if still queued, would tell the peer nothing it can use. The
        // two ends of a lazy link otherwise announce every message to each other.
        // With no flush armed there is nothing queued to withdraw.
        if (this.flushArmed && this.tellsNothing(entry.hops, this.cache.hopsAt(cached))) {
          this.ihaveQueue.withdraw(from.id, entry.origin, entry.seq);
        }
        continue;
      }
      // One the seen cache would refuse (see SeenCache.refuses) is not worth a Graft.
      if (this.seen.refuses(entry.origin, entry.seq)) continue;
      const result = this.missing.announce(key, entry.origin, entry.seq, from, entry.hops, now);
      if (result.kind === 'overLimit') {
        this.counters.announcementsDropped++;
      } else if (
        this.trees.isCarrier(entry.origin, from.id) &&
        this.missing.notAsked(result.message, from.id)
      ) {
        // The link that carries this tree to us announces what it would have pushed: its copy
        // came over a link that has since gone (see onGossip). No push is on its way, so the graft
        // timer would only wait. 100 nodes, seeds 1-30, a broadcast every 40, 60 and 80 ms: 9
        // deliveries came more than a graft timeout late, none since. In an origin's own tree only
        // its parent counts: another tree link announces when its end is lazy and ours is not, and
        // the parent's copy may just be slow (one process per node on two cores, 500 messages from
        // node 0 as fast as they go: 30 and 46 such Grafts in two nodes, 0 to 10 with this rule).
        this.graftFrom(result.message, from.id, now, out);
      } else if (result.message.timerToken === undefined) {
        this.armGraftTimer(result.message, this.waits.graftWait(now), out);
      }
    }
  }

  /**
   * Whether `key`, which the payload cache holds (within its maximum age), is in the seen cache,
   * without reading the seen cache while that is certain: the payload cache stores only what was
   * just recorded as seen, and the seen cache forgets by age no sooner than the payload cache does
   * (with the default options, 60 s against 30 s), and by count only past its maximum count.
   */
  private cachedWasSeen(key: MessageKey): boolean {
    return (this.seenOutlivesCache && !this.seen.forgotByCount) || this.seen.has(key);
  }

  /**
   * Paper §3.8: `announcer` has the message `hops` links from its origin, so through it we would
   * be hops + 1 away instead of `cached.hops`. If that saves at least the threshold, it becomes our
   * parent: a Graft that asks for nothing makes the link eager, a Prune drops the old parent's.
   * The new path then becomes the reference, and the parent must still be eager, so a burst of
   * announcements for one message swaps the parent at most once per clearly shorter path.
   *
   * `cached` is the message's entry in the payload cache, as PayloadCache.locate found it (-1: not
   * cached, nothing to do).
   */
  private optimise(
    cached: number,
    origin: NodeId,
    seq: number,
    announcer: PeerInfo,
    hops: number,
    now: Millis,
    out: ProtocolAction[],
  ): void {
    if (cached < 0) return;
    // The common case first, and without reading anything else: no path saving enough for either
    // kind of tree (most IHave entries, and their tree tables are a few cache misses away).
    const saving = this.cache.hopsAt(cached) - (hops + 1);
    if (saving < Math.min(this.options.optimisationThreshold, this.options.sharedOptimisationThreshold))
      return;
    const parentId = this.cache.parentAt(cached);
    if (parentId === undefined || parentId === announcer.id) return;
    // It followed the shared tree, and its origin has a tree of its own since: neither tree is
    // what its hop counts describe, and a Prune (which names no message) would reach the other
    // tree at the old parent.
    const ownTree = this.trees.hasOwn(origin);
    if (ownTree && !this.trees.followedOwn(origin, seq)) return;
    // An origin's own tree is bent towards it readily; the shared tree, which serves every
    // origin, only for a long detour.
    const threshold = ownTree ? this.options.optimisationThreshold : this.options.sharedOptimisationThreshold;
    if (saving < threshold) return;
    if (!ownTree && !this.sharedActivity.isQuietOn(origin, seq, this.options.graftTimeout)) {
      return;
    }
    const parent = this.neighbours.get(parentId);
    if (parent === undefined || this.trees.isLazy(origin, parentId)) return;
    if (!this.isNeighbour(announcer.id)) return;
    if ((this.distrustedUntil.get(announcer.id) ?? now) > now) return;
    this.counters.optimisations++;
    this.unprovenParents.set(announcer.id, parentId);
    this.cache.setRouteAt(cached, hops + 1, announcer.id);
    this.trees.set(origin, announcer.id, false);
    this.sendGraft(announcer, origin, seq, false, out);
    this.markFresh(origin, seq, announcer.id, now);
    this.trees.set(origin, parentId, true);
    this.sendPrune(parent, origin, now, out);
  }

  /** A new message of `origin` (ours included): which tree it followed, and when. */
  private noteMessage(origin: NodeId, seq: number, from: NodeId | undefined, now: Millis): void {
    const followsShared = !this.trees.hasOwn(origin);
    this.trees.noteMessage(origin, seq, now, from);
    if (!followsShared) return;
    if (this.trees.hasOwn(origin)) this.sharedActivity.noteCopy(origin, seq);
    else this.sharedActivity.note(origin, seq, now);
  }

  private onGraftTimeout(
    origin: NodeId,
    seq: number,
    token: number,
    now: Millis,
    out: ProtocolAction[],
  ): void {
    const missing = this.missing.get(messageKey(origin, seq));
    if (missing === undefined || missing.timerToken !== token) return;
    missing.timerToken = undefined;
    // The tree still brings this origin's older messages: this one is queued behind them, most
    // likely on a link or in a process that is slow for now, not lost. A Graft would fetch a second
    // copy and make one more tree link. One process per node on two cores, 500 messages from node 0
    // as fast as they go: throughput RMR 0.29 and 0.21 without this rule, 0.09 and 0.06 with it
    // (means of two batches of 8 alternating runs). Each wait on is the configured timer 1: what
    // it waits for is a queue moving, which GraftWaits does not measure (it skips such messages).
    const carrier = this.trees.carrierBehind(origin, seq, now, this.options.graftTimeout);
    if (carrier !== undefined && this.isNeighbour(carrier) && missing.deferrals < MAX_GRAFT_DEFERRALS) {
      missing.deferrals++;
      this.counters.graftsDeferred++;
      this.armGraftTimer(missing, this.options.graftTimeout, out);
      return;
    }
    // When a burst of messages goes missing at once, the first announcer differs from message to
    // message; grafting each one would make several links eager, close cycles, and start a round of
    // Prunes that can cut this node off again. The peer grafted last, if it announced this message
    // too, is asked again instead: the burst re-links one parent. (A burst is Grafts within the
    // configured timer 1 of each other, however far GraftWaits stretches the wait before them.)
    const recent = this.lastGraft !== undefined && now - this.lastGraft.at < this.options.graftTimeout;
    const before = this.lastGraft;
    this.graftFrom(missing, recent ? this.lastGraft?.peer : undefined, now, out);
    if (this.lastGraft !== before && this.unprovenParents.size > 0) {
      this.distrustUnproven(origin, this.lastGraft?.peer as NodeId, now);
    }
  }

  /**
   * A message of `origin` went missing and `grafted` had it: a parent that an optimisation put in
   * `grafted`'s place, and that has pushed us nothing since, has not earned it (see
   * FAILED_OPTIMISATION_DISTRUST_MS).
   */
  private distrustUnproven(origin: NodeId, grafted: NodeId, now: Millis): void {
    for (const [peer, replaced] of this.unprovenParents) {
      if (replaced !== grafted || this.trees.isLazy(origin, peer)) continue;
      this.unprovenParents.delete(peer);
      this.distrustedUntil.set(peer, now + FAILED_OPTIMISATION_DISTRUST_MS);
    }
  }

  /**
   * Asks `preferred` for a missing message if it announced it and was not asked yet, else its
   * oldest announcer not asked yet; forgets the message when nobody is left to ask. An announcer
   * with MAX_GRAFTS_IN_FLIGHT_PER_PEER Grafts in flight is not asked; if every one left is at that
   * limit, the message waits another graft timeout.
   */
  private graftFrom(
    missing: MissingMessage,
    preferred: NodeId | undefined,
    now: Millis,
    out: ProtocolAction[],
  ): void {
    const { origin, seq } = missing;
    const next = this.missing.takeNextAnnouncer(missing, preferred, MAX_GRAFTS_IN_FLIGHT_PER_PEER);
    if (next === undefined) {
      if (missing.announcers.length === 0) this.missing.delete(missing);
      else this.armGraftTimer(missing, this.options.graftTimeout, out);
      return;
    }
    this.lastGraft = { peer: next.peer.id, at: now };
    // Paper p. 9: the announcer becomes a tree link and sends the payload; if it does not arrive
    // within the shorter timer 2, the next announcer is asked.
    this.trees.setForMessage(origin, seq, next.peer.id, false);
    this.sendGraft(next.peer, origin, seq, true, out);
    this.waits.graftSent(missing, next.peer.id, now);
    this.armGraftTimer(missing, this.waits.retryWait(now), out);
  }

  private onGraft(from: PeerInfo, message: Graft, now: Millis, out: ProtocolAction[]): void {
    const wellFormed = isMessageId(message.origin, message.seq) && typeof message.request === 'boolean';
    if (!this.acceptsControl(from, wellFormed)) return;
    // The tree its message followed here, which is the one the sender meant even if we copied
    // the shared tree for the origin's next message before this Graft arrived.
    this.trees.setForMessage(message.origin, message.seq, from.id, false);
    if (!message.request) {
      this.markFresh(message.origin, message.seq, from.id, now);
      this.sendCatchUp(from, message.origin, message.seq, now, out);
      return;
    }
    const key = messageKey(message.origin, message.seq);
    const cached = this.cache.get(key, now);
    if (cached === undefined) {
      this.counters.graftsUnanswerable++;
      return;
    }
    if (!this.answerOnce(from.id, key, now)) return;
    this.counters.graftsAnswered++;
    this.sendCached(from, cached, out);
  }

  /**
   * Whether `peer` may have the payload of `key` in answer to a Graft: not if it had it so already
   * while cached (a repeated Graft is not answered again). Records it as answered if so.
   */
  private answerOnce(peer: NodeId, key: MessageKey, now: Millis): boolean {
    let sent = this.answered.get(peer);
    if (sent?.has(key)) {
      this.counters.graftAnswersWithheld++;
      return false;
    }
    if (sent === undefined) {
      sent = new Map();
      this.answered.set(peer, sent);
    }
    sent.set(key, now);
    return true;
  }

  /**
   * Whether a catch-up payload of `bytes` fits `peer`'s budget (CATCH_UP_BYTES_PER_PEER per graft
   * timeout), taking it from the budget if so. The first payload of a window always fits.
   */
  private spendCatchUp(peer: NodeId, bytes: number, now: Millis): boolean {
    let spent = this.catchUpSpent.get(peer);
    if (spent === undefined || now - spent.start >= this.options.graftTimeout) {
      spent = { start: now, bytes: 0 };
      this.catchUpSpent.set(peer, spent);
    }
    if (spent.bytes > 0 && spent.bytes + bytes > CATCH_UP_BYTES_PER_PEER) {
      this.counters.graftAnswersWithheld++;
      return false;
    }
    spent.bytes += bytes;
    return true;
  }

  /** Forgets the answers sent longer ago than the payload cache keeps a payload. */
  private forgetAnswered(now: Millis): void {
    for (const [peer, sent] of this.answered) {
      for (const [key, at] of sent) {
        if (now - at < this.options.payloadCacheMaxAge) break;
        sent.delete(key);
      }
      if (sent.size === 0) this.answered.delete(peer);
    }
    for (const [peer, spent] of this.catchUpSpent) {
      if (now - spent.start >= this.options.graftTimeout) this.catchUpSpent.delete(peer);
    }
  }

  /**
   * An optimisation's Graft re-links `peer` to us at `origin`'s message `seq`, and its Prune
   * unlinks it from its old parent at the same time. A later message of `origin` that passed us
   * before the Graft arrived, but reaches the old parent after the Prune, would reach `peer` from
   * neither: only by IHave and a Graft, a graft timeout later (a real race: an origin that
   * publishes again at once, while its neighbours re-link to it). So we send `peer` the newer
   * messages of `origin` among the last few we received (OriginTrees.recentSeqs); those it had
   * already are duplicates it expects (see freshLinks), not a reason to prune us.
   *
   * The same race in the shared tree concerns every message that followed it after `seq`, and
   * the swaps there wait for quiet (SharedTreeActivity) but not for the next message's arrival:
   * the next origin's message is often on its way (100 nodes, a broadcast every 80 ms, seed 8).
   * One of those may be an origin's second message, which followed a copy of our shared tree made
   * before this Graft arrived (OriginTrees.noteMessage), so `peer` is lazy in that copy; `peer`'s
   * copy, made after its swap, has us as its parent. The catch-up is its copy of that message,
   * and like any push makes the link a tree link at both ends: here it becomes eager in that
   * origin's tree, there the payload makes us eager. Without it, `peer` would have no parent in
   * the new tree, and every later message of that origin would wait for a Graft.
   */
  private sendCatchUp(peer: PeerInfo, origin: NodeId, seq: number, now: Millis, out: ProtocolAction[]): void {
    if (!this.trees.followedOwn(origin, seq)) {
      for (const message of this.sharedActivity.since(origin, seq)) {
        const key = messageKey(message.origin, message.seq);
        const cached = this.cache.get(key, now);
        if (cached === undefined || cached.parent === peer.id) continue;
        this.trees.setForMessage(message.origin, message.seq, peer.id, false);
        this.sendCatchUpPayload(peer, key, cached, now, out);
      }
      return;
    }
    for (const newer of this.trees.recentSeqs(origin)) {
      if (newer <= seq) continue;
      const key = messageKey(origin, newer);
      const cached = this.cache.get(key, now);
      if (cached === undefined || cached.parent === peer.id) continue;
      this.sendCatchUpPayload(peer, key, cached, now, out);
    }
  }

  /** Sends one catch-up payload, unless `peer` had it from a Graft already or its budget is spent. */
  private sendCatchUpPayload(
    peer: PeerInfo,
    key: MessageKey,
    cached: CachedPayload,
    now: Millis,
    out: ProtocolAction[],
  ): void {
    if (this.answered.get(peer.id)?.has(key)) {
      this.counters.graftAnswersWithheld++;
      return;
    }
    if (!this.spendCatchUp(peer.id, cached.payload.byteLength, now)) return;
    this.answerOnce(peer.id, key, now);
    this.counters.catchUpPayloadsSent++;
    this.sendCached(peer, cached, out);
  }

  private sendCached(peer: PeerInfo, cached: CachedPayload, out: ProtocolAction[]): void {
    this.counters.payloadsSent++;
    const { origin, seq, hops, signature, payload } = cached;
    out.push({ type: 'send', to: peer, message: { type: 'gossip', origin, seq, hops, signature, payload } });
  }

  private markFresh(origin: NodeId, seq: number, peer: NodeId, now: Millis): void {
    const link = this.freshLinkKey(origin, seq, peer);
    // Deleted and set again, so that the map stays in stamp order, its stale entries first.
    this.freshLinks.delete(link);
    if (this.freshLinks.size >= this.options.maxOriginTrees) {
      // The sweep drops stale entries only every seenSweepInterval: left to it, a neighbour's old
      // relink-only Grafts would fill the room that this link needs now.
      for (const [key, at] of this.freshLinks) {
        if (this.isFresh(at, now)) break;
        this.freshLinks.delete(key);
      }
      // Bounded like the trees: a peer Grafting for endless origins must not grow this without end.
      if (this.freshLinks.size >= this.options.maxOriginTrees) return;
    }
    this.freshLinks.set(link, now);
  }

  /**
   * The link to `peer` in the tree `origin`'s message `seq` followed. A swap in the shared tree
   * re-links the node for every origin that follows it, and the catch-up repeats their messages
   * (see sendCatchUp), so there the key is the peer alone (an id, where an own tree's is two).
   */
  private freshLinkKey(origin: NodeId, seq: number, peer: NodeId): string {
    return this.trees.followedOwn(origin, seq) ? origin + peer : peer;
  }

  /** Drops the entries stamped a graft timeout or more ago (see isFresh). */
  private forgetStale<K>(stamped: Map<K, Millis>, now: Millis): void {
    for (const [key, at] of stamped) {
      if (!this.isFresh(at, now)) stamped.delete(key);
    }
  }

  private isFresh(madeAt: Millis | undefined, now: Millis): boolean {
    return madeAt !== undefined && now - madeAt < this.options.graftTimeout;
  }

  /** Paper Alg. 1: the sender gets `origin`'s payloads another way; announce them to it from now on. */
  private onPrune(from: PeerInfo, message: Prune): void {
    if (!this.acceptsControl(from, isOrigin(message.origin))) return;
    this.trees.set(message.origin, from.id, true);
  }

  /** A Graft or Prune is acted on only if well formed and from a neighbour; the rest is counted. */
  private acceptsControl(from: PeerInfo, wellFormed: boolean): boolean {
    if (!wellFormed) {
      this.counters.invalidPayloads++;
      return false;
    }
    if (!this.isNeighbour(from.id)) {
      this.counters.strangerMessages++;
      return false;
    }
    return true;
  }

  private isNeighbour(id: NodeId): boolean {
    return this.neighbours.has(id);
  }

  private armGraftTimer(missing: MissingMessage, after: Millis, out: ProtocolAction[]): void {
    const token = this.nextTimerToken++;
    missing.timerToken = token;
    out.push({
      type: 'setTimer',
      after,
      timer: { type: 'graftTimeout', origin: missing.origin, seq: missing.seq, token },
    });
  }

  private sendIHave(peer: PeerInfo, entries: IHaveEntry[], out: ProtocolAction[]): void {
    if (entries.length === 0) return;
    this.counters.ihaveMessagesSent++;
    this.counters.ihaveEntriesSent += entries.length;
    this.counters.broadcastControlSent++;
    out.push({ type: 'send', to: peer, message: { type: 'ihave', entries } });
  }

  private sendGraft(peer: PeerInfo, origin: NodeId, seq: number, request: boolean, out: ProtocolAction[]) {
    this.counters.graftsSent++;
    this.counters.broadcastControlSent++;
    out.push({ type: 'send', to: peer, message: { type: 'graft', origin, seq, request } });
  }

  private sendRelink(peer: PeerInfo, out: ProtocolAction[]): void {
    this.counters.relinksSent++;
    this.counters.broadcastControlSent++;
    out.push({ type: 'send', to: peer, message: { type: 'relink' } });
  }

  private sendPrune(peer: PeerInfo, origin: NodeId, now: Millis, out: ProtocolAction[]): void {
    this.lastPruned.set(peer.id, now);
    this.counters.prunesSent++;
    this.counters.broadcastControlSent++;
    out.push({ type: 'send', to: peer, message: { type: 'prune', origin } });
  }

  private armSweep(out: ProtocolAction[]): void {
    out.push(seenSweepTimer(this.options));
  }
}
