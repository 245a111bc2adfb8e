import { isMessageId, type MessageKey, messageKey } from '../core/broadcast/message-id.js';
import { IHAVE_ENTRIES_LIMIT } from '../core/broadcast/plumtree-options.js';
import type { IHave } from '../core/messages.js';

/** An announcement held back, and the index of its first entry not yet looked at. */
interface Waiting<Held> {
  readonly announcement: IHave;
  readonly held: Held;
  next: number;
}

/**
 * The broadcasts whose signatures the verify pool is checking, and the announcements (IHave) that
 * named one of them meanwhile, held until it is judged.
 *
 * The core learns of a broadcast only once its check is done. An IHave naming it that came in the
 * meantime would find it missing: from the link that carries its tree, a Graft at once for a
 * payload already here; from another, a Graft timer to be cancelled a few milliseconds later (a
 * 1,000-message throughput phase at N = 10 armed 2,317 Node timers for 250 ms, 26 with this).
 * Held back, the IHave reaches the core after the message it names: as a copy it has (the
 * Plumtree optimisation of §3.8 still looks at its hop count), or, if the check failed, as an
 * announcement worth a Graft, as before. Its other entries wait as long: a check's few ms, about
 * twice the pool's batch deadline at most when a worker stalls (its checks then go back inline).
 *
 * Each entry of an announcement is looked at once at most, and only the first IHAVE_ENTRIES_LIMIT,
 * those the core reads: an announcement that names many messages in check, late in a long list,
 * would otherwise be read again from its start at the end of each of their checks.
 */
export class PendingChecks<Held> {
  /** Per message in check, what waits for its verdict (undefined while nothing does). */
  private readonly inCheck = new Map<MessageKey, Waiting<Held>[] | undefined>();

  /** Messages in check. */
  get size(): number {
    return this.inCheck.size;
  }

  /** Notes that the broadcast `key` went to the pool; ignored if it is already in check. */
  begin(key: MessageKey): void {
    if (!this.inCheck.has(key)) this.inCheck.set(key, undefined);
  }

  /**
   * Holds `held` until the check of every message in check that `announcement` names has ended,
   * and returns true; returns false, holding nothing, when it names no message in check.
   */
  holdIfNamed(announcement: IHave, held: Held): boolean {
    return this.hold({ announcement, held, next: 0 });
  }

  /**
   * Ends the check of `key` and returns what waited for it and names no other message still in
   * check, oldest first; the rest wait on.
   */
  end(key: MessageKey): readonly Held[] {
    const waiting = this.inCheck.get(key);
    this.inCheck.delete(key);
    if (waiting === undefined) return NOTHING_HELD;
    const released: Held[] = [];
    for (const announcement of waiting) if (!this.hold(announcement)) released.push(announcement.held);
    return released;
  }

  /** Holds `waiting` for the next message in check it names from `waiting.next` on; false if none. */
  private hold(waiting: Waiting<Held>): boolean {
    if (this.inCheck.size === 0) return false;
    const entries: unknown = waiting.announcement.entries;
    // Malformed announcements go to the core at once: it counts and drops what it cannot read.
    if (!Array.isArray(entries)) return false;
    const count = Math.min(entries.length, IHAVE_ENTRIES_LIMIT);
    for (let i = waiting.next; i < count; i++) {
      const entry: unknown = entries[i];
      if (typeof entry !== 'object' || entry === null) continue;
      const { origin, seq } = entry as { origin?: unknown; seq?: unknown };
      if (!isMessageId(origin, seq)) continue;
      const key = messageKey(origin as string, seq as number);
      if (!this.inCheck.has(key)) continue;
      waiting.next = i + 1;
      const held = this.inCheck.get(key);
      if (held === undefined) this.inCheck.set(key, [waiting]);
      else held.push(waiting);
      return true;
    }
    return false;
  }
}

const NOTHING_HELD: readonly never[] = [];
