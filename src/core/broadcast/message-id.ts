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

/** Number keys of large seqs start here, above every small-seq key (number × limit + seq < 2^30). */
const WINDOWED_KEY_BASE = 2 ** 30;
/**
 * An origin's large seqs within this many of its window's start get a number key: 2^40 µs is
 * twelve days of the runtime's wall-clock seqs.
 */
const SEQ_WINDOW = 2 ** 40;
/** The window starts this far below the first large seq met, in case a slightly older one follows. */
const SEQ_WINDOW_LEAD = 2 ** 36;
/** Origins given a window: base + windows × SEQ_WINDOW stays below 2^53, so keys are exact. */
const MAX_WINDOWED_ORIGINS = 1 << 12;
/** Window start and key offset of each origin whose large seqs get number keys; fixed once given. */
const seqWindows = new Map<NodeId, { readonly start: number; readonly keyOffset: number }>();

/**
 * The key of (origin, seq). A string `origin:seq` costs per node and message an 81-character
 * string, two concatenation cells and the seq's decimal digits, kept as long as the seen cache
 * keeps the message (half a minute), hashed and compared in full on every lookup (a third of all
 * simulator events look up several). So a small seq (the simulator's, and any node's first
 * broadcasts with initialSeq 0) gets a small-integer key from the origin's number, and a large
 * seq (the runtime's wall-clock ones) a number key from the origin's window of seqs (a double,
 * still exact). Both are fixed once given: a pair always gets the same key. Only a seq outside
 * its origin's window, or an origin past the limits, gets the string form.
 */
export function messageKey(origin: NodeId, seq: number): MessageKey {
  if (!Number.isSafeInteger(seq) || seq < 0) return `${origin}:${seq}`;
  if (seq < NUMBERED_SEQ_LIMIT) {
    let number = originNumbers.get(origin);
    if (number === undefined && originNumbers.size < MAX_NUMBERED_ORIGINS) {
      number = originNumbers.size;
      originNumbers.set(origin, number);
    }
    if (number !== undefined) return number * NUMBERED_SEQ_LIMIT + seq;
    return `${origin}:${seq}`;
  }
  let window = seqWindows.get(origin);
  if (window === undefined && seqWindows.size < MAX_WINDOWED_ORIGINS) {
    window = {
      start: Math.max(NUMBERED_SEQ_LIMIT, seq - SEQ_WINDOW_LEAD),
      keyOffset: WINDOWED_KEY_BASE + seqWindows.size * SEQ_WINDOW,
    };
    seqWindows.set(origin, window);
  }
  if (window !== undefined && seq >= window.start && seq - window.start < SEQ_WINDOW) {
    return window.keyOffset + (seq - window.start);
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
