import { DecodeError, type DecodeResult } from './errors.js';
import { U32_MAX } from './field-limits.js';
import { LENGTH_PREFIX_BYTES } from './wire-format.js';

/** Largest application payload one gossip message may carry. */
export const MAX_APPLICATION_PAYLOAD_BYTES = 1024 * 1024;

/**
 * Default limit on a frame's length prefix: a 1 MiB application payload plus 1 KiB of headroom for
 * the gossip header (version, type, origin, seq, hops, signature, payload length: 112 bytes today) and any field
 * a later version adds. Anything larger is a broken or hostile peer.
 */
export const DEFAULT_MAX_FRAME_BYTES = MAX_APPLICATION_PAYLOAD_BYTES + 1024;

/**
 * Above this many consumed slots at the front of the chunk list, drop them; keeps consumption
 * amortised O(1) per chunk without Array.shift on every chunk.
 */
const COMPACT_AFTER_CHUNKS = 64;

/**
 * Streaming de-framer for a TCP byte stream. After every push, call next() until it returns
 * undefined: each result is either a frame body for decodeBody or the error to close the link on.
 *
 * Chunks are kept in a list and only the frame being completed is ever copied, and only when it
 * spans chunks; a frame inside one chunk is handed out as a subarray of it (zero copy, so callers
 * must not mutate pushed chunks, and a small frame kept for long should be copied so as not to
 * pin its whole chunk). A length prefix above the limit is reported by the first next()
 * after its 4 bytes arrive, without waiting for the body; the reader then stays failed:
 * it drops its buffer, ignores further input and yields nothing more, because the stream can no
 * longer be resynchronised.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  /** Index in `chunks` of the first chunk with unread bytes. */
  private firstChunk = 0;
  /** Bytes of chunks[firstChunk] already consumed. */
  private firstChunkOffset = 0;
  private bufferedBytes = 0;
  /** Body length announced by a prefix already consumed, while waiting for that body. */
  private pendingBodyBytes: number | undefined;
  private failedWith: DecodeError | undefined;

  constructor(readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 0 || maxFrameBytes > U32_MAX) {
      throw new RangeError(`maxFrameBytes must be an integer in [0, ${U32_MAX}], got ${maxFrameBytes}`);
    }
  }

  /** Unconsumed bytes held, for tests and metrics. */
  get buffered(): number {
    return this.bufferedBytes;
  }

  /** The error that stopped this reader, if any. */
  get error(): DecodeError | undefined {
    return this.failedWith;
  }

  push(chunk: Buffer): void {
    if (this.failedWith !== undefined || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
  }

  /**
   * The next complete frame body (the bytes after the length prefix), an 'oversize' error once,
   * or undefined when more input is needed (or after the error).
   */
  next(): DecodeResult<Buffer> | undefined {
    if (this.failedWith !== undefined) return undefined;
    if (this.pendingBodyBytes === undefined) {
      if (this.bufferedBytes < LENGTH_PREFIX_BYTES) return undefined;
      const length = this.take(LENGTH_PREFIX_BYTES).readUInt32BE(0);
      if (length > this.maxFrameBytes) return { ok: false, error: this.fail(length) };
      this.pendingBodyBytes = length;
    }
    if (this.bufferedBytes < this.pendingBodyBytes) return undefined;
    const body = this.take(this.pendingBodyBytes);
    this.pendingBodyBytes = undefined;
    return { ok: true, value: body };
  }

  private fail(length: number): DecodeError {
    this.failedWith = new DecodeError('oversize', `frame of ${length} bytes, limit ${this.maxFrameBytes}`);
    this.chunks = [];
    this.firstChunk = 0;
    this.firstChunkOffset = 0;
    this.bufferedBytes = 0;
    return this.failedWith;
  }

  /** Consumes `length` buffered bytes: a view if one chunk holds them all, else one copy. */
  private take(length: number): Buffer {
    this.bufferedBytes -= length;
    const first = this.chunks[this.firstChunk];
    if (first === undefined || length === 0) return Buffer.alloc(0);
    const start = this.firstChunkOffset;
    if (start + length <= first.length) {
      this.firstChunkOffset += length;
      if (this.firstChunkOffset === first.length) this.advanceChunk();
      return first.subarray(start, start + length);
    }
    const out = Buffer.allocUnsafe(length);
    let written = 0;
    while (written < length) {
      const chunk = this.chunks[this.firstChunk]!;
      const copied = chunk.copy(
        out,
        written,
        this.firstChunkOffset,
        Math.min(chunk.length, this.firstChunkOffset + length - written),
      );
      written += copied;
      this.firstChunkOffset += copied;
      if (this.firstChunkOffset === chunk.length) this.advanceChunk();
    }
    return out;
  }

  private advanceChunk(): void {
    this.firstChunk += 1;
    this.firstChunkOffset = 0;
    if (this.firstChunk === this.chunks.length) {
      this.chunks = [];
      this.firstChunk = 0;
    } else if (this.firstChunk >= COMPACT_AFTER_CHUNKS && this.firstChunk * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.firstChunk);
      this.firstChunk = 0;
    }
  }
}
