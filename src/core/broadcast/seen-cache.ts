import type { Gossip } from '../messages.js';
import type { Millis, NodeId } from '../types.js';
import { isWellFormedGossip, type MessageKey, messageKey } from './message-id.js';

/**
 * Remembers which messages were already seen, bounded by count and by age. A Map iterates in
 * insertion order and entries are never re-inserted, so its first entry is always the oldest:
 * both bounds evict from the front in O(1) per entry, with no separate queue or heap.
 *
 * Callers must pass a non-decreasing `now`; the injected clocks of the runtime and simulator are.
 */
export class SeenCache {
  private readonly firstSeen = new Map<MessageKey, Millis>();
  private readonly maxEntries: number;
  private readonly maxAge: Millis;
  private droppedForCount = false;

  constructor(maxEntries: number, maxAge: Millis) {
    this.maxEntries = maxEntries;
    this.maxAge = maxAge;
  }

  get size(): number {
    return this.firstSeen.size;
  }

  /** Whether an entry was ever dropped to keep within the maximum count, rather than for its age. */
  get forgotByCount(): boolean {
    return this.droppedForCount;
  }

  has(key: MessageKey): boolean {
    return this.firstSeen.has(key);
  }

  /** Records `key`; returns false if it was already there (a duplicate). */
  add(key: MessageKey, now: Millis): boolean {
    if (this.firstSeen.has(key)) return false;
    this.firstSeen.set(key, now);
    if (this.firstSeen.size > this.maxEntries) {
      const oldest = this.firstSeen.keys().next();
      if (!oldest.done) {
        this.firstSeen.delete(oldest.value);
        this.droppedForCount = true;
      }
    }
    return true;
  }

  /** Forgets every entry first seen more than `maxAge` ago. */
  sweep(now: Millis): void {
    const cutoff = now - this.maxAge;
    for (const [key, seenAt] of this.firstSeen) {
      if (seenAt > cutoff) return;
      this.firstSeen.delete(key);
    }
  }
}

/**
 * Whether `message` is a well-formed broadcast that `self` has not seen (nor sent): the only kind
 * a strategy checks the signature of, and so the kind the runtime may check ahead of time.
 */
export function isUnseenBroadcast(message: Gossip, self: NodeId, seen: SeenCache): boolean {
  return (
    isWellFormedGossip(message) &&
    message.origin !== self &&
    !seen.has(messageKey(message.origin, message.seq))
  );
}
