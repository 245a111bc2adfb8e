import { LENGTH_PREFIX_BYTES } from '../codec/index.js';

export type RecordResult =
  | { readonly ok: true; readonly record: Buffer }
  | { readonly ok: false; readonly length: number };

/**
 * Splits a TCP byte stream into records: a u32 big-endian length, then that many bytes. Like the
 * codec's FrameReader, but its limit can change between records: a link still in its handshake
 * accepts only tiny records, so a stranger cannot make us buffer a megabyte before proving anything.
 * A length above the limit is reported as soon as its prefix arrives, and the reader then stops.
 */
export class RecordReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private pendingLength: number | undefined;
  private failed = false;

  constructor(public limit: number) {}

  /** Unconsumed bytes held. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (this.failed || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
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
        return { ok: false, length };
      }
      this.pendingLength = length;
    }
    if (this.buffered < this.pendingLength) return undefined;
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
