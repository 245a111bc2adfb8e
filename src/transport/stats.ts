import { emptyRejectionCounts, type RejectionCounts } from './rejection.js';

/** Counters of one LinkManager since it was created; cheap to read, for metrics and tests. */
export interface TransportStats {
  /** Connections whose handshake completed (duplicates and retired links included). */
  linksOpened: number;
  /** Handshaken connections whose socket has closed since. */
  linksClosed: number;
  /** Frames decoded successfully, pings and hellos included. */
  framesIn: number;
  /** Frames handed to a socket, pings and hellos included. */
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Frames that broke the framing (oversize), the codec, or the link protocol (a second Hello). */
  malformedFrames: number;
  /** Connections dropped before their handshake completed, for any reason. */
  handshakeFailures: number;
  /** Links retired because another link to the same peer won (see duplicate-rule.ts). */
  duplicateLinksResolved: number;
  /** Messages dropped in send(): the codec refused them, or the frame exceeds maxFrameBytes. */
  unsendableMessages: number;
  /** Writes after which the socket's buffer was above its high-water mark (write() returned false). */
  backpressuredWrites: number;
  /** Bytes written but not yet accepted by the kernel, summed over open sockets, right now. */
  pendingWriteBytes: number;
  /** Inbound connections still in their handshake, right now. */
  pendingHandshakes: number;
  /** Every refusal (a connection dropped, a message discarded), by reason; see rejection.ts. */
  rejections: RejectionCounts;
}

export function emptyStats(): TransportStats {
  return {
    linksOpened: 0,
    linksClosed: 0,
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    malformedFrames: 0,
    handshakeFailures: 0,
    duplicateLinksResolved: 0,
    unsendableMessages: 0,
    backpressuredWrites: 0,
    pendingWriteBytes: 0,
    pendingHandshakes: 0,
    rejections: emptyRejectionCounts(),
  };
}
