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

/** The numeric fields of an entry: its row in `numbers` holds them at these offsets. */
const ID = 0;
const SEQ = 1;
/** Hop count and time stored side by side: an IHave for a cached message reads both. */
const HOPS = 2;
const STORED_AT = 3;
const OFFSET = 4;
const LENGTH = 5;
const SIGNATURE_LENGTH = 6;
const NUMBER_FIELDS = 7;

/** The reference fields of an entry: its row in `refs` holds them at these offsets. */
const KEY = 0;
const ORIGIN = 1;
const PARENT = 2;
const SLAB = 3;
const REF_FIELDS = 4;

type Ref = MessageKey | NodeId | Uint8Array | undefined;

/**
 * The payload cache's entries in arrival order (which is age order), one row per entry in two
 * tables: a Float64Array of the numbers and an array of the references, instead of one object per
 * entry, so that 10,000 cached messages are a handful of objects the garbage collector never has
 * to copy one by one. Rows rather than one column per field, because reading an entry then costs
 * one or two cache lines instead of one per field: at 10,000 simulated nodes each is a miss.
 * Entries are numbered by a serial that only grows; the one with serial s sits in row s & mask. A
 * deleted entry in the middle leaves a tombstone (no key) until it reaches the front.
 */
export class EntryRing {
  private readonly index = new Map<MessageKey, number>();
  private mask = INITIAL_CAPACITY - 1;
  /** Serial of the oldest entry still in the ring (live or tombstone). */
  private head = 0;
  /** Serial the next entry gets. */
  private tail = 0;
  private numbers = new Float64Array(INITIAL_CAPACITY * NUMBER_FIELDS);
  private refs: Ref[] = new Array(INITIAL_CAPACITY * REF_FIELDS).fill(undefined);

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
    return serial !== undefined && this.number(serial, ID) === id ? serial : -1;
  }

  /** The id of the entry at `serial`: its serial when pushed, kept by compact. */
  idAt(serial: number): number {
    return this.number(serial, ID);
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
    const row = (serial & this.mask) * NUMBER_FIELDS;
    const numbers = this.numbers;
    numbers[row + ID] = id ?? serial;
    numbers[row + SEQ] = seq;
    numbers[row + HOPS] = hops;
    numbers[row + STORED_AT] = storedAt;
    numbers[row + OFFSET] = offset;
    numbers[row + LENGTH] = length;
    numbers[row + SIGNATURE_LENGTH] = signatureBytes;
    const refRow = (serial & this.mask) * REF_FIELDS;
    const refs = this.refs;
    refs[refRow + KEY] = key;
    refs[refRow + ORIGIN] = origin;
    refs[refRow + PARENT] = parent;
    refs[refRow + SLAB] = slab;
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
    const key = this.keyAt(this.head);
    if (key !== undefined) this.index.delete(key);
    this.clear(this.head);
    this.head++;
  }

  /** Makes a live entry a tombstone; its length stays readable until it leaves the ring. */
  kill(serial: number): void {
    const key = this.keyAt(serial);
    if (key === undefined) return;
    this.index.delete(key);
    this.clear(serial);
  }

  isLive(serial: number): boolean {
    return this.keyAt(serial) !== undefined;
  }

  keyAt(serial: number): MessageKey | undefined {
    return this.ref(serial, KEY) as MessageKey | undefined;
  }

  originAt(serial: number): NodeId {
    return this.ref(serial, ORIGIN) as NodeId;
  }

  seqAt(serial: number): number {
    return this.number(serial, SEQ);
  }

  hopsAt(serial: number): number {
    return this.number(serial, HOPS);
  }

  setHops(serial: number, hops: number): void {
    this.numbers[(serial & this.mask) * NUMBER_FIELDS + HOPS] = hops;
  }

  parentAt(serial: number): NodeId | undefined {
    return this.ref(serial, PARENT) as NodeId | undefined;
  }

  setParent(serial: number, parent: NodeId | undefined): void {
    this.refs[(serial & this.mask) * REF_FIELDS + PARENT] = parent;
  }

  storedAtOf(serial: number): Millis {
    return this.number(serial, STORED_AT);
  }

  lengthAt(serial: number): number {
    return this.number(serial, LENGTH);
  }

  slabAt(serial: number): Uint8Array {
    return this.ref(serial, SLAB) as Uint8Array;
  }

  offsetAt(serial: number): number {
    return this.number(serial, OFFSET);
  }

  signatureLengthAt(serial: number): number {
    return this.number(serial, SIGNATURE_LENGTH);
  }

  /** Where a live entry's bytes are. */
  storedBytesAt(serial: number): StoredBytes {
    return {
      slab: this.slabAt(serial),
      offset: this.offsetAt(serial),
      length: this.lengthAt(serial),
      signatureBytes: this.signatureLengthAt(serial),
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
    // Swap our tables into `old`, and start this ring empty with room for every live entry.
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

  private number(serial: number, field: number): number {
    return this.numbers[(serial & this.mask) * NUMBER_FIELDS + field] as number;
  }

  private ref(serial: number, field: number): Ref {
    return this.refs[(serial & this.mask) * REF_FIELDS + field];
  }

  private adopt(other: EntryRing): void {
    this.mask = other.mask;
    this.head = other.head;
    this.tail = other.tail;
    this.numbers = other.numbers;
    this.refs = other.refs;
  }

  private allocate(capacity: number): void {
    this.mask = capacity - 1;
    this.numbers = new Float64Array(capacity * NUMBER_FIELDS);
    this.refs = new Array(capacity * REF_FIELDS).fill(undefined);
  }

  /** Doubles the capacity; each entry keeps its serial and moves to row serial & the new mask. */
  private grow(): void {
    const oldNumbers = this.numbers;
    const oldRefs = this.refs;
    const oldMask = this.mask;
    this.allocate(2 * (oldMask + 1));
    for (let serial = this.head; serial < this.tail; serial++) {
      const from = serial & oldMask;
      const to = serial & this.mask;
      // Field by field, as the refs: a subarray per row made a view for every entry moved.
      for (let field = 0; field < NUMBER_FIELDS; field++) {
        this.numbers[to * NUMBER_FIELDS + field] = oldNumbers[from * NUMBER_FIELDS + field] as number;
      }
      for (let field = 0; field < REF_FIELDS; field++) {
        this.refs[to * REF_FIELDS + field] = oldRefs[from * REF_FIELDS + field];
      }
    }
  }

  /** Releases a row's references (its slab may be freed); its length stays for the accounting. */
  private clear(serial: number): void {
    const refRow = (serial & this.mask) * REF_FIELDS;
    this.refs[refRow + KEY] = undefined;
    this.refs[refRow + ORIGIN] = '';
    this.refs[refRow + PARENT] = undefined;
    this.refs[refRow + SLAB] = undefined;
  }
}
