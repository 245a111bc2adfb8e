import type { NodeId, PeerInfo } from './types.js';

/**
 * Every message that peers exchange over a link, as plain data. The codec (src/codec) turns these
 * into frames and back; the state machines in this folder produce and consume them.
 */

// --- Link layer: spoken by the transport only -------------------------------------------------

/** First frame on every link, in both directions: who I am and where I listen. */
export interface Hello {
  readonly type: 'hello';
  readonly id: NodeId;
  /** TCP port this node accepts links on; the peer pairs it with the address it sees. */
  readonly listenPort: number;
}

/** Sent on an otherwise idle link so that a silent peer can be told from a dead one. */
export interface Ping {
  readonly type: 'ping';
}

// --- Membership: HyParView (Leitão, Pereira, Rodrigues, DSN 2007) ------------------------------

/** A new node asks its contact to take it into the overlay. */
export interface Join {
  readonly type: 'join';
}

/** The contact's random walk announcing a joining node (paper: FORWARDJOIN). */
export interface ForwardJoin {
  readonly type: 'forwardJoin';
  readonly peer: PeerInfo;
  readonly ttl: number;
}

/** Ask to become an active neighbour; `high` must be accepted (the sender has no neighbours). */
export interface Neighbor {
  readonly type: 'neighbor';
  readonly priority: 'high' | 'low';
}

export interface NeighborReply {
  readonly type: 'neighborReply';
  readonly accepted: boolean;
}

/** Drop me from your active view; `alive: false` means I am leaving, forget me altogether. */
export interface Disconnect {
  readonly type: 'disconnect';
  readonly alive: boolean;
}

/** A random walk carrying a sample of the origin's views (paper: SHUFFLE). */
export interface Shuffle {
  readonly type: 'shuffle';
  readonly origin: PeerInfo;
  readonly ttl: number;
  readonly peers: readonly PeerInfo[];
}

/** Sent straight back to the shuffle's origin with a sample of the receiver's passive view. */
export interface ShuffleReply {
  readonly type: 'shuffleReply';
  readonly peers: readonly PeerInfo[];
}

/**
 * Not in the paper. `tag` is the smallest tag the sender has heard of through its overlay's links,
 * each node starting from one drawn at random (256 bits, written as a node id): the members of one
 * overlay converge on one tag, and two overlays that formed apart have two. Sent to each new
 * neighbour, and to every neighbour when the tag falls. `probe` asks a node that is not a
 * neighbour for its own tag, which it sends back with `probe` false.
 */
export interface OverlayTag {
  readonly type: 'overlayTag';
  readonly tag: NodeId;
  readonly probe: boolean;
}

export type MembershipMessage =
  | Join
  | ForwardJoin
  | Neighbor
  | NeighborReply
  | Disconnect
  | Shuffle
  | ShuffleReply
  | OverlayTag;

// --- Broadcast ---------------------------------------------------------------------------------

/** A broadcast payload. (origin, seq) identifies it network-wide. */
export interface Gossip {
  readonly type: 'gossip';
  readonly origin: NodeId;
  /** Per-origin counter; an integer below 2^53. */
  readonly seq: number;
  /** Links travelled so far: 0 when the origin sends it. */
  readonly hops: number;
  /**
   * The origin's Ed25519 signature over (origin, seq, payload), 64 bytes (see
   * src/core/broadcast/authenticator.ts); absent (or empty) when unsigned. Hops are not signed:
   * every relay changes them, and they only steer tree optimisation.
   */
  readonly signature?: Uint8Array;
  readonly payload: Uint8Array;
}

/** Plumtree lazy push: "I have these messages" (Leitão, Pereira, Rodrigues, SRDS 2007). */
export interface IHave {
  readonly type: 'ihave';
  readonly entries: readonly { readonly origin: NodeId; readonly seq: number; readonly hops: number }[];
}

/**
 * Plumtree: become my eager link. With `request`, also send me the payload (origin, seq), which I
 * missed; without it, (origin, seq) only names the announcement that showed this link to be the
 * shorter path (the paper's optimisation, §3.8), and the receiver sends nothing back.
 */
export interface Graft {
  readonly type: 'graft';
  readonly origin: NodeId;
  readonly seq: number;
  readonly request: boolean;
}

/** Plumtree: stop eager-pushing `origin`'s payloads to me (in the tree they follow); I get them another way. */
export interface Prune {
  readonly type: 'prune';
  readonly origin: NodeId;
}

/**
 * Plumtree, beyond the paper: a tree link of mine broke (the neighbour crashed, left or was
 * evicted); push everything to me again, in every tree. Without it, the part of a tree beyond the
 * broken link gets the next message only through an IHave and a Graft, a graft timeout later.
 */
export interface Relink {
  readonly type: 'relink';
}

export type BroadcastMessage = Gossip | IHave | Graft | Prune | Relink;

/** What the protocol core exchanges with peers: membership plus broadcast. */
export type ProtocolMessage = MembershipMessage | BroadcastMessage;

/** Everything that travels on a link. */
export type WireMessage = Hello | Ping | ProtocolMessage;

/** Broadcast message types, then membership ones: the one list that code and figures use. */
export const BROADCAST_MESSAGE_TYPES = [
  'gossip',
  'ihave',
  'graft',
  'prune',
  'relink',
] as const satisfies readonly BroadcastMessage['type'][];

export const MEMBERSHIP_MESSAGE_TYPES = [
  'join',
  'forwardJoin',
  'neighbor',
  'neighborReply',
  'disconnect',
  'shuffle',
  'shuffleReply',
  'overlayTag',
] as const satisfies readonly MembershipMessage['type'][];

export const PROTOCOL_MESSAGE_TYPES = [...BROADCAST_MESSAGE_TYPES, ...MEMBERSHIP_MESSAGE_TYPES] as const;
