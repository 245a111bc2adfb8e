import type { ProtocolAction } from '../actions.js';
import type { Gossip } from '../messages.js';
import type { Millis, NodeId, PeerInfo } from '../types.js';
import type { MessageKey } from './message-id.js';
import type { SeenCache } from './seen-cache.js';
import type { BroadcastStats } from './strategy.js';

/**
 * What an authenticator makes of a received broadcast:
 * - 'valid': signed by its origin, and recent enough that the seen cache still guards it;
 * - 'forged': no valid signature of its origin (altered in transit, another node's id claimed, or
 *   unsigned where signatures are required). Only a dishonest or broken sender relays one;
 * - 'stale': genuine but outside the replay window. An honest relay can hold such a message (a Graft
 *   answered from an old cache entry, a skewed clock), so it is dropped without blaming the link.
 */
export type GossipVerdict = 'valid' | 'forged' | 'stale';

/**
 * Signs the broadcasts this node originates and judges the ones it receives. Injected so that the
 * core stays pure: the runtime builds one from the node's Ed25519 key (src/node/gossip-signer.ts);
 * the simulator and most tests run without one, which turns signing and checking off.
 */
export interface MessageAuthenticator {
  /** The signature the origin attaches to (origin, seq, payload). */
  sign(origin: NodeId, seq: number, payload: Uint8Array): Uint8Array;
  verify(origin: NodeId, seq: number, payload: Uint8Array, signature: Uint8Array | undefined): GossipVerdict;
}

/**
 * Admits a gossip message that is new to this node (not in `seen`, not our own): judges its
 * signature, refuses it if the seen cache could not tell it from a replay, and if it passes, records
 * it as seen and counts it delivered. Call it before delivering, caching or relaying, and only for
 * new messages, so that duplicates cost no verification. A forgery is counted and the link it came
 * on is closed (the Protocol then treats that neighbour as failed); a stale message is only
 * counted. Returns whether to accept the message.
 */
export function admitNewGossip(
  seen: SeenCache,
  authenticator: MessageAuthenticator | undefined,
  from: PeerInfo,
  message: Gossip,
  key: MessageKey,
  now: Millis,
  counters: BroadcastStats,
  out: ProtocolAction[],
): boolean {
  // Checked before it is remembered: a forged copy must not make the genuine one look like a
  // duplicate. And before the seen cache's refusal below: a forgery is a forgery whatever its seq,
  // and its link is closed.
  const verdict =
    authenticator === undefined
      ? 'valid'
      : authenticator.verify(message.origin, message.seq, message.payload, message.signature);
  // Anything but a valid or stale verdict is a forgery: an authenticator that answers something
  // else fails closed.
  if (verdict !== 'valid' && verdict !== 'stale') {
    counters.invalidSignatures++;
    out.push({ type: 'disconnect', peer: from });
    return false;
  }
  // The seen cache forgot a later message of this origin by count, so it could not tell this one
  // from a replay (see SeenCache): refused like a message outside the freshness window.
  if (verdict === 'stale' || seen.refuses(message.origin, message.seq)) {
    counters.staleMessages++;
    return false;
  }
  seen.add(key, now, message.origin, message.seq);
  counters.delivered++;
  return true;
}
