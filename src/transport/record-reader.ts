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
    return bytes;
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
      const length = this.take(LENGTH_PREFIX_BYTES).readUInt32BE(0);
      if (length > this.limit) {
        this.failed = true;
        this.chunks = [];
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
      for (const chunk of this.chunks) offset += chunk.copy(record, offset);
      this.chunks = [];
      this.assembling = record;
      this.assembled = offset;
      return undefined;
    }
    const record = this.take(this.pendingLength);
    this.pendingLength = undefined;
    return { ok: true, record };
  }

  /** Consumes `length` buffered bytes: a view when the first chunk holds them all, else one copy. */
  private take(length: number): Buffer {
    this.buffered -= length;
    const first = this.chunks[0];
    if (first === undefined || length === 0) return Buffer.alloc(0);
    if (length < first.length) {
      this.chunks[0] = first.subarray(length);
      return first.subarray(0, length);
    }
    if (length === first.length) {
      this.chunks.shift();
      return first;
    }
    const out = Buffer.allocUnsafe(length);
    let written = 0;
    while (written < length) {
      const chunk = this.chunks[0] as Buffer;
      const wanted = length - written;
      if (chunk.length <= wanted) {
        chunk.copy(out, written);
        written += chunk.length;
        this.chunks.shift();
      } else {
        chunk.copy(out, written, 0, wanted);
        this.chunks[0] = chunk.subarray(wanted);
        written += wanted;
      }
    }
    return out;
  }
}
