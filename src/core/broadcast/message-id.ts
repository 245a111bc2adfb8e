import type { Gossip } from '../messages.js';
import type { NodeId } from '../types.js';

/** Longer paths than this do not exist in any overlay we run; larger values are malformed. */
export const MAX_HOPS = 65_535;

/** Identifies a broadcast network-wide: the key of every per-message table. */
export function messageKey(origin: NodeId, seq: number): string {
  return `${origin}:${seq}`;
}

/** Whether `origin` could name a broadcasting node; the codec has already checked its form. */
export function isOrigin(origin: unknown): origin is NodeId {
  return typeof origin === 'string';
}

/** Whether (origin, seq) could name a broadcast; anything else is dropped as malformed input. */
export function isMessageId(origin: unknown, seq: unknown): boolean {
  return isOrigin(origin) && Number.isSafeInteger(seq) && (seq as number) >= 0;
}

export function isHopCount(hops: unknown): boolean {
  return Number.isSafeInteger(hops) && (hops as number) >= 0 && (hops as number) < MAX_HOPS;
}

export function isWellFormedGossip(message: Gossip): boolean {
  return (
    isMessageId(message.origin, message.seq) &&
    isHopCount(message.hops) &&
    message.payload instanceof Uint8Array
  );
}
