/**
 * Why the transport refused a connection, a frame or a message. A closed set, so that each reason
 * has its own counter (stats().rejections) and its own first-time warning in the log.
 */
export const REJECT_REASONS = [
  /** The peer is in another private network, or in the open network while we are in a private one. */
  'wrong-network-key',
  /** The Noise handshake did not verify: a forged, corrupted or replayed handshake message. */
  'handshake-failed',
  /** The Hello names another id than the key the peer proved in the handshake, or the id we dialed. */
  'identity-mismatch',
  /** An encrypted record did not verify: forged, reordered, replayed or corrupted in transit. */
  'forged-record',
  /** A record or frame above the size limit, reported as soon as its length prefix arrives. */
  'oversize',
  /** Bytes that do not decode: a bad length, an unknown type, a truncated field. */
  'malformed',
  /** Well-formed frames in the wrong order (no Hello first, a second Hello, our own id). */
  'protocol-violation',
  /** No completed handshake within the handshake timeout. */
  'timeout',
  /** Too many handshakes in progress, from that host or from everyone. */
  'too-many-handshakes',
  /** Too many connections from one host. */
  'too-many-links-from-host',
  /** The peer stopped reading: its send queue reached the limit, or did not move for 6 idle timeouts. */
  'send-queue-full',
  /** More membership requests than the per-peer rate allows; the excess is dropped. */
  'rate-limited',
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];

export type RejectionCounts = Record<RejectReason, number>;

export function emptyRejectionCounts(): RejectionCounts {
  return Object.fromEntries(REJECT_REASONS.map((reason) => [reason, 0])) as RejectionCounts;
}

/** A refusal with its reason and what exactly was wrong, for the one log line it gets. */
export interface Rejection {
  readonly reason: RejectReason;
  readonly detail: string;
}
