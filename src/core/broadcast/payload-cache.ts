import type { Millis, NodeId } from '../types.js';
import type { MessageKey } from './message-id.js';

/**
 * Rough memory of one cached entry beyond its payload bytes: the entry object, its key string,
 * the origin id and the Map slot. Counting it keeps a flood of tiny payloads bounded as well.
 */
export const PAYLOAD_CACHE_ENTRY_OVERHEAD_BYTES = 256;

/** A payload this node delivered or originated, kept to answer Grafts for it. */
export interface CachedPayload {
  readonly origin: NodeId;
  readonly seq: number;
  /** Links from the origin to this node: the hop count this node relays the payload with. */
  hops: number;
  /** The peer it came from (the tree parent for this message); undefined for our own broadcasts. */
  parent: NodeId | undefined;
  /** The origin's signature, re-sent with the payload when a Graft asks for it; owned as well. */
  readonly signature?: Uint8Array | undefined;
  /** Memory of the cache's own (with the signature in front when signed), never a socket's read buffer. */
  readonly payload: Uint8Array;
}

/**
 * One object per entry (the simulator holds millions): the entry plus the cache's bookkeeping. A
 * signed entry keeps signature and payload in one owned array (signature first), so each cached
 * message costs one typed array and one array buffer instead of two of each; relays and Graft
 * answers carry views of it.
 */
class Slot implements CachedPayload {
  constructor(
    readonly origin: NodeId,
    readonly seq: number,
    public hops: number,
    public parent: NodeId | undefined,
    /** The payload alone, or signature || payload when signed. */
    private readonly stored: Uint8Array,
    private readonly signatureBytes: number,
    readonly storedAt: Millis,
    readonly bytes: number,
  ) {}

  get signature(): Uint8Array | undefined {
    return this.signatureBytes === 0 ? undefined : this.stored.subarray(0, this.signatureBytes);
  }

  get payload(): Uint8Array {
    return this.signatureBytes === 0 ? this.stored : this.stored.subarray(this.signatureBytes);
  }
}

/**
 * `payload` itself if it spans its whole buffer, else a copy of it. A decoded payload is a view
 * into the socket chunk it arrived in: keeping the view would pin the whole chunk, and the chunk's
 * memory may be reused. A payload that owns its buffer is kept as is, which in the simulator (one
 * array handed from node to node) saves a copy per node per message.
 */
export function ownedPayload(payload: Uint8Array): Uint8Array {
  const ownsBuffer = payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength;
  return ownsBuffer ? payload : new Uint8Array(payload);
}

/**
 * Recent payloads, bounded by age and by total bytes, evicting the oldest first. As in SeenCache,
 * a Map iterates in insertion order and `now` never decreases, so the first slot is the oldest and
 * every eviction is O(1).
 */
export class PayloadCache {
  private readonly slots = new Map<MessageKey, Slot>();
  private readonly maxBytes: number;
  private readonly maxAge: Millis;
  private totalBytes = 0;

  constructor(maxBytes: number, maxAge: Millis) {
    this.maxBytes = maxBytes;
    this.maxAge = maxAge;
  }

  get size(): number {
    return this.slots.size;
  }

  /** Accounted bytes: payloads and signatures plus PAYLOAD_CACHE_ENTRY_OVERHEAD_BYTES per entry. */
  get bytes(): number {
    return this.totalBytes;
  }

  /**
   * Stores a payload under `key`, evicting what is too old and then the oldest until it fits, and
   * returns the stored entry; a payload larger than the whole budget is not stored.
   */
  add(
    key: MessageKey,
    entry: Omit<CachedPayload, 'payload'>,
    payload: Uint8Array,
    now: Millis,
  ): CachedPayload | undefined {
    this.delete(key);
    this.sweep(now);
    const bytes =
      payload.byteLength + (entry.signature?.byteLength ?? 0) + PAYLOAD_CACHE_ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxBytes) return undefined;
    while (this.totalBytes + bytes > this.maxBytes) {
      const oldest = this.slots.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
    const signature = entry.signature;
    let stored: Uint8Array;
    if (signature === undefined) {
      stored = ownedPayload(payload);
    } else {
      stored = new Uint8Array(signature.length + payload.length);
      stored.set(signature, 0);
      stored.set(payload, signature.length);
    }
    const slot = new Slot(
      entry.origin,
      entry.seq,
      entry.hops,
      entry.parent,
      stored,
      signature?.length ?? 0,
      now,
      bytes,
    );
    this.slots.set(key, slot);
    this.totalBytes += bytes;
    return slot;
  }

  /** The entry for `key` unless it is older than the maximum age (even if not yet swept). */
  get(key: MessageKey, now: Millis): CachedPayload | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined || slot.storedAt <= now - this.maxAge) return undefined;
    return slot;
  }

  /** The newest entries stored after `since`, at most `limit` of them, oldest first. */
  storedSince(since: Millis, limit: number): CachedPayload[] {
    const recent: CachedPayload[] = [];
    for (const slot of this.slots.values()) {
      if (slot.storedAt > since) recent.push(slot);
    }
    return recent.length > limit ? recent.slice(recent.length - limit) : recent;
  }

  /** Drops every entry stored more than the maximum age ago. */
  sweep(now: Millis): void {
    const cutoff = now - this.maxAge;
    for (const [key, slot] of this.slots) {
      if (slot.storedAt > cutoff) return;
      this.delete(key);
    }
  }

  private delete(key: MessageKey): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    this.slots.delete(key);
    this.totalBytes -= slot.bytes;
  }
}
