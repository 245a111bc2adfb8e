import { isMessageId, type MessageKey, messageKey } from '../core/broadcast/message-id.js';
import type { IHave } from '../core/messages.js';

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
 * announcement worth a Graft, as before. Its other entries wait as long, a check's few ms.
 */
export class PendingChecks<Held> {
  /** Per message in check, what waits for its verdict (undefined while nothing does). */
  private readonly inCheck = new Map<MessageKey, Held[] | undefined>();

  /** Messages in check. */
  get size(): number {
    return this.inCheck.size;
  }

  /** Notes that the broadcast `key` went to the pool; ignored if it is already in check. */
  begin(key: MessageKey): void {
    if (!this.inCheck.has(key)) this.inCheck.set(key, undefined);
  }

  /**
   * Holds `held` until the check of a message `announcement` names ends, and returns true; returns
   * false, holding nothing, when it names no message in check.
   */
  holdIfNamed(announcement: IHave, held: Held): boolean {
    if (this.inCheck.size === 0) return false;
    const entries: unknown = announcement.entries;
    // Malformed announcements go to the core at once: it counts and drops what it cannot read.
    if (!Array.isArray(entries)) return false;
    for (const entry of entries as readonly unknown[]) {
      if (typeof entry !== 'object' || entry === null) continue;
      const { origin, seq } = entry as { origin?: unknown; seq?: unknown };
      if (!isMessageId(origin, seq)) continue;
      const key = messageKey(origin as string, seq as number);
      if (!this.inCheck.has(key)) continue;
      const waiting = this.inCheck.get(key);
      if (waiting === undefined) this.inCheck.set(key, [held]);
      else waiting.push(held);
      return true;
    }
    return false;
  }

  /**
   * Ends the check of `key` and returns what waited for it, oldest first. An announcement that also
   * names another message still in check should be offered to holdIfNamed() again.
   */
  end(key: MessageKey): readonly Held[] {
    const waiting = this.inCheck.get(key);
    this.inCheck.delete(key);
    return waiting ?? NOTHING_HELD;
  }
}

const NOTHING_HELD: readonly never[] = [];
