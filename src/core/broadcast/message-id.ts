import type { Gossip } from '../messages.js';
import type { NodeId } from '../types.js';

/** Longer paths than this do not exist in any overlay we run; larger values are malformed. */
export const MAX_HOPS = 65_535;

/**
 * Identifies a broadcast (origin, seq) within this process: the key of every per-message table.
 * Two keys are equal exactly when their pairs are; the form of a key carries no other meaning.
 */
export type MessageKey = string | number;

/**
 * Origins given a small number, so that their small seqs make a one-word key (see messageKey).
 * Shared by every core in the process, as in the simulator each origin's key is built by every node.
 */
const originNumbers = new Map<NodeId, number>();
/**
 * At most this many origins get a number; later ones keep string keys. Bounds what hostile input
 * can make the process hold (about 100 bytes per origin), far above the origins of a simulation.
 */
const MAX_NUMBERED_ORIGINS = 1 << 16;
/** Seqs below this combine with the origin's number: number × limit + seq < 2^30, a V8 small integer. */
const NUMBERED_SEQ_LIMIT = 1 << 14;

/**
 * The key of (origin, seq). A string `origin:seq` costs an 80-character string per node and
 * message, hashed and compared in full on every lookup (a third of all simulator events look up
 * several). A small seq (the simulator's, and any node's first broadcasts with initialSeq 0)
 * instead gets a small-integer key from the origin's number, which is fixed once given: a pair
 * always gets the same key. Large seqs (the runtime's wall-clock ones) keep the string form.
 */
export function messageKey(origin: NodeId, seq: number): MessageKey {
  if (Number.isInteger(seq) && seq >= 0 && seq < NUMBERED_SEQ_LIMIT) {
    let number = originNumbers.get(origin);
    if (number === undefined && originNumbers.size < MAX_NUMBERED_ORIGINS) {
      number = originNumbers.size;
      originNumbers.set(origin, number);
    }
    if (number !== undefined) return number * NUMBERED_SEQ_LIMIT + seq;
  }
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
