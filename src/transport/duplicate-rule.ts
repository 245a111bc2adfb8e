import type { NodeId } from '../core/types.js';

/**
 * At most one link per pair of nodes, agreed without a round trip.
 *
 * When simultaneous dials (or a bootstrap dial racing a regular one) leave several established links
 * to one peer, both ends must keep the same one. Both know who dialed each link, so the rule is:
 * keep a link DIALED BY THE NODE WITH THE SMALLER ID. The losers are retired gracefully by both ends
 * (each end ends its side; frames in flight are still read and delivered).
 *
 * Several links dialed by the same node (rare: a bootstrap dial racing a regular dial) cannot be
 * ordered identically by both ends, so only their dialer retires the extras; the acceptor keeps them
 * as standbys (still read, still pinged) until the dialer's FIN arrives. Either way every frame sent
 * is read by the other end, because an end reads every link until EOF.
 */

export type Direction = 'in' | 'out';

export interface LinkCandidate {
  /** 'out' when this node dialed the link. */
  readonly direction: Direction;
  /** Order of handshake completion on this node: smaller is older. */
  readonly establishedSeq: number;
}

export interface Resolution<C extends LinkCandidate> {
  /** The link to send on. */
  readonly active: C;
  /** Links to stop sending on and end(). */
  readonly retire: readonly C[];
  /** Extra links the peer dialed: its dialer decides which survive; keep reading and pinging them. */
  readonly standby: readonly C[];
}

/** Splits a non-empty set of established, usable links to `peer` into keep / retire / standby. */
export function resolveDuplicates<C extends LinkCandidate>(
  self: NodeId,
  peer: NodeId,
  candidates: readonly C[],
): Resolution<C> {
  if (candidates.length === 0) throw new RangeError('resolveDuplicates needs at least one candidate');
  const preferred: Direction = self < peer ? 'out' : 'in';
  const hasPreferred = candidates.some((c) => c.direction === preferred);
  const poolDirection: Direction = hasPreferred ? preferred : (candidates[0] as C).direction;
  const pool = candidates
    .filter((c) => c.direction === poolDirection)
    .sort((a, b) => a.establishedSeq - b.establishedSeq);
  const active = pool[0] as C;
  const rest = pool.slice(1);
  const losers = candidates.filter((c) => c.direction !== poolDirection);
  // Only the dialer of a set of same-direction links may choose among them (see above).
  const weDialedThePool = poolDirection === 'out';
  return {
    active,
    retire: weDialedThePool ? [...losers, ...rest] : losers,
    standby: weDialedThePool ? [] : rest,
  };
}
