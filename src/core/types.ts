/**
 * Vocabulary shared by every layer. The core never sees sockets: a peer is an id plus an opaque
 * address that only the transport interprets ("host:port" on TCP, anything in the simulator).
 */

/** A node's identity: 32 bytes as lower-case hex (64 characters). Room for an Ed25519 public key. */
export type NodeId = string;

/** Length of a node id on the wire, in bytes. */
export const NODE_ID_BYTES = 32;

/** How to reach a peer. */
export interface PeerInfo {
  readonly id: NodeId;
  /** Transport address, e.g. "127.0.0.1:49200". The core stores and forwards it without parsing. */
  readonly address: string;
}

/** Milliseconds on the injected clock. The core never reads a clock itself. */
export type Millis = number;
