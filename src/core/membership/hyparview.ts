import type { ProtocolAction } from '../actions.js';
import type {
  Disconnect,
  ForwardJoin,
  MembershipMessage,
  Neighbor,
  NeighborReply,
  OverlayTag,
  Shuffle,
  ShuffleReply,
} from '../messages.js';
import { jittered, pickOne, type Random } from '../random.js';
import { type Millis, NODE_ID_BYTES, type NodeId, type PeerInfo } from '../types.js';
import {
  DEPARTED_MEMORY,
  DEPARTED_MEMORY_ENTRIES,
  JOIN_FILL_PERIOD,
  LATE_RECONNECT_INTERVAL,
  type MembershipOptions,
  RECONNECT_EAGER_PERIOD,
  RECONNECT_MEMORY_ENTRIES,
  SHUFFLE_PEERS_LIMIT,
  TAG_FLOOD_INTERVAL,
  TAG_SETTLE_PERIOD,
} from './options.js';
import { PeerSet } from './peer-set.js';
import {
  type AddressCheck,
  emptyMembershipStats,
  type MembershipStats,
  type MembershipTimer,
} from './types.js';

/**
 * The first repair tick after start, when the repair interval is longer. A node that starts with
 * others (a rack powering up, `meshcast demo`) has heard their start-up beacons by then: discovery
 * sends three within 400 ms (src/discovery/cadence.ts), and nodes started together start within
 * a few tens of milliseconds. Drawing its first neighbours from all of them keeps the overlay a
 * random graph (see `discovered`), and a whole repair interval would only wait: `meshcast demo`
 * (20 nodes on loopback) formed its mesh in 1.14 to 1.16 s with the first tick at 1 s, in 0.64 to
 * 0.68 s with it at 500 ms (six runs each).
 */
const FIRST_REPAIR_TICK_DELAY: Millis = 500;

/** For how many of our own requests (each a timeout and a repair tick) a node alone holds Joins (holdsJoins). */
const JOIN_HOLD_ATTEMPTS = 3;

/**
 * Periodic timers are plain data naming only their type: one object each serves every arming, as
 * a runtime (or a simulation of thousands of nodes) holds each armed timer until it fires.
 */
const SHUFFLE_TIMER: MembershipTimer = { type: 'shuffle' };
/**
 * How long after our Shuffle its reply is taken. An honest reply comes after a walk of shuffleTtl
 * hops over open links and one new connection: milliseconds on a LAN, far below a second on a
 * loaded host or in the simulator. Five seconds is half the shuffle interval.
 */
export const SHUFFLE_REPLY_WINDOW: Millis = 5_000;
const REPAIR_TIMER: MembershipTimer = { type: 'repair' };
const RECONNECT_TIMER: MembershipTimer = { type: 'reconnect' };

interface PendingRequest {
  readonly peer: PeerInfo;
  /** Number of the request; its timeout timer carries the same number. */
  readonly id: number;
  /** A Join is answered by Neighbor{high}; a Neighbor request by NeighborReply. */
  readonly kind: 'join' | 'neighbor';
  /** A Join counts as high priority: the contact cannot refuse it. */
  readonly priority: Neighbor['priority'];
}

/** A neighbour whose link went silent, and when to reach for it next (see HyParView.reconnect). */
interface SilentPeer {
  readonly peer: PeerInfo;
  readonly since: Millis;
  retryAt: Millis;
  backoff: Millis;
}

/**
 * HyParView membership (Leitão, Pereira, Rodrigues, DSN 2007) as a sans-IO state machine: each
 * entry point takes one event and appends the resulting actions to `out`.
 *
 * A small active view of symmetric links carries the broadcast; a larger passive view holds
 * replacements. The active view changes on joins (§4.2), failures and disconnects (§4.3); the
 * passive view is refreshed by random-walk shuffles (§4.4) and by discovery beacons.
 *
 * Links: whoever opens a link for a one-off message closes it (`disconnect`) when done: the node
 * answering a shuffle, the node refusing a neighbour, the node whose request timed out. Each side
 * emits `disconnect` when a peer leaves its active view by Disconnect or eviction. The transport
 * reports a link that closes under an active peer as `linkDown`, which counts as that peer failing.
 *
 * Per node, state is O(active + passive) and each event costs O(active + passive).
 */
export class HyParView {
  private readonly self: PeerInfo;
  private readonly options: MembershipOptions;
  private readonly random: Random;
  private readonly active = new PeerSet();
  private readonly passive = new PeerSet();
  /** Outstanding Neighbor requests and Joins, by peer. Never holds an active peer. */
  private readonly pending = new Map<NodeId, PendingRequest>();
  /**
   * Passive peers that refused a low-priority request in the current repair cycle. A refusal means
   * the peer was full, so asking again at once is pointless; the set is cleared when the cycle's
   * back-off expires or when this node loses an active peer (the overlay changed).
   */
  private readonly declined = new Set<NodeId>();
  /** Peers that said goodbye, by when, oldest first: their late beacons are ignored (DEPARTED_MEMORY). */
  private readonly departed = new Map<NodeId, Millis>();
  /** Neighbours whose links went silent, oldest first (see reconnect). */
  private readonly silent = new Map<NodeId, SilentPeer>();
  private reconnectArmed = false;
  /** When one of the peers silent for over RECONNECT_EAGER_PERIOD is tried next; undefined while none is. */
  private nextLateReconnectAt: Millis | undefined;
  /** No merge before this (see merge). */
  private nextMergeAt: Millis | undefined;
  /**
   * The smallest tag heard of through this overlay's links (see OverlayTag), starting from one
   * drawn at random. Every member of one overlay converges on the same one, so a contact with
   * another is in an overlay that formed apart (see lateContact). Drawn rather than our id: a node
   * keeps its id across restarts, and one that started again in a separate overlay would carry the
   * tag of its old one there.
   */
  private tag: NodeId;
  /** When the tag may next be passed on to every neighbour at once (see TAG_FLOOD_INTERVAL). */
  private nextTagFloodAt: Millis = 0;
  /** When the tag last fell (see TAG_SETTLE_PERIOD); never, for the one drawn at the start. */
  private tagFellAt: Millis = Number.NEGATIVE_INFINITY;
  private tagFloodArmed = false;
  /** Late bootstrap contacts asked for their tag, by id (see lateContact). */
  private readonly probes = new Map<NodeId, { readonly contact: PeerInfo; readonly request: number }>();
  /** Late contacts whose tag turned out to be ours (see contactSettled). */
  private readonly sameOverlayContacts = new Set<NodeId>();
  /** When the current repair cycle ends and `declined` is forgotten; undefined while unexhausted. */
  private declinedResetAt: Millis | undefined;
  /**
   * Until when this node counts as a joiner (see fillAfterJoin): set when a contact takes our Join,
   * over once the active view first fills. Undefined otherwise.
   */
  private joiningUntil: Millis | undefined;
  /** Back-off applied the next time a repair cycle is exhausted; doubles up to the maximum. */
  private repairBackoff: Millis;
  /**
   * When a repair tick may next shuffle early (onRepairTick), and the wait after that one: doubling
   * from one tick to `repairBackoffMax`, as the repair's own back-off, so a small network whose
   * nodes all know each other, and so have no passive peers, does not shuffle every second for
   * nothing.
   */
  private earlyShuffleAt: Millis = 0;
  private earlyShuffleBackoff: Millis;
  /** Bootstrap contacts, oldest first, to re-join through once every known peer is gone. */
  private readonly contacts: PeerInfo[] = [];
  /** Since when the active view has been empty, once we joined or it emptied; undefined otherwise. */
  private aloneSince: Millis | undefined;
  /**
   * Joins that reached us while we were not in the overlay ourselves (see holdJoin), oldest first,
   * with when each came: taken in once we are (releaseHeldJoins). At most activeViewSize - 1, and
   * one with an active view of one (see holdJoin).
   */
  private readonly heldJoins: { readonly joiner: PeerInfo; readonly at: Millis }[] = [];
  /**
   * Peers last evicted from the passive view to make room, newest last (at most maxContacts): they
   * were alive when heard of, and are unrelated to the ones that fail together with our views. A
   * survivor of a massive crash whose 35 known peers all died (at 80% failures, 0.8^35: about one
   * node in 2,500) re-joins through one of these, where a lone bootstrap contact is likely dead too.
   */
  private readonly formerPassive: PeerInfo[] = [];
  /** Ids sent in our last Shuffle: evicted first when integrating its reply (§4.4). */
  private lastShuffleSample: NodeId[] = [];
  /**
   * When our last Shuffle went out, while it still awaits its reply. Only then is a ShuffleReply
   * integrated, and only the first, within SHUFFLE_REPLY_WINDOW: any peer could otherwise fill our
   * passive view with made-up peers, frame after frame (32 peers each; 30 of 30 entries were fake
   * after five), or, once a walk was lost, at leisure until the next shuffle.
   */
  private shuffleStartedAt: Millis | undefined;
  /**
   * The candidates a neighbour handed us, unasked, just before evicting us (see
   * evictRandomNeighbour), by neighbour: learnt only when its Disconnect{alive:true} follows.
   * At most one per active peer.
   */
  private readonly evictionHints = new Map<NodeId, readonly PeerInfo[]>();
  private nextRequestId = 1;
  private started = false;
  private left = false;
  private repairTickArmed = false;
  private readonly counters: MembershipStats = emptyMembershipStats();
  private readonly carriesTree: (peer: NodeId) => boolean;
  private readonly mayDial: AddressCheck;

  /**
   * `carriesTree` says which neighbours the broadcast layer pushes payloads over; eviction spares
   * them while it can (see evictRandomNeighbour).
   */
  constructor(
    self: PeerInfo,
    options: MembershipOptions,
    random: Random,
    carriesTree: (peer: NodeId) => boolean = () => false,
    mayDial: AddressCheck = () => true,
  ) {
    this.self = self;
    this.tag = randomTag(random);
    this.options = options;
    this.random = random;
    this.repairBackoff = options.repairInterval;
    this.earlyShuffleBackoff = options.repairInterval;
    this.carriesTree = carriesTree;
    this.mayDial = mayDial;
  }

  activeView(): PeerInfo[] {
    return this.active.values().slice();
  }

  /** The smallest tag heard of through this overlay's links (see OverlayTag). */
  overlayTag(): NodeId {
    return this.tag;
  }

  passiveView(): PeerInfo[] {
    return this.passive.values().slice();
  }

  hasLeft(): boolean {
    return this.left;
  }

  stats(): MembershipStats {
    return {
      ...this.counters,
      pendingRequests: this.pending.size,
      activeViewSize: this.active.size,
      passiveViewSize: this.passive.size,
    };
  }

  /** Arms the periodic shuffle and repair timers. Idempotent. */
  start(out: ProtocolAction[]): void {
    if (this.started || this.left) return;
    this.started = true;
    this.armShuffle(out);
    this.armRepairTick(out, Math.min(this.options.repairInterval, FIRST_REPAIR_TICK_DELAY));
  }

  /**
   * Join the overlay through `contact` (§4.2), and remember it for re-joining later. Until a first
   * neighbour comes, Joins through us wait (see holdJoin).
   */
  join(contact: PeerInfo, now: Millis, out: ProtocolAction[]): void {
    if (this.left || contact.id === this.self.id) return;
    this.rememberContact(contact);
    if (this.active.has(contact.id) || this.pending.has(contact.id)) return;
    if (this.active.size === 0) this.aloneSince ??= now;
    this.sendJoin(contact, out);
  }

  /**
   * A bootstrap contact that answered only after this node had found neighbours elsewhere (the
   * runtime dials a bootstrap address that never answered again once per mergeInterval). Not in
   * the paper. The contact may be in an overlay that formed without us: both sides started while
   * the path between them was down, or only our side lists the other. Nothing else would link the
   * two, since views change only when a neighbour fails and beacons do not cross subnets. But it
   * may as well be a member of our own overlay that was down when we started, and then every node
   * that lists it would Join through it at once. So we ask for its overlay's tag first, and Join
   * (§4.2) only if it differs from ours (see onOverlayTag).
   */
  lateContact(contact: PeerInfo, out: ProtocolAction[]): void {
    if (this.left || contact.id === this.self.id) return;
    this.rememberContact(contact);
    if (this.active.has(contact.id) || this.pending.has(contact.id) || this.probes.has(contact.id)) return;
    const request = this.nextRequestId++;
    this.probes.set(contact.id, { contact, request });
    this.send(contact, { type: 'overlayTag', tag: this.tag, probe: true }, out);
    out.push({
      type: 'setTimer',
      after: this.options.neighborRequestTimeout,
      timer: { type: 'probeTimeout', peer: contact.id, request },
    });
  }

  /**
   * Whether the late contact `peer` needs no more asking: it answered with our tag, or it is a
   * neighbour (a Join through it went through). The runtime dials it again while this is false,
   * so that a probe or a Join lost on the way is tried again.
   */
  contactSettled(peer: NodeId): boolean {
    return this.sameOverlayContacts.has(peer) || this.active.has(peer);
  }

  /** `peer` has just entered the active view: it learns our tag (after whatever made it a neighbour). */
  greet(peer: PeerInfo, out: ProtocolAction[]): void {
    if (this.active.has(peer.id)) this.send(peer, { type: 'overlayTag', tag: this.tag, probe: false }, out);
  }

  /**
   * A discovery beacon from `peer` (`wantsPeers` and `tag`: what the beacon says, if the runtime
   * tells; see merge): it only goes to the passive view, and the repair tick connects
   * (Neighbor{high} to maxConcurrentRequests random passive peers while the active view is empty,
   * then one Neighbor{low} per tick until full). Acting on each beacon at once instead makes every
   * node with room grab each newcomer: 20 nodes starting together then end up as closed, full
   * cliques of six, which no refill can merge since every member refuses low-priority requests. Drawing at random from all
   * that was heard over a tick gives a random graph: 0 partitions in 1,000 simulated start-ups.
   */
  discovered(peer: PeerInfo, now: Millis, out: ProtocolAction[], wantsPeers?: boolean, tag?: NodeId): void {
    if (this.left || peer.id === this.self.id) return;
    // Only a runtime with real beacons says what they want and which overlay they are in.
    if (wantsPeers === false && tag !== undefined && tag !== this.tag) this.merge(peer, now, out);
    if (this.active.has(peer.id)) {
      this.active.refresh(peer);
      return;
    }
    if (this.passive.has(peer.id)) {
      this.passive.refresh(peer);
      return;
    }
    if (this.pending.has(peer.id)) return;
    if (this.departedRecently(peer.id, now)) return;
    this.addPassive(peer);
  }

  private departedRecently(peerId: NodeId, now: Millis): boolean {
    const at = this.departed.get(peerId);
    if (at === undefined) return false;
    if (now - at < DEPARTED_MEMORY) return true;
    this.departed.delete(peerId);
    return false;
  }

  private rememberDeparture(peerId: NodeId, now: Millis): void {
    this.departed.delete(peerId);
    this.departed.set(peerId, now);
    for (const [id, at] of this.departed) {
      if (this.departed.size <= DEPARTED_MEMORY_ENTRIES && now - at < DEPARTED_MEMORY) break;
      this.departed.delete(id);
    }
  }

  onMessage(from: PeerInfo, message: MembershipMessage, now: Millis, out: ProtocolAction[]): void {
    this.handleMessage(from, message, now, out);
    if (this.heldJoins.length > 0) this.releaseHeldJoins(now, out);
  }

  private handleMessage(
    from: PeerInfo,
    message: MembershipMessage,
    now: Millis,
    out: ProtocolAction[],
  ): void {
    if (this.left) return;
    this.counters.controlMessagesReceived++;
    if (from.id === this.self.id) {
      this.counters.invalidMessages++;
      return;
    }
    // The sender's address comes first-hand from the transport: the freshest we can know. The
    // views never share a peer, so one that is active needs no look-up in the passive view.
    if (!this.active.refresh(from)) this.passive.refresh(from);
    switch (message.type) {
      case 'join':
        this.onJoin(from, now, out);
        return;
      case 'forwardJoin':
        // Honest nodes walk a ForwardJoin and a Shuffle only over active links (onJoin,
        // onForwardJoin, startShuffle, onShuffle): from anyone else, one is a forgery, or crossed
        // our dropping the sender, and is ignored.
        if (this.active.has(from.id)) this.onForwardJoin(from, message, out);
        return;
      case 'neighbor':
        this.onNeighbor(from, message, now, out);
        return;
      case 'neighborReply':
        this.onNeighborReply(from, message, now, out);
        return;
      case 'disconnect':
        this.onDisconnect(from, message, now, out);
        return;
      case 'shuffle':
        if (this.active.has(from.id)) this.onShuffle(from, message, out);
        return;
      case 'shuffleReply':
        this.onShuffleReply(from, message, now, out);
        return;
      case 'overlayTag':
        this.onOverlayTag(from, message, now, out);
        return;
    }
  }

  /**
   * The link to `peerId` closed after it was up. Only an active peer's or a candidate's matters.
   * `silent`: it went quiet rather than closing (no FIN, no reset: the transport's idle timeout),
   * so the peer may be alive behind a partition.
   */
  linkDown(peerId: NodeId, now: Millis, out: ProtocolAction[], silent = false): void {
    if (this.left) return;
    this.probes.delete(peerId);
    if (this.active.has(peerId)) {
      // §4.3: a broken link is the failure detector; the peer is dropped, not kept as passive.
      const peer = this.removeActive(peerId, now, out);
      if (silent && peer !== undefined) this.rememberSilent(peer, now, out);
      this.counters.failures++;
      this.lostActivePeer();
      this.repair(now, out, this.options.maxConcurrentRequests, peerId);
    } else if (this.pending.delete(peerId)) {
      this.removePassive(peerId);
      this.repair(now, out, 1, peerId);
    }
    if (this.heldJoins.length > 0) this.releaseHeldJoins(now, out);
  }

  /** `peerId` could not be reached at all: forget it as a candidate (§4.3) and try another. */
  dialFailed(peerId: NodeId, now: Millis, out: ProtocolAction[]): void {
    if (this.left) return;
    this.probes.delete(peerId);
    const former = this.formerPassive.findIndex((peer) => peer.id === peerId);
    if (former >= 0) this.formerPassive.splice(former, 1);
    const wasCandidate = this.pending.delete(peerId);
    this.removePassive(peerId);
    if (this.active.has(peerId)) {
      // Taken in on its own message, but its link failed as it came up (the transport reports a
      // link dropped while its first frames were flushed as a failed dial).
      this.removeActive(peerId, now, out);
      this.counters.failures++;
      this.lostActivePeer();
      this.repair(now, out, this.options.maxConcurrentRequests, peerId);
    } else if (wasCandidate) {
      this.repair(now, out, 1, peerId);
    }
    if (this.heldJoins.length > 0) this.releaseHeldJoins(now, out);
  }

  onTimer(timer: MembershipTimer, now: Millis, out: ProtocolAction[]): void {
    if (this.left) return;
    switch (timer.type) {
      case 'shuffle': {
        this.armShuffle(out);
        this.startShuffle(now, out);
        // A tag message lost on the way (a link replaced, a rate limit) is made good here: one
        // neighbour a period hears our tag again, and passes on a smaller one if ours is.
        const peer = this.active.pickRandom(this.random);
        if (peer !== undefined) this.send(peer, { type: 'overlayTag', tag: this.tag, probe: false }, out);
        return;
      }
      case 'tagFlood':
        this.tagFloodArmed = false;
        this.floodTag(undefined, now, out);
        return;
      case 'repair':
        this.repairTickArmed = false;
        this.onRepairTick(now, out);
        if (this.heldJoins.length > 0) this.releaseHeldJoins(now, out);
        // A full active view has nothing to repair: the tick sleeps until a neighbour is lost.
        if (this.active.size < this.options.activeViewSize) this.armRepairTick(out);
        return;
      case 'neighborTimeout':
        this.onRequestTimeout(timer.peer, timer.request, now, out);
        if (this.heldJoins.length > 0) this.releaseHeldJoins(now, out);
        return;
      case 'reconnect':
        this.reconnectArmed = false;
        this.reconnect(now, out);
        this.armReconnect(out);
        return;
      case 'probeTimeout': {
        const probe = this.probes.get(timer.peer);
        if (probe === undefined || probe.request !== timer.request) return;
        this.probes.delete(timer.peer);
        if (!this.active.has(timer.peer) && !this.pending.has(timer.peer)) {
          out.push({ type: 'disconnect', peer: probe.contact });
        }
        return;
      }
    }
  }

  /** Graceful stop: tell every neighbour we are gone for good, close every link, go quiet. */
  leave(out: ProtocolAction[]): void {
    if (this.left) return;
    const neighbours = this.active.values().slice();
    for (const peer of neighbours) this.sendDisconnect(peer, false, out);
    for (const peer of neighbours) {
      this.counters.neighborDowns++;
      out.push({ type: 'neighborDown', peer });
      out.push({ type: 'disconnect', peer });
    }
    // A late contact may have become a neighbour, or been asked to, while its probe was out: one
    // disconnect per peer.
    const closed = new Set(neighbours.map((peer) => peer.id));
    const closeOnce = (peer: PeerInfo): void => {
      if (closed.has(peer.id)) return;
      closed.add(peer.id);
      out.push({ type: 'disconnect', peer });
    };
    for (const request of this.pending.values()) closeOnce(request.peer);
    for (const probe of this.probes.values()) closeOnce(probe.contact);
    this.probes.clear();
    this.active.clear();
    this.passive.clear();
    this.pending.clear();
    this.declined.clear();
    this.contacts.length = 0;
    this.heldJoins.length = 0;
    this.formerPassive.length = 0;
    this.silent.clear();
    this.lastShuffleSample = [];
    this.shuffleStartedAt = undefined;
    this.evictionHints.clear();
    this.joiningUntil = undefined;
    this.left = true;
  }

  // --- Join (§4.2) -------------------------------------------------------------------------------

  private onJoin(joiner: PeerInfo, now: Millis, out: ProtocolAction[]): void {
    // A peer we asked ourselves is not held: two nodes that list each other and start together,
    // each joining through the other, would each wait for the other.
    if (!this.pending.has(joiner.id) && this.holdsJoins(now)) {
      this.holdJoin(joiner, now);
      return;
    }
    // A Join means the peer (re)started: any request we had out to it will never be answered.
    this.pending.delete(joiner.id);
    // "A node that receives a join request will start by adding the new node to its active view,
    // even if it has to drop a random node from it." A known neighbour re-joining is answered alike.
    const rejoined = this.active.has(joiner.id);
    if (!rejoined) this.addActive(joiner, out);
    this.send(joiner, { type: 'neighbor', priority: 'high' }, out);
    if (rejoined) {
      // A neighbour that restarted gets no neighborUp, so no greeting: it learns our tag here. No
      // walks: it was in the overlay already, and a neighbour repeating Join started four walks a
      // frame, each ending in an eviction somewhere (12,396 ForwardJoins in 60 s in a 100-node mesh).
      this.greet(joiner, out);
      return;
    }
    const forward: ForwardJoin = {
      type: 'forwardJoin',
      peer: joiner,
      ttl: this.options.activeRandomWalkLength,
    };
    for (const peer of this.active.values()) {
      if (peer.id === joiner.id) continue;
      this.counters.forwardJoinsSent++;
      this.send(peer, forward, out);
    }
  }

  private onForwardJoin(sender: PeerInfo, message: ForwardJoin, out: ProtocolAction[]): void {
    if (!isCount(message.ttl)) {
      this.counters.invalidMessages++;
      return;
    }
    if (message.peer.id === this.self.id || this.active.has(message.peer.id)) return;
    // Second-hand: a known peer keeps the address we know (see secondHand).
    const joiner = this.secondHand(message.peer, sender);
    if (joiner === undefined) return;
    const ttl = Math.min(message.ttl, this.options.activeRandomWalkLength);
    // "If the time to live is equal to zero or if the number of nodes in p's active view is equal
    // to one, it will add the new node to its active view" — likewise when nobody is left to walk to.
    const next =
      ttl > 0 && this.active.size > 1
        ? this.active.pickRandomExcept(this.random, [sender.id, joiner.id])
        : undefined;
    if (next === undefined) {
      this.endWalk(joiner, out);
      return;
    }
    if (ttl === this.options.passiveRandomWalkLength) this.learn(joiner, []);
    this.counters.forwardJoinsSent++;
    const relayed = this.relayCard(message.peer, sender, next) ?? joiner;
    this.send(next, { type: 'forwardJoin', peer: relayed, ttl: ttl - 1 }, out);
  }

  /**
   * The end of a ForwardJoin walk. The paper (§4.2) adds the joiner to the active view, evicting a
   * random neighbour if full, and sends it Neighbor{high}. But the joiner is named second-hand,
   * and a neighbour could send ForwardJoin{ttl:0} naming made-up peers, each evicting one of our
   * honest neighbours (ten frames, within the transport's burst, evicted all five). So the joiner
   * gets only a free slot, through a Neighbor{low} request like any repair (it becomes a
   * neighbour when it accepts, so a name nobody answers to never does, and it is not made to
   * evict for us either); with no free slot it only goes to the passive view. In a settled
   * overlay hardly any view has a free slot, so the walks take a joiner almost nowhere: the joiner
   * fills its view itself, with requests of its own (see fillAfterJoin), and only a peer's own
   * first-hand request ever makes a node evict.
   */
  private endWalk(joiner: PeerInfo, out: ProtocolAction[]): void {
    if (this.pending.has(joiner.id)) return;
    // Kept as a candidate either way; a refusal then marks it declined, as in a repair.
    this.learn(joiner, []);
    if (this.active.size + this.pending.size < this.options.activeViewSize) {
      this.sendNeighborRequest(joiner, 'low', out);
    }
  }

  /**
   * Our Join was taken: the contact is our first neighbour (or one of the first, joining through
   * several contacts at once). In the paper (§4.2) the contact's
   * walks fill the rest, each ending at a node that takes us in, evicting if it must; here they
   * end in free slots only (see endWalk), which a settled overlay hardly has, and joiners sat on
   * one or two neighbours for seconds (300 nodes, 5 joins a second for 20 s, seeds 1-8: 4 to 9
   * nodes on a single link when the joins ended, the median joiner full after 5 to 7 s, two to
   * five per run not within a minute). So, beyond the paper, a joiner fills its view itself, with
   * first-hand requests of its own, until its view first fills or JOIN_FILL_PERIOD is over: it
   * shuffles at once (it knows nobody else yet), asks the peers of the answer at once
   * (Neighbor{low}, as any repair), and once they all refused, insists with Neighbor{high}, one at
   * a time, each as soon as the previous one was accepted, until its view is full, where other
   * nodes insist only while starving (see exhausted). That costs what the paper's walks cost, at
   * most one eviction per slot of the joiner, and none where a peer had room; the evictions fall on peers a random node named (the
   * end of the shuffle's walk) rather than at the walks' ends. The same runs: every joiner full
   * within 2.3 s, the median within 0.5 s, the overlay one component at every second, every
   * broadcast delivered everywhere.
   */
  private fillAfterJoin(now: Millis, out: ProtocolAction[]): void {
    // Once per join: a node that joined through several contacts is taken in by each of them, and
    // a view already full has nothing to fill.
    if (this.joining(now) || this.active.size >= this.options.activeViewSize) return;
    this.joiningUntil = now + JOIN_FILL_PERIOD;
    if (this.passive.size < this.options.activeViewSize) this.startShuffle(now, out);
    this.repair(now, out, this.options.maxConcurrentRequests);
  }

  /** Whether this node still counts as a joiner (see fillAfterJoin). */
  private joining(now: Millis): boolean {
    if (this.joiningUntil === undefined) return false;
    if (now < this.joiningUntil && this.active.size < this.options.activeViewSize) return true;
    this.joiningUntil = undefined;
    return false;
  }

  // --- Neighbor requests (§4.3) ------------------------------------------------------------------

  private onNeighbor(from: PeerInfo, message: Neighbor, now: Millis, out: ProtocolAction[]): void {
    if (this.active.has(from.id)) {
      this.send(from, { type: 'neighborReply', accepted: true }, out);
      // A neighbour asking again is on a new link (it took the old one for dead): it has missed
      // whatever we sent since, our tag included. No neighborUp will greet it.
      this.greet(from, out);
      return;
    }
    // "A node q that receives a high priority neighbor request will always accept the request, even
    // if it has to drop a random member from its active view [...] If a node q receives a low
    // priority Neighbor request, it will only accept the request if it has a free slot."
    if (message.priority === 'high' || this.active.size < this.options.activeViewSize) {
      const joinTaken = this.pending.get(from.id)?.kind === 'join';
      this.addActive(from, out);
      this.send(from, { type: 'neighborReply', accepted: true }, out);
      if (joinTaken) this.fillAfterJoin(now, out);
      return;
    }
    // Full. Our own request to this peer, if any, is moot: we could not take it either.
    this.pending.delete(from.id);
    this.send(from, { type: 'neighborReply', accepted: false }, out);
    // A peer that asked is alive; keep it as a replacement if that costs no one else's place.
    if (this.passive.size < this.options.passiveViewSize) this.addPassive(from);
    out.push({ type: 'disconnect', peer: from });
  }

  private onNeighborReply(from: PeerInfo, message: NeighborReply, now: Millis, out: ProtocolAction[]): void {
    const request = this.pending.get(from.id);
    if (request === undefined || request.kind !== 'neighbor') {
      // An acceptance we no longer wait for (timed out, or crossed with our eviction of the peer):
      // the peer now counts us as a neighbour, so undo that to keep the views symmetric.
      if (message.accepted && !this.active.has(from.id)) {
        this.sendDisconnect(from, true, out);
        out.push({ type: 'disconnect', peer: from });
        this.addPassive(from);
      }
      return;
    }
    this.pending.delete(from.id);
    if (message.accepted) {
      this.counters.neighborRequestsAccepted++;
      if (!this.active.has(from.id)) this.addActive(from, out);
      // A joiner goes on at once (see fillAfterJoin); any other node at its next repair tick.
      if (this.joining(now)) this.repair(now, out, 1);
    } else {
      this.counters.neighborRequestsRejected++;
      if (this.passive.has(from.id)) this.declined.add(from.id);
      this.repair(now, out, 1);
    }
  }

  private onRequestTimeout(peerId: NodeId, requestId: number, now: Millis, out: ProtocolAction[]): void {
    const request = this.pending.get(peerId);
    if (request === undefined || request.id !== requestId) return;
    this.pending.delete(peerId);
    this.counters.neighborRequestTimeouts++;
    // §4.3: a candidate that does not answer is considered failed.
    this.removePassive(peerId);
    out.push({ type: 'disconnect', peer: request.peer });
    this.repair(now, out, 1, peerId);
  }

  private onDisconnect(from: PeerInfo, message: Disconnect, now: Millis, out: ProtocolAction[]): void {
    const wasCandidate = this.pending.delete(from.id);
    const wasActive = this.active.has(from.id);
    const hint = this.evictionHints.get(from.id);
    if (wasActive) {
      this.removeActive(from.id, now, out);
      out.push({ type: 'disconnect', peer: from });
      this.lostActivePeer();
    }
    if (message.alive) {
      if (wasActive && hint !== undefined)
        for (const card of this.secondHandAll(hint, from)) this.learn(card, []);
      // Evicted by a full peer. Refilling is left to the next repair tick: refilling at once would
      // let evictions chase each other without end (each high-priority request evicts someone,
      // who asks again at once) when many nodes know only a few others.
      this.addPassive(from);
      return;
    }
    // The peer left for good: like a failure, refill now (§4.3).
    this.removePassive(from.id);
    this.rememberDeparture(from.id, now);
    if (wasActive || wasCandidate) this.repair(now, out, this.options.maxConcurrentRequests, from.id);
  }

  /**
   * Tops the active view up from the passive view (§4.3), sending at most `maxNew` requests to
   * random passive peers: Neighbor{high} while the active view is empty (it cannot be refused),
   * else Neighbor{low}, which a full peer refuses. A refusal marks the peer `declined` and the next
   * candidate is tried at once; when every passive peer has refused, the cycle is exhausted and
   * nobody is asked again until a back-off (doubling from one tick to `repairBackoffMax`) expires.
   * So, once membership settles, a node below the view size has asked every passive peer, and
   * each one it is not connected to was full when asked.
   *
   * Failures (a neighbour's link breaking, a Disconnect) refill every missing slot at once, as in
   * the paper. Beyond the paper, a periodic tick adds one slot at a time, so that topping up after
   * an eviction or at start-up draws from everything heard over a while rather than from the
   * latest beacons (see `discovered`); a tick that finds the active view empty asks as many peers
   * as may be asked at once (see onRepairTick).
   */
  private repair(now: Millis, out: ProtocolAction[], maxNew: number, skip?: NodeId): void {
    if (this.left) return;
    const { activeViewSize, maxConcurrentRequests } = this.options;
    for (
      let sent = 0;
      sent < maxNew &&
      this.pending.size < maxConcurrentRequests &&
      this.active.size + this.pending.size < activeViewSize;
      sent++
    ) {
      const alone = this.active.size === 0;
      const except = [skip, ...this.pending.keys()];
      if (!alone) for (const id of this.declined) except.push(id);
      const candidate = this.passive.pickRandomExcept(this.random, except);
      if (candidate === undefined) {
        if (!alone && this.declined.size > 0) this.exhausted(now, skip, out);
        return;
      }
      this.sendNeighborRequest(candidate, alone ? 'high' : 'low', out);
    }
  }

  /**
   * Every passive peer refused us: each was full. Wait out the back-off before asking them again,
   * but a starving node (two or more short of the view size) insists with Neighbor{high}, which
   * the peer must accept by evicting one of its own. Without this, a few nodes that found only each
   * other (a pair that started together, the survivors of a crash) stay apart for good from an
   * overlay whose members are all full, since HyParView only ever reacts to failures. The evicted
   * node was usually full and is now one short, which is not starving, so escalations do not
   * cascade. A joiner insists until its view is full (see fillAfterJoin). One escalation in
   * flight; a joiner sends the next one as soon as one is accepted, any other node at a tick.
   */
  private exhausted(now: Millis, skip: NodeId | undefined, out: ProtocolAction[]): void {
    if (this.declinedResetAt === undefined) {
      this.declinedResetAt = now + this.repairBackoff;
      this.repairBackoff = Math.min(this.repairBackoff * 2, this.options.repairBackoffMax);
    }
    if (this.active.size > this.options.activeViewSize - 2 && !this.joining(now)) return;
    for (const request of this.pending.values()) if (request.priority === 'high') return;
    const target = this.passive.pickRandomExcept(this.random, [skip, ...this.pending.keys()]);
    if (target === undefined) return;
    this.counters.escalations++;
    this.sendNeighborRequest(target, 'high', out);
  }

  private onRepairTick(now: Millis, out: ProtocolAction[]): void {
    if (this.declinedResetAt !== undefined && now >= this.declinedResetAt) {
      this.declined.clear();
      this.declinedResetAt = undefined;
    }
    // A node with no neighbour asks as many peers as it may at once, as after a failure. At start-up
    // every node does so at the same tick, and with one request each the links drawn at random
    // often made several overlays, which only the next tick, a second later, joined: `meshcast
    // demo` (20 nodes on loopback, first tick at 1 s) formed in 2.07 s in 4 runs of 6, against
    // 1.15 s in 8 of 8 with two; and 5 of 40 simulated start-ups of 20 nodes were split after the
    // first tick, none now (test/core/scenarios.test.ts). But one only while Joins are held: the
    // first neighbour releases them into the rest of the view, and a second acceptance would then
    // evict one of them, or that neighbour (see holdJoin).
    if (this.pending.size === 0) {
      const alone = this.active.size === 0 && this.heldJoins.length === 0;
      this.repair(now, out, alone ? this.options.maxConcurrentRequests : 1);
    }
    // Short of neighbours with nobody in reserve: the repair has no one to ask, and the next shuffle
    // may be a whole interval away. Shuffle now; the answer refills the passive view (see
    // onShuffle), and the next tick asks from it. Beyond the paper.
    if (
      this.passive.size === 0 &&
      this.active.size > 0 &&
      this.pending.size === 0 &&
      now >= this.earlyShuffleAt
    ) {
      this.startShuffle(now, out);
      this.earlyShuffleAt = now + this.earlyShuffleBackoff;
      this.earlyShuffleBackoff = Math.min(this.earlyShuffleBackoff * 2, this.options.repairBackoffMax);
    }
    // Every peer we knew is gone: start over through a bootstrap contact, once per tick at most.
    if (this.active.size === 0 && this.passive.size === 0 && this.pending.size === 0) {
      const contact = pickOne(this.random, [...this.contacts, ...this.formerPassive]);
      if (contact !== undefined) this.sendJoin(contact, out);
    }
  }

  /**
   * Beyond §4.2, whose contact takes every joiner in: that assumes the contact is in the overlay.
   * A node with no neighbour is not (its own Join or its contact's answer was lost, or its only
   * neighbour evicted it), and taking a joiner in would found a new overlay with it, which everyone
   * joining through either of them afterwards would join too. Its walks and shuffles stay inside,
   * and HyParView changes full views only on failures (§4.3), so nothing ever links it back: with
   * one message in 1,000 breaking its link, 1,000 simulated nodes joining 2 ms apart ended split in
   * 4 seeds of 6, groups of 2 to 36 nodes each hanging on one node whose Join, or its contact's
   * Neighbor{high} back, was lost. (Joins held only until the node's own Join was answered, a node
   * that its contact evicted before any walk brought it another neighbour did the same: 15 nodes.)
   * So the Join waits until we have a neighbour again: usually a few milliseconds, our contact's
   * answer (1,000 nodes without loss, seeds 1 and 3: 21 and 30 of 999 Joins held, each taken in
   * before its joiner gave up). If our own Join was lost, the joiner's request times out first,
   * and it joins again at its next repair tick, as a node with no neighbour does, while we join
   * again at ours. A node that its contact evicts later, once it has taken in a joiner of its own,
   * still takes in more (seed 8: 20 nodes apart), as no rule here tells that one neighbour from
   * an overlay's member.
   */
  private holdJoin(joiner: PeerInfo, now: Millis): void {
    const index = this.heldJoins.findIndex((held) => held.joiner.id === joiner.id);
    if (index >= 0) this.heldJoins.splice(index, 1);
    this.heldJoins.push({ joiner, at: now });
    // No more than fit beside the neighbour that ends the hold: taking them in then evicts nobody,
    // and above all not that neighbour, our one link into the overlay (a 500-node start through
    // bootstrap contacts, with 8 held: 80 releases evicted someone, 8 of them that neighbour). The
    // oldest is let go; its joiner's request times out and it joins again. With an active view of
    // one, one is held all the same: there any Join evicts that neighbour, held or not.
    if (this.heldJoins.length > Math.max(1, this.options.activeViewSize - 1)) this.heldJoins.shift();
  }

  /**
   * Whether a Join through us waits (see holdJoin): while we have no neighbour but someone to reach
   * for (a request out, a passive peer, a contact, a peer we evicted from the passive view), and for at most JOIN_HOLD_ATTEMPTS of our own
   * requests since the view emptied or we joined. A node that knows nobody, the first of an
   * overlay, takes every joiner at once; and nodes that list one another in a ring (A joining
   * through B, B through C, C through A) and start together hold each other's Joins only for
   * those few seconds, not for good.
   */
  private holdsJoins(now: Millis): boolean {
    if (this.active.size > 0 || this.aloneSince === undefined) return false;
    const { neighborRequestTimeout, repairInterval } = this.options;
    if (now - this.aloneSince >= JOIN_HOLD_ATTEMPTS * (neighborRequestTimeout + repairInterval)) return false;
    return (
      this.pending.size > 0 ||
      this.passive.size > 0 ||
      this.contacts.length > 0 ||
      this.formerPassive.length > 0
    );
  }

  /** Takes in the held Joins once we no longer hold them, but those whose joiner gave up waiting. */
  private releaseHeldJoins(now: Millis, out: ProtocolAction[]): void {
    if (this.holdsJoins(now)) return;
    const held = this.heldJoins.splice(0);
    for (const { joiner, at } of held) {
      if (now - at < this.options.neighborRequestTimeout) this.onJoin(joiner, now, out);
    }
  }

  /** After losing a neighbour, refusals from before may no longer hold: start a fresh cycle. */
  private lostActivePeer(): void {
    this.declined.clear();
    this.declinedResetAt = undefined;
    this.repairBackoff = this.options.repairInterval;
    this.earlyShuffleAt = 0;
    this.earlyShuffleBackoff = this.options.repairInterval;
  }

  private sendNeighborRequest(peer: PeerInfo, priority: Neighbor['priority'], out: ProtocolAction[]): void {
    const id = this.nextRequestId++;
    this.pending.set(peer.id, { peer, id, kind: 'neighbor', priority });
    this.counters.neighborRequestsSent++;
    this.send(peer, { type: 'neighbor', priority }, out);
    this.armRequestTimeout(peer.id, id, out);
  }

  // --- Partitions (beyond the paper) --------------------------------------------------------------

  /**
   * A beacon with another overlay's tag, from a node that wants no more peers: its view filled
   * without us, in an overlay that formed apart from ours (a joiner, whose tag is still its own,
   * wants peers). Once every view on both sides is full, HyParView never links two such overlays
   * (two groups of 8 nodes on a LAN stayed apart for good), so a full node links to it with
   * Neighbor{high}, at most once per mergeInterval. The peer evicts one of its neighbours, as we
   * do; the smaller tag then spreads over the new link, so that the beacons of the other side soon
   * carry ours and call for no more links, while refills and shuffles mix the two.
   */
  private merge(peer: PeerInfo, now: Millis, out: ProtocolAction[]): void {
    const { activeViewSize, mergeInterval } = this.options;
    if (!this.started || now < (this.nextMergeAt ?? now) || this.active.size < activeViewSize) return;
    // Our own overlay's members may not all carry our tag yet.
    if (now - this.tagFellAt < TAG_SETTLE_PERIOD) return;
    if (this.active.has(peer.id) || this.pending.has(peer.id)) return;
    this.nextMergeAt = now + mergeInterval;
    this.counters.merges++;
    this.sendNeighborRequest(peer, 'high', out);
  }

  /**
   * A tag from a neighbour that is smaller than ours is adopted and passed on to our other
   * neighbours, so that one overlay converges on its smallest id. Tags from other nodes are never
   * adopted: a probe's sender may be in another overlay, and adopting its tag would hide the very
   * difference the probe looks for. A probe is answered with our tag; the answer to our own probe
   * settles it.
   */
  private onOverlayTag(from: PeerInfo, message: OverlayTag, now: Millis, out: ProtocolAction[]): void {
    if (message.probe) {
      this.send(from, { type: 'overlayTag', tag: this.tag, probe: false }, out);
    } else {
      const probe = this.probes.get(from.id);
      if (probe !== undefined) {
        this.probes.delete(from.id);
        this.settleProbe(probe.contact, message.tag, out);
      }
    }
    // Only a neighbour's tag counts, even from a contact that has just become one.
    if (!this.active.has(from.id) || message.tag >= this.tag) return;
    this.tag = message.tag;
    this.tagFellAt = now;
    this.counters.tagChanges++;
    if (now >= this.nextTagFloodAt) {
      this.floodTag(from.id, now, out);
    } else if (!this.tagFloodArmed) {
      this.tagFloodArmed = true;
      out.push({ type: 'setTimer', after: this.nextTagFloodAt - now, timer: { type: 'tagFlood' } });
    }
  }

  /** Our tag to every neighbour but `except` (the one it came from), at most once per TAG_FLOOD_INTERVAL. */
  private floodTag(except: NodeId | undefined, now: Millis, out: ProtocolAction[]): void {
    this.nextTagFloodAt = now + TAG_FLOOD_INTERVAL;
    for (const peer of this.active.values()) {
      if (peer.id !== except) this.send(peer, { type: 'overlayTag', tag: this.tag, probe: false }, out);
    }
  }

  /** A late contact answered with its overlay's tag: Join through it only if the overlay is another. */
  private settleProbe(contact: PeerInfo, tag: NodeId, out: ProtocolAction[]): void {
    if (this.active.has(contact.id) || this.pending.has(contact.id)) return;
    if (tag === this.tag) {
      this.sameOverlayContacts.add(contact.id);
      out.push({ type: 'disconnect', peer: contact });
      return;
    }
    this.counters.lateJoins++;
    this.sendJoin(contact, out);
  }

  /**
   * A silent link may hide a partition: both sides replace the lost links from their own passive
   * views, and once every view is full nothing links the two overlays again, since HyParView acts
   * only on failures (1,000 simulated nodes cut in halves for 2 minutes or more stayed two
   * overlays for good). So each such peer is reached for again, Neighbor{high} at growing
   * intervals for RECONNECT_EAGER_PERIOD, and after that one of them about every
   * LATE_RECONNECT_INTERVAL, until one answers. The first to answer is linked to, evicting one of
   * our neighbours if the view is full, as the peer evicts one of its own; that one link joins the
   * overlays, and the others mix in through the evictions' refills and the shuffles.
   */
  private reconnect(now: Millis, out: ProtocolAction[]): void {
    const due: SilentPeer[] = [];
    const late: SilentPeer[] = [];
    let anyLate = false;
    for (const [id, lost] of this.silent) {
      const isLate = now - lost.since > RECONNECT_EAGER_PERIOD;
      anyLate ||= isLate;
      if (this.active.has(id) || this.pending.has(id)) continue;
      if (isLate) late.push(lost);
      else if (lost.retryAt <= now) due.push(lost);
    }
    // Kept while a late try is still awaiting its answer: a new first try would come too soon.
    if (!anyLate) this.nextLateReconnectAt = undefined;
    let lost = pickOne(this.random, due);
    if (lost !== undefined) {
      lost.backoff = Math.min(lost.backoff * 2, this.options.reconnectBackoffMax);
      lost.retryAt = now + lost.backoff;
    } else if (late.length > 0) {
      // The first late try falls anywhere in the interval: the nodes of one partition lost their
      // links together, and would otherwise all try at the same moments.
      this.nextLateReconnectAt ??= now + this.random.next() * LATE_RECONNECT_INTERVAL;
      if (now < this.nextLateReconnectAt) return;
      this.nextLateReconnectAt = now + jittered(this.random, LATE_RECONNECT_INTERVAL, 0.5);
      lost = pickOne(this.random, late);
    }
    if (lost === undefined) return;
    this.counters.reconnects++;
    this.sendNeighborRequest(lost.peer, 'high', out);
  }

  /**
   * Forgets `peer` (if it was lost to silence) and the peers whose links went silent within
   * reconnectInterval of its own: links across one cut are all found silent within an idle timeout
   * of each other, which the transport's defaults keep at half of reconnectInterval (see
   * DEFAULT_RECONNECT_INTERVAL). A peer lost at another time may be behind another cut that still
   * holds, and is still reached for.
   */
  private forgetLostWith(peer: NodeId): void {
    const answered = this.silent.get(peer);
    if (answered === undefined) return;
    for (const [id, lost] of this.silent) {
      if (Math.abs(lost.since - answered.since) <= this.options.reconnectInterval) this.silent.delete(id);
    }
  }

  private rememberSilent(peer: PeerInfo, now: Millis, out: ProtocolAction[]): void {
    const first = this.options.reconnectInterval;
    this.silent.delete(peer.id);
    this.silent.set(peer.id, { peer, since: now, retryAt: now + first, backoff: first });
    if (this.silent.size > RECONNECT_MEMORY_ENTRIES) {
      const oldest = this.silent.keys().next();
      if (!oldest.done) this.silent.delete(oldest.value);
    }
    this.armReconnect(out);
  }

  /** One tick per reconnectInterval while a silent peer is remembered; none otherwise. */
  private armReconnect(out: ProtocolAction[]): void {
    if (this.reconnectArmed || this.silent.size === 0 || !this.started || this.left) return;
    this.reconnectArmed = true;
    out.push({ type: 'setTimer', after: this.options.reconnectInterval, timer: RECONNECT_TIMER });
  }

  private sendJoin(contact: PeerInfo, out: ProtocolAction[]): void {
    const id = this.nextRequestId++;
    this.pending.set(contact.id, { peer: contact, id, kind: 'join', priority: 'high' });
    this.counters.joinsSent++;
    this.send(contact, { type: 'join' }, out);
    this.armRequestTimeout(contact.id, id, out);
  }

  private armRequestTimeout(peer: NodeId, request: number, out: ProtocolAction[]): void {
    out.push({
      type: 'setTimer',
      after: this.options.neighborRequestTimeout,
      timer: { type: 'neighborTimeout', peer, request },
    });
  }

  private rememberFormerPassive(peer: PeerInfo): void {
    const index = indexOfId(this.formerPassive, peer.id);
    if (index >= 0) this.formerPassive.splice(index, 1);
    this.formerPassive.push(peer);
    if (this.formerPassive.length > this.options.maxContacts) this.formerPassive.shift();
  }

  private rememberContact(contact: PeerInfo): void {
    const index = this.contacts.findIndex((known) => known.id === contact.id);
    if (index >= 0) this.contacts.splice(index, 1);
    this.contacts.push(contact);
    if (this.contacts.length > this.options.maxContacts) this.contacts.shift();
  }

  // --- Shuffle (§4.4) ----------------------------------------------------------------------------

  private armShuffle(out: ProtocolAction[]): void {
    const after = jittered(this.random, this.options.shuffleInterval, this.options.shuffleJitter);
    out.push({ type: 'setTimer', after, timer: SHUFFLE_TIMER });
  }

  private startShuffle(now: Millis, out: ProtocolAction[]): void {
    const target = this.active.pickRandom(this.random);
    if (target === undefined) return;
    const activeSample = this.active.sampleExcept(this.random, this.options.shuffleActiveCount, [target.id]);
    const peers = activeSample.concat(this.passive.sample(this.random, this.options.shufflePassiveCount));
    this.lastShuffleSample = peers.map((peer) => peer.id);
    this.shuffleStartedAt = now;
    this.counters.shufflesStarted++;
    this.send(target, { type: 'shuffle', origin: this.self, ttl: this.options.shuffleTtl, peers }, out);
  }

  private onShuffle(from: PeerInfo, message: Shuffle, out: ProtocolAction[]): void {
    if (!isCount(message.ttl)) {
      this.counters.invalidMessages++;
      return;
    }
    if (message.origin.id === this.self.id) return; // The walk came back to us: nothing to exchange.
    const origin = this.secondHand(message.origin, from);
    if (origin === undefined) return;
    const named = capPeers(message.peers);
    const ttl = Math.min(message.ttl, this.options.shuffleTtl);
    if (ttl > 0 && this.active.size > 1) {
      const next = this.active.pickRandomExcept(this.random, [from.id, origin.id]);
      if (next !== undefined) {
        // Checked at every hop, against the link they came over: a loopback address passes only
        // along loopback links.
        const relayedOrigin = this.relayCard(message.origin, from, next) ?? origin;
        this.send(
          next,
          { type: 'shuffle', origin: relayedOrigin, ttl: ttl - 1, peers: this.relayable(named, from, next) },
          out,
        );
        return;
      }
    }
    const peers = this.secondHandAll(named, from, origin.id);
    // Accept: answer the origin directly. The paper (§4.4) answers with as many peers as it was sent,
    // its own identifier included; we answer at least a full shuffle's worth (ka + kp + 1). An origin
    // that could send little knows little: a joiner whose contact had no other neighbour has one
    // link and an empty passive view, and an equal exchange gave it nothing back, leaving it on one
    // link until some other node's walk happened to end at it (20 s in the simulator). Passive
    // peers first, as in the paper; topped up from the active view while our passive view is small.
    const fullShuffle = this.options.shuffleActiveCount + this.options.shufflePassiveCount + 1;
    const wanted = Math.min(Math.max(peers.length + 1, fullShuffle), SHUFFLE_PEERS_LIMIT);
    const reply = this.passive.sampleExcept(this.random, wanted, [origin.id]);
    if (reply.length < wanted) {
      const extra = this.active.sampleExcept(this.random, wanted - reply.length, [origin.id]);
      for (const peer of extra) reply.push(peer);
    }
    this.counters.shuffleRepliesSent++;
    this.send(origin, { type: 'shuffleReply', peers: reply }, out);
    // We opened this link just for the reply; keep it only if it carries something else.
    if (!this.active.has(origin.id) && !this.pending.has(origin.id)) {
      out.push({ type: 'disconnect', peer: origin });
    }
    const sent = reply.map((peer) => peer.id);
    this.learn(origin, sent);
    for (const card of peers) this.learn(card, sent);
  }

  /**
   * The reply to our Shuffle, from whichever node the walk ended at: integrated only while our
   * Shuffle awaits it (SHUFFLE_REPLY_WINDOW), and only once. Unasked, a reply from a neighbour is
   * the eviction hint that precedes its Disconnect{alive:true} (see evictRandomNeighbour), kept
   * until that arrives; any other is ignored.
   */
  private onShuffleReply(from: PeerInfo, message: ShuffleReply, now: Millis, out: ProtocolAction[]): void {
    const askedAt = this.shuffleStartedAt;
    if (askedAt !== undefined && now - askedAt > SHUFFLE_REPLY_WINDOW) this.shuffleStartedAt = undefined;
    if (this.shuffleStartedAt !== undefined) {
      this.shuffleStartedAt = undefined;
      for (const card of this.secondHandAll(capPeers(message.peers), from))
        this.learn(card, this.lastShuffleSample);
      // A joiner asks its new candidates at once, not at its next repair tick (see fillAfterJoin).
      if (this.joining(now)) this.repair(now, out, this.options.maxConcurrentRequests);
      return;
    }
    if (this.active.has(from.id)) this.evictionHints.set(from.id, capPeers(message.peers));
  }

  /**
   * §4.4: learn a peer into the passive view, evicting first the peers we just sent away. `card` is
   * what secondHand() gave for a peer named second-hand: a known peer's own card.
   */
  private learn(card: PeerInfo, evictFirst: readonly NodeId[]): void {
    // addPassive skips ourselves and active peers.
    if (!this.passive.has(card.id)) this.addPassive(card, evictFirst);
  }

  /**
   * The address card to use for a peer `namedBy` named second-hand (a Shuffle's origin and
   * entries, a ForwardJoin's joiner, a ShuffleReply's entries): ours if we know the peer
   * (knownCard). Only the peer's own link and discovery beacons change a known address: a hostile
   * sender could otherwise point honest peers' ids at addresses where nobody answers, and the
   * failed dials would make us forget them. An unknown peer is taken at the address named only if
   * the AddressCheck allows it (undefined otherwise): we would dial it later.
   */
  private secondHand(peer: PeerInfo, namedBy: PeerInfo): PeerInfo | undefined {
    const known = this.knownCard(peer.id);
    if (known !== undefined) return known;
    // Ourselves: every caller skips us, whatever address we are named at.
    if (peer.id === this.self.id || this.mayDial(peer.address, namedBy)) return peer;
    this.counters.unusableAddresses++;
    return undefined;
  }

  /** Our card for `id`: in a view, asked to link, gone silent, or among the former passive peers. */
  private knownCard(id: NodeId): PeerInfo | undefined {
    const stored =
      this.active.get(id) ?? this.passive.get(id) ?? this.pending.get(id)?.peer ?? this.silent.get(id)?.peer;
    if (stored !== undefined) return stored;
    const former = indexOfId(this.formerPassive, id);
    return former >= 0 ? (this.formerPassive[former] as PeerInfo) : undefined;
  }

  /**
   * secondHand() for each of `peers`, in order, each id once and never `skip` (a Shuffle's origin,
   * taken already): the cards to take.
   */
  private secondHandAll(peers: readonly PeerInfo[], namedBy: PeerInfo, skip?: NodeId): PeerInfo[] {
    const cards: PeerInfo[] = [];
    const named = new Set<NodeId>();
    if (skip !== undefined) named.add(skip);
    for (const peer of peers) {
      if (named.has(peer.id)) continue;
      named.add(peer.id);
      const card = this.secondHand(peer, namedBy);
      if (card !== undefined) cards.push(card);
    }
    return cards;
  }

  /** The entries of a Shuffle we pass on to `next`, each id once, as relayCard() gives them. */
  private relayable(peers: readonly PeerInfo[], namedBy: PeerInfo, next: PeerInfo): PeerInfo[] {
    const relayed: PeerInfo[] = [];
    const named = new Set<NodeId>();
    for (const peer of peers) {
      if (named.has(peer.id)) continue;
      named.add(peer.id);
      const card = this.relayCard(peer, namedBy, next);
      if (card !== undefined) relayed.push(card);
      else this.counters.unusableAddresses++;
    }
    return relayed;
  }

  /**
   * The card to pass on to `next` for a peer `namedBy` named in a walk: ours if `next` could take
   * it from us (it is first-hand, so a hostile neighbour cannot choose it); else the card as named
   * if we could take it so (the walk may name an address the next hop can reach where ours cannot,
   * such as one we reached over loopback); else ours, or none if we do not know the peer. In the
   * second case the sender chooses the address, as it could for a peer nobody knew: the next hop
   * takes it only if it does not know the peer either, and forgets it when the dial fails.
   */
  private relayCard(peer: PeerInfo, namedBy: PeerInfo, next: PeerInfo): PeerInfo | undefined {
    if (peer.id === this.self.id) return peer;
    const known = this.knownCard(peer.id);
    if (known !== undefined && this.mayDial(known.address, next)) return known;
    if (this.mayDial(peer.address, namedBy)) return peer;
    return known;
  }

  // --- View bookkeeping --------------------------------------------------------------------------

  /** Puts `peer` in the active view, evicting a random neighbour when full. */
  private addActive(peer: PeerInfo, out: ProtocolAction[]): void {
    this.removePassive(peer.id);
    this.pending.delete(peer.id);
    // A peer lost to silence is back, whichever end asked: whatever cut us off is over, and the
    // overlay now spans it, so the others lost with it can be reached through it.
    this.forgetLostWith(peer.id);
    if (this.active.size >= this.options.activeViewSize) this.evictRandomNeighbour(out);
    this.active.add(peer);
    this.aloneSince = undefined;
    // However the view filled (our requests, or others' requests and Joins), the joiner's fill is
    // over: a later loss is repaired like any node's (see fillAfterJoin).
    if (this.active.size >= this.options.activeViewSize) this.joiningUntil = undefined;
    this.counters.neighborUps++;
    out.push({ type: 'neighborUp', peer });
  }

  /**
   * The paper drops a random neighbour. Beyond the paper, a random one that carries no broadcast
   * tree goes first: evicting a tree link cuts every tree through it, the Relinks at its two ends
   * cost duplicates, and they rejoin the parts only if one of their other links crosses the cut;
   * otherwise the far part waits for a Graft (100 nodes, a broadcast every 40 ms, seed 36: the
   * shared tree split 60 / 40 for 268 ms). Most neighbours are lazy links, so the choice stays
   * random among them. Under churn (1,000 nodes, 5 joins and 5 departures a second, seeds 1-6)
   * Relinks fell by 37% and RMR from 0.26 to 0.20, reliability and late deliveries unchanged.
   */
  private evictRandomNeighbour(out: ProtocolAction[]): void {
    const spared: NodeId[] = [];
    for (const peer of this.active.values()) if (this.carriesTree(peer.id)) spared.push(peer.id);
    const victim =
      spared.length < this.active.size
        ? this.active.pickRandomExcept(this.random, spared)
        : this.active.pickRandom(this.random);
    if (victim === undefined) return;
    this.active.remove(victim.id);
    this.evictionHints.delete(victim.id);
    this.counters.evictions++;
    // Hand the victim fresh candidates first, so that it does not come straight back to us or
    // evict its way into the few peers it knew (as iroh-gossip does).
    const peers = this.active.sample(this.random, this.options.shuffleActiveCount);
    for (const peer of this.passive.sample(this.random, this.options.shufflePassiveCount)) peers.push(peer);
    this.send(victim, { type: 'shuffleReply', peers }, out);
    this.sendDisconnect(victim, true, out);
    this.counters.neighborDowns++;
    out.push({ type: 'neighborDown', peer: victim });
    out.push({ type: 'disconnect', peer: victim });
    this.addPassive(victim);
  }

  private removeActive(peerId: NodeId, now: Millis, out: ProtocolAction[]): PeerInfo | undefined {
    const peer = this.active.remove(peerId);
    if (peer === undefined) return undefined;
    if (this.active.size === 0) this.aloneSince = now;
    this.evictionHints.delete(peerId);
    this.counters.neighborDowns++;
    out.push({ type: 'neighborDown', peer });
    this.armRepairTick(out);
    return peer;
  }

  /**
   * The repair tick runs only while the active view is short of its size: in a settled overlay
   * almost every view is full, and a tick per node per second would be most of the timer events
   * (a third of all events in a 100,000-node simulation).
   */
  private armRepairTick(out: ProtocolAction[], after: Millis = this.options.repairInterval): void {
    if (this.repairTickArmed || !this.started || this.left) return;
    this.repairTickArmed = true;
    out.push({ type: 'setTimer', after, timer: REPAIR_TIMER });
  }

  /** Adds a peer to the passive view (refreshing its address if known), evicting when full. */
  private addPassive(peer: PeerInfo, evictFirst?: readonly NodeId[]): void {
    if (peer.id === this.self.id || this.active.has(peer.id)) return;
    if (this.passive.refresh(peer)) return;
    if (this.passive.size >= this.options.passiveViewSize) {
      let victim: PeerInfo | undefined;
      if (evictFirst !== undefined) {
        for (let i = 0; i < evictFirst.length && victim === undefined; i++) {
          victim = this.passive.get(evictFirst[i] as NodeId);
        }
      }
      victim ??= this.passive.pickRandom(this.random);
      if (victim !== undefined) {
        this.removePassive(victim.id);
        this.rememberFormerPassive(victim);
      }
    }
    this.passive.addAbsent(peer);
  }

  private removePassive(peerId: NodeId): void {
    this.passive.remove(peerId);
    this.declined.delete(peerId);
  }

  private sendDisconnect(peer: PeerInfo, alive: boolean, out: ProtocolAction[]): void {
    this.counters.disconnectsSent++;
    this.send(peer, { type: 'disconnect', alive }, out);
  }

  private send(to: PeerInfo, message: MembershipMessage, out: ProtocolAction[]): void {
    this.counters.controlMessagesSent++;
    out.push({ type: 'send', to, message });
  }
}

/** The index of the peer with `id` in `peers`, or -1 (a loop: this runs for every shuffled peer). */
function indexOfId(peers: readonly PeerInfo[], id: NodeId): number {
  for (let i = 0; i < peers.length; i++) if ((peers[i] as PeerInfo).id === id) return i;
  return -1;
}

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function capPeers(peers: readonly PeerInfo[]): readonly PeerInfo[] {
  return peers.length > SHUFFLE_PEERS_LIMIT ? peers.slice(0, SHUFFLE_PEERS_LIMIT) : peers;
}

/** A fresh overlay tag: 256 random bits, written as a node id is. */
function randomTag(random: Random): NodeId {
  let tag = '';
  for (let i = 0; i < NODE_ID_BYTES / 4; i++) {
    tag += Math.floor(random.next() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  }
  return tag;
}
