import type { Millis, NodeId } from '../types.js';
import type { MessageKey } from './message-id.js';

/** Entries an empty ring has room for; it doubles when full. */
const INITIAL_CAPACITY = 16;

/** Where the stored bytes of one entry are: `length` bytes from `offset` in `slab`. */
export interface StoredBytes {
  readonly slab: Uint8Array;
  readonly offset: number;
  readonly length: number;
  readonly signatureBytes: number;
}

/**
 * The payload cache's entries in arrival order (which is age order), one column per field: a few
 * typed arrays and arrays of shared references instead of one object per entry, so that 10,000
 * cached messages are a handful of objects the garbage collector never has to copy one by one.
 * Entries are numbered by a serial that only grows; the one with serial s sits at s & mask. A
 * deleted entry in the middle leaves a tombstone (no key) until it reaches the front.
 */
export class EntryRing {
  private readonly index = new Map<MessageKey, number>();
  private mask = INITIAL_CAPACITY - 1;
  /** Serial of the oldest entry still in the ring (live or tombstone). */
  private head = 0;
  /** Serial the next entry gets. */
  private tail = 0;
  private keys: (MessageKey | undefined)[] = new Array(INITIAL_CAPACITY).fill(undefined);
  private origins: NodeId[] = new Array(INITIAL_CAPACITY).fill('');
  private parents: (NodeId | undefined)[] = new Array(INITIAL_CAPACITY).fill(undefined);
  private slabs: (Uint8Array | undefined)[] = new Array(INITIAL_CAPACITY).fill(undefined);
  private ids = new Float64Array(INITIAL_CAPACITY);
  private seqs = new Float64Array(INITIAL_CAPACITY);
  private hopCounts = new Float64Array(INITIAL_CAPACITY);
  private storedAts = new Float64Array(INITIAL_CAPACITY);
  private offsets = new Uint32Array(INITIAL_CAPACITY);
  private lengths = new Uint32Array(INITIAL_CAPACITY);
  private signatureLengths = new Uint32Array(INITIAL_CAPACITY);

  /** Live entries. */
  get size(): number {
    return this.index.size;
  }

  /** Live entries plus tombstones. */
  get span(): number {
    return this.tail - this.head;
  }

  /** The serial of `key`'s entry, or -1. */
  serialOf(key: MessageKey): number {
    return this.index.get(key) ?? -1;
  }

  /**
   * The serial of the entry that was given `id` (its first serial, which compact keeps) under
   * `key`, or -1 once it has left the ring or been replaced.
   */
  serialOfEntry(key: MessageKey, id: number): number {
    const serial = this.index.get(key);
    return serial !== undefined && this.ids[serial & this.mask] === id ? serial : -1;
  }

  /** The id of the entry at `serial`: its serial when pushed, kept by compact. */
  idAt(serial: number): number {
    return this.ids[serial & this.mask] as number;
  }

  /** Appends a live entry and returns its serial (also its id, unless `id` is given). */
  push(
    key: MessageKey,
    origin: NodeId,
    seq: number,
    hops: number,
    parent: NodeId | undefined,
    slab: Uint8Array,
    offset: number,
    length: number,
    signatureBytes: number,
    storedAt: Millis,
    id?: number,
  ): number {
    if (this.tail - this.head > this.mask) this.grow();
    const serial = this.tail++;
    const at = serial & this.mask;
    this.ids[at] = id ?? serial;
    this.keys[at] = key;
    this.origins[at] = origin;
    this.parents[at] = parent;
    this.slabs[at] = slab;
    this.seqs[at] = seq;
    this.hopCounts[at] = hops;
    this.storedAts[at] = storedAt;
    this.offsets[at] = offset;
    this.lengths[at] = length;
    this.signatureLengths[at] = signatureBytes;
    this.index.set(key, serial);
    return serial;
  }

  /** Serial of the oldest entry (live or tombstone), if any. */
  oldest(): number | undefined {
    return this.head < this.tail ? this.head : undefined;
  }

  /** Serial of the newest entry (live or tombstone), if any. */
  newest(): number | undefined {
    return this.head < this.tail ? this.tail - 1 : undefined;
  }

  /** Removes the oldest entry, live or tombstone. */
  shift(): void {
    if (this.head === this.tail) return;
    const at = this.head & this.mask;
    const key = this.keys[at];
    if (key !== undefined) this.index.delete(key);
    this.clear(at);
    this.head++;
  }

  /** Makes a live entry a tombstone; its length stays readable until it leaves the ring. */
  kill(serial: number): void {
    const at = serial & this.mask;
    const key = this.keys[at];
    if (key === undefined) return;
    this.index.delete(key);
    this.clear(at);
  }

  isLive(serial: number): boolean {
    return this.keys[serial & this.mask] !== undefined;
  }

  keyAt(serial: number): MessageKey | undefined {
    return this.keys[serial & this.mask];
  }

  originAt(serial: number): NodeId {
    return this.origins[serial & this.mask] as NodeId;
  }

  seqAt(serial: number): number {
    return this.seqs[serial & this.mask] as number;
  }

  hopsAt(serial: number): number {
    return this.hopCounts[serial & this.mask] as number;
  }

  setHops(serial: number, hops: number): void {
    this.hopCounts[serial & this.mask] = hops;
  }

  parentAt(serial: number): NodeId | undefined {
    return this.parents[serial & this.mask];
  }

  setParent(serial: number, parent: NodeId | undefined): void {
    this.parents[serial & this.mask] = parent;
  }

  storedAtOf(serial: number): Millis {
    return this.storedAts[serial & this.mask] as number;
  }

  lengthAt(serial: number): number {
    return this.lengths[serial & this.mask] as number;
  }

  slabAt(serial: number): Uint8Array {
    return this.slabs[serial & this.mask] as Uint8Array;
  }

  offsetAt(serial: number): number {
    return this.offsets[serial & this.mask] as number;
  }

  signatureLengthAt(serial: number): number {
    return this.signatureLengths[serial & this.mask] as number;
  }

  /** Where a live entry's bytes are. */
  storedBytesAt(serial: number): StoredBytes {
    const at = serial & this.mask;
    return {
      slab: this.slabs[at] as Uint8Array,
      offset: this.offsets[at] as number,
      length: this.lengths[at] as number,
      signatureBytes: this.signatureLengths[at] as number,
    };
  }

  /**
   * Drops every tombstone and gives the live entries new serials (each keeps its id), passing
   * each (oldest first) to `relocate`, which may move its bytes.
   */
  compact(relocate: (stored: StoredBytes) => StoredBytes): void {
    const live: number[] = [];
    for (let serial = this.head; serial < this.tail; serial++) if (this.isLive(serial)) live.push(serial);
    const old = new EntryRing();
    // Swap our columns into `old`, and start this ring empty with room for every live entry.
    old.adopt(this);
    let capacity = INITIAL_CAPACITY;
    while (capacity < live.length) capacity *= 2;
    this.allocate(capacity);
    this.head = old.tail;
    this.index.clear();
    for (const serial of live) {
      const moved = relocate(old.storedBytesAt(serial));
      this.push(
        old.keyAt(serial) as MessageKey,
        old.originAt(serial),
        old.seqAt(serial),
        old.hopsAt(serial),
        old.parentAt(serial),
        moved.slab,
        moved.offset,
        moved.length,
        moved.signatureBytes,
        old.storedAtOf(serial),
        old.idAt(serial),
      );
    }
  }

  private adopt(other: EntryRing): void {
    this.mask = other.mask;
    this.head = other.head;
    this.tail = other.tail;
    this.keys = other.keys;
    this.origins = other.origins;
    this.parents = other.parents;
    this.slabs = other.slabs;
    this.seqs = other.seqs;
    this.hopCounts = other.hopCounts;
    this.storedAts = other.storedAts;
    this.offsets = other.offsets;
    this.lengths = other.lengths;
    this.signatureLengths = other.signatureLengths;
    this.ids = other.ids;
  }

  private allocate(capacity: number): void {
    this.mask = capacity - 1;
    this.keys = new Array(capacity).fill(undefined);
    this.origins = new Array(capacity).fill('');
    this.parents = new Array(capacity).fill(undefined);
    this.slabs = new Array(capacity).fill(undefined);
    this.ids = new Float64Array(capacity);
    this.seqs = new Float64Array(capacity);
    this.hopCounts = new Float64Array(capacity);
    this.storedAts = new Float64Array(capacity);
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
    this.signatureLengths = new Uint32Array(capacity);
  }

  /** Doubles the capacity; each entry keeps its serial and moves to serial & the new mask. */
  private grow(): void {
    const old = new EntryRing();
    old.adopt(this);
    this.allocate(2 * (this.mask + 1));
    for (let serial = this.head; serial < this.tail; serial++) {
      const from = serial & old.mask;
      const to = serial & this.mask;
      this.keys[to] = old.keys[from];
      this.origins[to] = old.origins[from] as NodeId;
      this.parents[to] = old.parents[from];
      this.slabs[to] = old.slabs[from];
      this.ids[to] = old.ids[from] as number;
      this.seqs[to] = old.seqs[from] as number;
      this.hopCounts[to] = old.hopCounts[from] as number;
      this.storedAts[to] = old.storedAts[from] as number;
      this.offsets[to] = old.offsets[from] as number;
      this.lengths[to] = old.lengths[from] as number;
      this.signatureLengths[to] = old.signatureLengths[from] as number;
    }
  }

  /** Releases a slot's references (its slab may be freed); its length stays for the accounting. */
  private clear(at: number): void {
    this.keys[at] = undefined;
    this.origins[at] = '';
    this.parents[at] = undefined;
    this.slabs[at] = undefined;
  }
}
