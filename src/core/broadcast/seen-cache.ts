import type { Gossip } from '../messages.js';
import type { Millis, NodeId } from '../types.js';
import { isWellFormedGossip, type MessageKey, messageKey } from './message-id.js';

/** The newest seq of an origin that the cache forgot by count, and when it forgot it. */
interface Horizon {
  readonly seq: number;
  readonly at: Millis;
}

/**
 * Remembers which messages were already seen, bounded by count and by age. A Map iterates in
 * insertion order and entries are never re-inserted, so its first entry is always the oldest:
 * both bounds evict from the front in O(1) per entry, with no separate queue or heap.
 *
 * The signer's freshness window (src/node/gossip-signer.ts) lets a replay in only while the age
 * bound would still remember the original. The count bound forgets sooner: 10,000 cheap broadcasts
 * of an attacker's own would push every honest entry out, and a replay of a genuine message from
 * the last 25 s would be delivered again. So when an entry goes for the count, the cache keeps its
 * origin's horizon (the newest seq forgotten so far, for the cache's maximum age from then) and
 * refuses (`refuses`) any message of that origin at or below it, as the signer refuses what is too
 * old: what the cache can no longer tell from a replay is not accepted. An origin's seqs grow, so
 * an honest node loses only a message that arrives after a later one of the same origin was
 * already forgotten, more than `maxEntries` (10,000) messages later. Horizons are bounded by
 * `maxEntries` too: a new one pushes out the oldest, whose origin is then again guarded by the
 * freshness window alone. Refusing every origin without a horizon instead, while the table is full,
 * stalled honest meshes of more than 10,000 origins broadcasting over 166 messages/s together
 * (4,394 of 60,000 messages refused in review), and made 10,000 throwaway identities a way to
 * stop a whole mesh for a minute.
 *
 * Callers must pass a non-decreasing `now`; the injected clocks of the runtime and simulator are.
 */
export class SeenCache {
  private readonly firstSeen = new Map<MessageKey, Millis>();
  /**
   * Origin and seq of each entry, in the Map's order (entries leave only from the front, so the
   * two stay aligned): the count bound needs them to set a horizon. Undefined origin: none given.
   */
  private readonly origins: (NodeId | undefined)[] = [];
  private readonly seqs: number[] = [];
  private head = 0;
  private readonly horizons = new Map<NodeId, Horizon>();
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

  /**
   * Whether a message of `origin` numbered `seq` that is not in the cache must be refused: the
   * cache forgot a message of `origin` at or after `seq` by count, and could not tell a replay of
   * it.
   */
  refuses(origin: NodeId, seq: number): boolean {
    const horizon = this.horizons.get(origin);
    return horizon !== undefined && seq <= horizon.seq;
  }

  /**
   * Records `key`, the message `seq` of `origin` (pass both wherever a replay could be accepted);
   * returns false if it was already there (a duplicate).
   */
  add(key: MessageKey, now: Millis, origin?: NodeId, seq = 0): boolean {
    if (this.firstSeen.has(key)) return false;
    this.firstSeen.set(key, now);
    this.origins.push(origin);
    this.seqs.push(seq);
    if (this.firstSeen.size > this.maxEntries) {
      const oldest = this.firstSeen.keys().next();
      if (!oldest.done) {
        this.firstSeen.delete(oldest.value);
        this.droppedForCount = true;
        const forgotten = this.origins[this.head];
        if (forgotten !== undefined) this.raiseHorizon(forgotten, this.seqs[this.head] ?? 0, now);
        this.shift();
        this.compact();
      }
    }
    return true;
  }

  /** Forgets every entry first seen more than `maxAge` ago, and every horizon set that long ago. */
  sweep(now: Millis): void {
    const cutoff = now - this.maxAge;
    for (const [origin, horizon] of this.horizons) {
      if (horizon.at > cutoff) break;
      this.horizons.delete(origin);
    }
    for (const [key, seenAt] of this.firstSeen) {
      if (seenAt > cutoff) break;
      this.firstSeen.delete(key);
      this.shift();
    }
    this.compact();
  }

  /**
   * A replay of the forgotten entry is refused by the freshness window once the maximum age has
   * passed since it was first seen, so its horizon is kept that long after being set. Re-inserted
   * so that the Map stays in the order of `at`, which sweep reads from the front.
   */
  private raiseHorizon(origin: NodeId, seq: number, now: Millis): void {
    const horizon = this.horizons.get(origin);
    this.horizons.delete(origin);
    if (horizon === undefined && this.horizons.size >= this.maxEntries) {
      const oldest = this.horizons.keys().next();
      if (!oldest.done) this.horizons.delete(oldest.value);
    }
    this.horizons.set(origin, { seq: horizon === undefined ? seq : Math.max(seq, horizon.seq), at: now });
  }

  private shift(): void {
    this.origins[this.head] = undefined;
    this.head++;
  }

  /** Drops the parallel arrays' forgotten front once it is half of them: amortised O(1). */
  private compact(): void {
    if (this.head < 1024 || this.head * 2 < this.origins.length) return;
    this.origins.splice(0, this.head);
    this.seqs.splice(0, this.head);
    this.head = 0;
  }
}

/**
 * Whether `message` is a well-formed broadcast that `self` has not seen (nor sent): the only kind a
 * strategy checks the signature of, and so the kind the runtime may check ahead of time. One the
 * cache `refuses` is among them: admitNewGossip judges the signature before that refusal, so that
 * a forgery closes its link whatever its seq.
 */
export function isUnseenBroadcast(message: Gossip, self: NodeId, seen: SeenCache): boolean {
  return (
    isWellFormedGossip(message) &&
    message.origin !== self &&
    !seen.has(messageKey(message.origin, message.seq))
  );
}
