import { LENGTH_PREFIX_BYTES } from '../codec/index.js';

export type RecordResult =
  | { readonly ok: true; readonly record: Buffer }
  | { readonly ok: false; readonly length: number };

/**
 * Splits a TCP byte stream into records: a u32 big-endian length, then that many bytes. Its limit
 * can change between records: a link still in its handshake accepts only tiny records, so a
 * stranger cannot make us buffer a megabyte before proving anything. A length above the limit is
 * reported as soon as its prefix arrives, and the reader then stops.
 */
/** The first room given to a record being assembled (see growAssembly). */
const ASSEMBLY_MIN_BYTES = 16 * 1024;

export class RecordReader {
  private chunks: Buffer[] = [];
  /**
   * Bytes at the front of chunks[0] already taken. Moving this, rather than replacing the chunk
   * with a view of its rest, saves a view per take (two per record).
   */
  private head = 0;
  private buffered = 0;
  private pendingLength: number | undefined;
  private failed = false;
  /**
   * The record whose length is known but whose bytes have not all come, copied in as they arrive.
   * Keeping the chunks instead cost a heap object each and a shift per chunk at the end: a peer
   * sending a large record a byte per segment held the event loop for seconds (150,000 chunks:
   * 9.4 s) and took ~200 bytes of heap per byte sent.
   */
  private assembling: Buffer | undefined;
  private assembled = 0;

  constructor(public limit: number) {}

  /** Unconsumed bytes held. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Bytes of memory held: the chunks, and the room taken for the record being assembled. */
  get heldBytes(): number {
    let bytes = this.assembling?.length ?? 0;
    for (const chunk of this.chunks) bytes += chunk.length;
    return bytes - this.head;
  }

  /** Buffers held (the record being assembled counts as one): a few, however the bytes arrive. */
  get heldBuffers(): number {
    return this.chunks.length + (this.assembling === undefined ? 0 : 1);
  }

  push(chunk: Buffer): void {
    if (this.failed || chunk.length === 0) return;
    this.buffered += chunk.length;
    let record = this.assembling;
    if (record === undefined) {
      this.chunks.push(chunk);
      return;
    }
    const wanted = Math.min(chunk.length, (this.pendingLength as number) - this.assembled);
    if (this.assembled + wanted > record.length) record = this.growAssembly(this.assembled + wanted);
    const copied = chunk.copy(record, this.assembled, 0, wanted);
    this.assembled += copied;
    if (copied < chunk.length) this.chunks.push(chunk.subarray(copied));
  }

  /**
   * Room for at least `bytes` of the record: doubling, at most its length. Memory follows what has
   * arrived (at most twice that, or ASSEMBLY_MIN_BYTES), not what the length prefix announced.
   */
  private growAssembly(bytes: number): Buffer {
    const old = this.assembling as Buffer;
    const grown = Buffer.allocUnsafe(Math.min(this.pendingLength as number, Math.max(2 * old.length, bytes)));
    old.copy(grown, 0, 0, this.assembled);
    this.assembling = grown;
    return grown;
  }

  /** The next complete record, an oversize report (once, then nothing), or undefined if more input is needed. */
  next(): RecordResult | undefined {
    if (this.failed) return undefined;
    if (this.pendingLength === undefined) {
      if (this.buffered < LENGTH_PREFIX_BYTES) return undefined;
      const length = this.takeLength();
      if (length > this.limit) {
        this.failed = true;
        this.chunks = [];
        this.head = 0;
        this.buffered = 0;
        this.assembling = undefined;
        return { ok: false, length };
      }
      this.pendingLength = length;
    }
    const assembling = this.assembling;
    if (assembling !== undefined) {
      if (this.assembled < (this.pendingLength as number)) return undefined;
      this.assembling = undefined;
      this.buffered -= assembling.length;
      this.pendingLength = undefined;
      return { ok: true, record: assembling };
    }
    if (this.buffered < this.pendingLength) {
      // Every byte held belongs to this record: gather them, and copy the rest in as it comes.
      const record = Buffer.allocUnsafe(
        Math.min(this.pendingLength, Math.max(2 * this.buffered, ASSEMBLY_MIN_BYTES)),
      );
      let offset = 0;
      for (let i = 0; i < this.chunks.length; i++) {
        offset += (this.chunks[i] as Buffer).copy(record, offset, i === 0 ? this.head : 0);
      }
      this.chunks = [];
      this.head = 0;
      this.assembling = record;
      this.assembled = offset;
      return undefined;
    }
    const record = this.take(this.pendingLength);
    this.pendingLength = undefined;
    return { ok: true, record };
  }

  /** Consumes the length prefix: read where it lies when the first chunk holds all of it. */
  private takeLength(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length - this.head < LENGTH_PREFIX_BYTES) return this.take(LENGTH_PREFIX_BYTES).readUInt32BE(0);
    const length = first.readUInt32BE(this.head);
    this.buffered -= LENGTH_PREFIX_BYTES;
    this.head += LENGTH_PREFIX_BYTES;
    if (this.head === first.length) {
      this.chunks.shift();
      this.head = 0;
    }
    return length;
  }

  /** Consumes `length` buffered bytes: a view when the first chunk holds them all, else one copy. */
  private take(length: number): Buffer {
    this.buffered -= length;
    const first = this.chunks[0];
    if (first === undefined || length === 0) return Buffer.alloc(0);
    const start = this.head;
    const rest = first.length - start;
    if (length < rest) {
      this.head = start + length;
      return first.subarray(start, start + length);
    }
    if (length === rest) {
      this.chunks.shift();
      this.head = 0;
      return start === 0 ? first : first.subarray(start);
    }
    const out = Buffer.allocUnsafe(length);
    let written = 0;
    while (written < length) {
      const chunk = this.chunks[0] as Buffer;
      const wanted = length - written;
      if (chunk.length - this.head <= wanted) {
        written += chunk.copy(out, written, this.head);
        this.chunks.shift();
        this.head = 0;
      } else {
        chunk.copy(out, written, this.head, this.head + wanted);
        this.head += wanted;
        written += wanted;
      }
    }
    return out;
  }
}
