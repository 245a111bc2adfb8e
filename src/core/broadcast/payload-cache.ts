import type { Millis, NodeId } from '../types.js';
import { EntryRing } from './entry-ring.js';
import type { MessageKey } from './message-id.js';
import { PAYLOAD_SLAB_MAX_BYTES, PayloadArena } from './payload-arena.js';

/**
 * Memory of one cached entry beyond its payload bytes, rounded up: its row in the ring's columns,
 * its key and index slot, and its share of the newest slab's unused end. Counting it keeps a flood
 * of tiny payloads bounded as well.
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
 * `payload` itself if it spans its whole buffer, else a copy of it. A decoded payload is a view
 * into the socket chunk it arrived in: keeping the view would pin the whole chunk, and the chunk's
 * memory may be reused. A payload that owns its buffer is kept as is, which in the simulator (one
 * array handed from node to node) saves a copy per node per message.
 */
export function ownedPayload(payload: Uint8Array): Uint8Array {
  return ownsBuffer(payload) ? payload : new Uint8Array(payload);
}

/** Whether `payload` spans its whole buffer (see ownedPayload). */
function ownsBuffer(payload: Uint8Array): boolean {
  return payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength;
}

/**
 * A cached entry as `get` and `add` hand it out: a small object over the cache's columns. Its
 * signature and payload are views into the cache's memory (relays and Graft answers carry them);
 * setting hops or parent changes the cached entry, while it is still cached.
 */
class CachedEntry implements CachedPayload {
  readonly origin: NodeId;
  readonly seq: number;
  private lastHops: number;
  private lastParent: NodeId | undefined;
  /** Where its bytes are: read once, since they never move while this object may be held. */
  private readonly slab: Uint8Array;
  private readonly offset: number;
  private readonly length: number;
  private readonly signatureBytes: number;
  /** Names the entry in the ring however the ring moves it, and never a later entry for the key. */
  private readonly id: number;

  constructor(
    private readonly ring: EntryRing,
    private readonly key: MessageKey,
    serial: number,
  ) {
    this.id = ring.idAt(serial);
    this.origin = ring.originAt(serial);
    this.seq = ring.seqAt(serial);
    this.lastHops = ring.hopsAt(serial);
    this.lastParent = ring.parentAt(serial);
    this.slab = ring.slabAt(serial);
    this.offset = ring.offsetAt(serial);
    this.length = ring.lengthAt(serial);
    this.signatureBytes = ring.signatureLengthAt(serial);
  }

  get hops(): number {
    const serial = this.ring.serialOfEntry(this.key, this.id);
    if (serial >= 0) this.lastHops = this.ring.hopsAt(serial);
    return this.lastHops;
  }

  set hops(hops: number) {
    this.lastHops = hops;
    const serial = this.ring.serialOfEntry(this.key, this.id);
    if (serial >= 0) this.ring.setHops(serial, hops);
  }

  get parent(): NodeId | undefined {
    const serial = this.ring.serialOfEntry(this.key, this.id);
    if (serial >= 0) this.lastParent = this.ring.parentAt(serial);
    return this.lastParent;
  }

  set parent(parent: NodeId | undefined) {
    this.lastParent = parent;
    const serial = this.ring.serialOfEntry(this.key, this.id);
    if (serial >= 0) this.ring.setParent(serial, parent);
  }

  get signature(): Uint8Array | undefined {
    if (this.signatureBytes === 0) return undefined;
    return this.slab.subarray(this.offset, this.offset + this.signatureBytes);
  }

  get payload(): Uint8Array {
    // A payload kept as is (see ownedPayload) is handed out as is.
    if (this.signatureBytes === 0 && this.offset === 0 && this.length === this.slab.byteLength)
      return this.slab;
    return this.slab.subarray(this.offset + this.signatureBytes, this.offset + this.length);
  }
}

/**
 * Recent payloads, bounded by age and by total bytes, evicting the oldest first. Entries arrive in
 * age order (`now` never decreases), so the oldest is at the ring's front and every eviction is
 * O(1). The bytes live in a few large append-only slabs (PayloadArena) and the entries in columns
 * (EntryRing): the cache is a handful of objects however many messages it holds, and a slab is
 * freed once its newest entry has left (and no view handed out still refers to it).
 */
export class PayloadCache {
  private readonly ring = new EntryRing();
  private readonly arena = new PayloadArena();
  private readonly maxBytes: number;
  private readonly maxAge: Millis;
  private readonly compactAfterDeadBytes: number;
  private totalBytes = 0;
  /** Accounted bytes of the replaced entries whose tombstones are still in the ring. */
  private deadBytes = 0;

  /**
   * `compactAfterDeadBytes` (tests lower it, to -Infinity to compact at every replacement) bounds the
   * memory replaced entries keep in the slabs: once they account for that much more than the live
   * ones, the live ones are copied to new slabs, at a cost the replaced bytes have paid for.
   */
  constructor(maxBytes: number, maxAge: Millis, compactAfterDeadBytes = PAYLOAD_SLAB_MAX_BYTES) {
    this.maxBytes = maxBytes;
    this.maxAge = maxAge;
    this.compactAfterDeadBytes = compactAfterDeadBytes;
  }

  get size(): number {
    return this.ring.size;
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
    const { origin, seq, hops, parent, signature } = entry;
    const stored = this.store(key, origin, seq, hops, parent, signature, payload, now);
    return stored < 0 ? undefined : new CachedEntry(this.ring, key, stored);
  }

  /**
   * As `add`, but returns where the entry is (as `locate`; -1 if not stored) rather than an entry
   * object: a relay reads the stored signature and payload through it (signatureAt, payloadAt)
   * without a CachedEntry per message received.
   */
  store(
    key: MessageKey,
    origin: NodeId,
    seq: number,
    hops: number,
    parent: NodeId | undefined,
    signature: Uint8Array | undefined,
    payload: Uint8Array,
    now: Millis,
  ): number {
    this.delete(key);
    this.sweep(now);
    const signatureBytes = signature?.byteLength ?? 0;
    const length = signatureBytes + payload.byteLength;
    const bytes = length + PAYLOAD_CACHE_ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxBytes) return -1;
    while (this.totalBytes + bytes > this.maxBytes && this.ring.size > 0) this.dropOldest();
    let slab: Uint8Array;
    let offset: number;
    if (signatureBytes === 0 && ownsBuffer(payload)) {
      // As in the simulator, where one array goes from node to node: kept, not copied.
      slab = payload;
      offset = 0;
    } else {
      offset = this.arena.append(
        signatureBytes === 0 ? undefined : signature,
        payload,
        this.totalBytes,
        this.maxBytes,
      );
      slab = this.arena.slab;
    }
    const serial = this.ring.push(key, origin, seq, hops, parent, slab, offset, length, signatureBytes, now);
    this.totalBytes += bytes;
    return serial;
  }

  /** The stored signature of the entry `locate` or `store` found (undefined if unsigned). */
  signatureAt(handle: number): Uint8Array | undefined {
    const bytes = this.ring.signatureLengthAt(handle);
    if (bytes === 0) return undefined;
    const offset = this.ring.offsetAt(handle);
    return this.ring.slabAt(handle).subarray(offset, offset + bytes);
  }

  /** The stored payload of the entry `locate` or `store` found: a view of the cache's memory. */
  payloadAt(handle: number): Uint8Array {
    const slab = this.ring.slabAt(handle);
    const offset = this.ring.offsetAt(handle);
    const length = this.ring.lengthAt(handle);
    const signatureBytes = this.ring.signatureLengthAt(handle);
    // A payload kept as is (see ownedPayload) is handed out as is.
    if (signatureBytes === 0 && offset === 0 && length === slab.byteLength) return slab;
    return slab.subarray(offset + signatureBytes, offset + length);
  }

  /** The entry for `key` unless it is older than the maximum age (even if not yet swept). */
  get(key: MessageKey, now: Millis): CachedPayload | undefined {
    const serial = this.ring.serialOf(key);
    if (serial < 0 || this.ring.storedAtOf(serial) <= now - this.maxAge) return undefined;
    return new CachedEntry(this.ring, key, serial);
  }

  /**
   * Where the entry for `key` is, unless it is older than the maximum age (as `get`), else -1. The
   * handle is good until the cache next changes; reading a field or two through it (hopsAt,
   * parentAt) builds no CachedEntry, which matters on the path an IHave for a message we already
   * have takes: most IHave entries are such, and there only these two fields are read.
   */
  locate(key: MessageKey, now: Millis): number {
    const serial = this.ring.serialOf(key);
    if (serial < 0 || this.ring.storedAtOf(serial) <= now - this.maxAge) return -1;
    return serial;
  }

  /** The hop count of the entry `locate` found. */
  hopsAt(handle: number): number {
    return this.ring.hopsAt(handle);
  }

  /** The parent of the entry `locate` found. */
  parentAt(handle: number): NodeId | undefined {
    return this.ring.parentAt(handle);
  }

  /** Sets the hop count and parent of the entry `locate` found. */
  setRouteAt(handle: number, hops: number, parent: NodeId | undefined): void {
    this.ring.setHops(handle, hops);
    this.ring.setParent(handle, parent);
  }

  /** The newest entries stored after `since`, at most `limit` of them, oldest first. */
  storedSince(since: Millis, limit: number): CachedPayload[] {
    const recent: CachedPayload[] = [];
    const oldest = this.ring.oldest();
    const newest = this.ring.newest();
    if (oldest === undefined || newest === undefined) return recent;
    for (let serial = newest; serial >= oldest && recent.length < limit; serial--) {
      if (this.ring.storedAtOf(serial) <= since) break;
      const key = this.ring.keyAt(serial);
      if (key !== undefined) recent.push(new CachedEntry(this.ring, key, serial));
    }
    return recent.reverse();
  }

  /** Drops every entry stored more than the maximum age ago. */
  sweep(now: Millis): void {
    const cutoff = now - this.maxAge;
    for (let serial = this.ring.oldest(); serial !== undefined; serial = this.ring.oldest()) {
      if (this.ring.isLive(serial) && this.ring.storedAtOf(serial) > cutoff) return;
      this.shiftOldest();
    }
  }

  /** Removes the oldest live entry, and the tombstones before it. */
  private dropOldest(): void {
    while (this.ring.size > 0 && !this.shiftOldest()) {}
  }

  /** Removes the ring's first entry (live or a tombstone); says whether it was live. */
  private shiftOldest(): boolean {
    const serial = this.ring.oldest();
    if (serial === undefined) return false;
    const live = this.ring.isLive(serial);
    const bytes = this.ring.lengthAt(serial) + PAYLOAD_CACHE_ENTRY_OVERHEAD_BYTES;
    this.ring.shift();
    if (live) this.totalBytes -= bytes;
    else this.deadBytes -= bytes;
    return live;
  }

  private delete(key: MessageKey): void {
    const serial = this.ring.serialOf(key);
    if (serial < 0) return;
    const bytes = this.ring.lengthAt(serial) + PAYLOAD_CACHE_ENTRY_OVERHEAD_BYTES;
    this.ring.kill(serial);
    this.totalBytes -= bytes;
    this.deadBytes += bytes;
    if (this.deadBytes > this.totalBytes + this.compactAfterDeadBytes) this.compact();
  }

  /** Copies the live entries' bytes to new slabs and drops the tombstones (see constructor). */
  private compact(): void {
    this.arena.retire();
    this.ring.compact((stored) => {
      const ownSlab = stored.offset === 0 && stored.length === stored.slab.byteLength;
      if (ownSlab) return stored;
      const bytes = stored.slab.subarray(stored.offset, stored.offset + stored.length);
      const offset = this.arena.append(undefined, bytes, this.totalBytes, this.maxBytes);
      return { slab: this.arena.slab, offset, length: stored.length, signatureBytes: stored.signatureBytes };
    });
    this.deadBytes = 0;
  }
}
