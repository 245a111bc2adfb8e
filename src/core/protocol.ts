import type { ProtocolAction, ProtocolTimer } from './actions.js';
import type { MessageAuthenticator } from './broadcast/authenticator.js';
import {
  DEFAULT_FLOOD_OPTIONS,
  FloodBroadcast,
  type FloodOptions,
  validateFloodOptions,
} from './broadcast/flood.js';
import { PlumtreeBroadcast } from './broadcast/plumtree.js';
import {
  DEFAULT_PLUMTREE_OPTIONS,
  type PlumtreeOptions,
  validatePlumtreeOptions,
} from './broadcast/plumtree-options.js';
import {
  BROADCAST_KINDS,
  type BroadcastEvent,
  type BroadcastKind,
  type BroadcastStats,
  type BroadcastStrategy,
  emptyBroadcastStats,
} from './broadcast/strategy.js';
import { HyParView } from './membership/hyparview.js';
import {
  DEFAULT_MEMBERSHIP_OPTIONS,
  type MembershipOptions,
  validateMembershipOptions,
} from './membership/options.js';
import {
  type AddressCheck,
  emptyMembershipStats,
  isMembershipTimer,
  type MembershipStats,
} from './membership/types.js';
import {
  type Gossip,
  MEMBERSHIP_MESSAGE_TYPES,
  type MembershipMessage,
  type ProtocolMessage,
} from './messages.js';
import type { Random } from './random.js';
import type { Millis, NodeId, PeerInfo } from './types.js';

export type { ProtocolAction, ProtocolTimer } from './actions.js';
export type { GossipVerdict, MessageAuthenticator } from './broadcast/authenticator.js';
export type { AddressCheck } from './membership/types.js';

/** Everything that can happen to a node, as the runtime (or simulator) reports it. */
export type ProtocolEvent =
  /** Arms the periodic timers. */
  | { readonly type: 'start' }
  /** Join the overlay through this contact (bootstrap). */
  | { readonly type: 'join'; readonly contact: PeerInfo }
  /**
   * A bootstrap contact that answered only after this node had found neighbours elsewhere: Join
   * through it unless it is known already (see HyParView.lateContact).
   */
  | { readonly type: 'lateContact'; readonly contact: PeerInfo }
  /**
   * A discovery beacon from `peer`. `wantsPeers` and `tag` (its overlay's, see OverlayTag) are what
   * it says, where the runtime has beacons; the simulator's have neither.
   */
  | {
      readonly type: 'discovered';
      readonly peer: PeerInfo;
      readonly wantsPeers?: boolean;
      readonly tag?: NodeId;
    }
  | { readonly type: 'message'; readonly from: PeerInfo; readonly message: ProtocolMessage }
  /**
   * The current link to `peer` closed or broke after it was up. Must not be reported for a link
   * already replaced by a newer one to the same peer. May be reported for a link the core closed
   * with `disconnect`: the core ignores that, as it only closes links it has no further use for.
   */
  | {
      readonly type: 'linkDown';
      readonly peer: NodeId;
      /** It went quiet (the transport's idle timeout) rather than closing: maybe a partition. */
      readonly silent?: boolean;
    }
  /** Could not reach `peer` at all. */
  | { readonly type: 'dialFailed'; readonly peer: NodeId }
  | { readonly type: 'timer'; readonly timer: ProtocolTimer }
  /**
   * Broadcast `payload`. Its seq is the next in line, raised to `minSeq` if given: a runtime that
   * checks freshness passes wall-clock microseconds (see src/node/gossip-signer.ts).
   */
  | { readonly type: 'broadcast'; readonly payload: Uint8Array; readonly minSeq?: number }
  /** Graceful stop: Disconnect{alive:false} to every neighbour, close every link, then ignore all. */
  | { readonly type: 'leave' };

export interface ProtocolOptions extends MembershipOptions, FloodOptions, PlumtreeOptions {
  /** Dissemination algorithm over the active view (the seen cache and seq options serve both). */
  readonly broadcast: BroadcastKind;
}

/**
 * Plumtree by default: once its tree has formed, each node receives each payload about once
 * (flooding: about activeViewSize - 1 times), at the cost of small IHave announcements.
 */
export const DEFAULT_BROADCAST: BroadcastKind = 'plumtree';

export const DEFAULT_PROTOCOL_OPTIONS: ProtocolOptions = {
  ...DEFAULT_MEMBERSHIP_OPTIONS,
  ...DEFAULT_FLOOD_OPTIONS,
  ...DEFAULT_PLUMTREE_OPTIONS,
  broadcast: DEFAULT_BROADCAST,
};

export interface ProtocolStats extends MembershipStats, BroadcastStats {}

const MEMBERSHIP_TYPES: ReadonlySet<string> = new Set(MEMBERSHIP_MESSAGE_TYPES);

function isMembershipMessage(message: ProtocolMessage): message is MembershipMessage {
  return MEMBERSHIP_TYPES.has(message.type);
}

function createBroadcast(
  self: PeerInfo,
  options: ProtocolOptions,
  random: Random,
  authenticator: MessageAuthenticator | undefined,
): BroadcastStrategy {
  switch (options.broadcast) {
    case 'flood':
      return new FloodBroadcast(self.id, options, authenticator);
    case 'plumtree':
      return new PlumtreeBroadcast(self.id, options, random, authenticator);
  }
}

/**
 * Options already merged and validated, by the object they were merged from. Every node of a
 * simulation is given the same object, so they all share one merged copy: each core reads its
 * options on nearly every event, and at 10,000 simulated nodes a copy of its own was a cache miss
 * each time. The options are read-only, so sharing them changes nothing else.
 */
const resolvedOptions = new WeakMap<Partial<ProtocolOptions>, ProtocolOptions>();

/** `options` over the defaults, validated (RangeError if invalid); the same object for the same input. */
function resolveOptions(options: Partial<ProtocolOptions>): ProtocolOptions {
  const known = resolvedOptions.get(options);
  if (known !== undefined) return known;
  const merged: ProtocolOptions = { ...DEFAULT_PROTOCOL_OPTIONS, ...options };
  validateMembershipOptions(merged);
  validateFloodOptions(merged);
  validatePlumtreeOptions(merged);
  if (!BROADCAST_KINDS.includes(merged.broadcast)) {
    throw new RangeError(`broadcast must be one of ${BROADCAST_KINDS.join(', ')}`);
  }
  resolvedOptions.set(options, merged);
  return merged;
}

/** Whether the actions from index `from` on close the link to `peer`. */
function closesLink(out: readonly ProtocolAction[], from: number, peer: NodeId): boolean {
  for (let i = from; i < out.length; i++) {
    const action = out[i] as ProtocolAction;
    if (action.type === 'disconnect' && action.peer.id === peer) return true;
  }
  return false;
}

/**
 * One node's protocol core: HyParView membership plus a broadcast strategy over its active view.
 * Pure and synchronous: `handle` takes one event with the current time and returns what to do.
 * Neighbour changes decided by the membership are fed to the broadcast layer before returning.
 * The constructor throws RangeError for invalid options; `handle` never throws on bad input.
 *
 * With an `authenticator`, this node signs what it broadcasts and accepts a new broadcast only if
 * it verifies; without one (the default, as in the simulator) nothing is signed or checked. With an
 * `addressCheck`, a peer named second-hand at an address it refuses is not taken (AddressCheck);
 * without one every address is.
 */
export class Protocol {
  /** The options in force: the defaults overridden by what the constructor was given. */
  readonly options: ProtocolOptions;
  private readonly membership: HyParView;
  private readonly broadcast: BroadcastStrategy;
  /**
   * The membership has left (only `leave` does that), mirrored here so that an event for the
   * broadcast layer does not have to read the membership's state first.
   */
  private left = false;

  constructor(
    self: PeerInfo,
    options: Partial<ProtocolOptions>,
    random: Random,
    authenticator?: MessageAuthenticator,
    addressCheck?: AddressCheck,
  ) {
    const merged = resolveOptions(options);
    this.options = merged;
    this.broadcast = createBroadcast(self, merged, random, authenticator);
    this.membership = new HyParView(
      self,
      merged,
      random,
      (peer) => this.broadcast.carriesTree(peer),
      addressCheck,
    );
  }

  /** Throws the RangeError the constructor would for these options, for a runtime that checks early. */
  static checkOptions(options: Partial<ProtocolOptions>): void {
    resolveOptions(options);
  }

  /** All-zero statistics, for a runtime that has no Protocol yet. */
  static emptyStats(): ProtocolStats {
    return { ...emptyMembershipStats(), ...emptyBroadcastStats() };
  }

  handle(event: ProtocolEvent, now: Millis): ProtocolAction[] {
    const out: ProtocolAction[] = [];
    this.handleInto(event, now, out);
    return out;
  }

  /**
   * As `handle`, but appends the actions to `out` (what was already there is left alone): a caller
   * that handles millions of events, the simulator, reuses one array instead of one per event.
   */
  handleInto(event: ProtocolEvent, now: Millis, out: ProtocolAction[]): void {
    if (this.left) return;
    const mark = out.length;
    switch (event.type) {
      case 'start':
        this.membership.start(out);
        this.broadcast.handle(event, now, out);
        break;
      case 'join':
        this.membership.join(event.contact, now, out);
        break;
      case 'lateContact':
        this.membership.lateContact(event.contact, out);
        break;
      case 'discovered':
        this.membership.discovered(event.peer, now, out, event.wantsPeers, event.tag);
        break;
      case 'message':
        if (isMembershipMessage(event.message)) {
          this.membership.onMessage(event.from, event.message, now, out);
        } else {
          const before = out.length;
          // The event itself, now known to carry a broadcast message: no copy per message.
          this.broadcast.handle(event as BroadcastEvent, now, out);
          // The broadcast layer closed this link over a forged message: to the membership the
          // neighbour has failed (§4.3), so it leaves the active view and a replacement is sought.
          if (closesLink(out, before, event.from.id)) this.membership.linkDown(event.from.id, now, out);
        }
        break;
      case 'linkDown':
        this.membership.linkDown(event.peer, now, out, event.silent);
        break;
      case 'dialFailed':
        this.membership.dialFailed(event.peer, now, out);
        break;
      case 'timer':
        if (isMembershipTimer(event.timer)) this.membership.onTimer(event.timer, now, out);
        // Not a membership timer, so the event itself is a broadcast timer event: no copy.
        else this.broadcast.handle(event as BroadcastEvent, now, out);
        break;
      case 'broadcast':
        this.broadcast.handle(event, now, out);
        break;
      case 'leave': {
        // Before the goodbyes, which close the links.
        this.broadcast.leave(now, out);
        this.membership.leave(out);
        this.left = this.membership.hasLeft();
        // The broadcast layer forgets its neighbours without a word: each link is closed after its
        // goodbye, and a Relink to a peer still lazy would dial it again (found by a review).
        const end = out.length;
        for (let i = mark; i < end; i++) {
          const action = out[i] as ProtocolAction;
          if (action.type !== 'neighborDown') continue;
          this.broadcast.handle({ type: 'neighborDown', peer: action.peer, leaving: true }, now, out);
        }
        return;
      }
    }
    this.forwardNeighbourChanges(out, mark, now);
  }

  activeView(): PeerInfo[] {
    return this.membership.activeView();
  }

  /** The smallest tag heard of through this node's overlay (see OverlayTag in messages.ts). */
  overlayTag(): NodeId {
    return this.membership.overlayTag();
  }

  /** Whether a late bootstrap contact needs no more asking (see HyParView.contactSettled). */
  contactSettled(peer: NodeId): boolean {
    return this.membership.contactSettled(peer);
  }

  passiveView(): PeerInfo[] {
    return this.membership.passiveView();
  }

  /** Sequence number of this node's latest broadcast (initialSeq - 1 before the first). */
  lastSeq(): number {
    return this.broadcast.lastSeq();
  }

  /**
   * Whether a received broadcast would be new to this node (well-formed, not ours, not seen): the
   * runtime checks the signature of such a one on a worker thread before handing it in.
   */
  isUnseen(message: Gossip): boolean {
    return !this.left && this.broadcast.isUnseen(message);
  }

  stats(): ProtocolStats {
    return { ...this.membership.stats(), ...this.broadcast.stats() };
  }

  /**
   * The broadcast layer tracks the active view through the same neighborUp/Down the app sees, and
   * each new neighbour is told our overlay tag.
   */
  private forwardNeighbourChanges(out: ProtocolAction[], from: number, now: Millis): void {
    const end = out.length;
    for (let i = from; i < end; i++) {
      const action = out[i] as ProtocolAction;
      if (action.type === 'neighborUp' || action.type === 'neighborDown') {
        this.broadcast.handle({ type: action.type, peer: action.peer }, now, out);
        // After the event's own messages, so that the peer has us as a neighbour when it arrives.
        if (action.type === 'neighborUp') this.membership.greet(action.peer, out);
      }
    }
  }
}
