import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameReader } from '../../src/codec/index.js';
import type { WireMessage } from '../../src/core/messages.js';
import { wireMessageArb } from './arbitraries.js';
import { decodeOk, expectReason } from './helpers.js';

/** Drains every complete frame body; fails the test on an error. */
function drain(reader: FrameReader): Buffer[] {
  const bodies: Buffer[] = [];
  for (let frame = reader.next(); frame !== undefined; frame = reader.next()) {
    if (!frame.ok) throw frame.error;
    bodies.push(frame.value);
  }
  return bodies;
}

/** Cuts `bytes` at the given offsets (any order, duplicates allowed) into consecutive chunks. */
function split(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

function prefix(length: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(length);
  return bytes;
}

describe('FrameReader reassembly', () => {
  it('yields the same messages for any split of a stream of frames', () => {
    fc.assert(
      fc.property(
        fc.array(wireMessageArb, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (messages, cuts) => {
          const reader = new FrameReader(DEFAULT_MAX_FRAME_BYTES);
          const received: WireMessage[] = [];
          for (const chunk of split(Buffer.concat(messages.map(encodeFrame)), cuts)) {
            reader.push(chunk);
            for (const body of drain(reader)) received.push(decodeOk(body));
          }
          expect(received).toEqual(messages);
          expect(reader.buffered).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('hands out frames inside one chunk as views of it (zero copy)', () => {
    const count = 10_000;
    const chunk = Buffer.concat(Array.from({ length: count }, () => encodeFrame({ type: 'ping' })));
    const reader = new FrameReader(DEFAULT_MAX_FRAME_BYTES);
    reader.push(chunk);
    const bodies = drain(reader);
    expect(bodies).toHaveLength(count);
    expect(bodies.every((body) => body.buffer === chunk.buffer)).toBe(true);
    expect(bodies.every((body) => decodeOk(body).type === 'ping')).toBe(true);
  });

  it('assembles a large frame fed one byte at a time, yielding nothing before its last byte', () => {
    const payload = Uint8Array.from({ length: 20_000 }, (_, i) => i % 251);
    const message: WireMessage = { type: 'gossip', origin: '11'.repeat(32), seq: 7, hops: 2, payload };
    const frame = encodeFrame(message);
    const reader = new FrameReader(DEFAULT_MAX_FRAME_BYTES);
    let yieldedEarly = 0;
    for (let i = 0; i < frame.length - 1; i++) {
      reader.push(frame.subarray(i, i + 1));
      yieldedEarly += drain(reader).length;
    }
    expect(yieldedEarly).toBe(0);
    reader.push(frame.subarray(frame.length - 1));
    expect(drain(reader).map(decodeOk)).toEqual([message]);
    expect(reader.buffered).toBe(0);
  });

  it('yields an empty body for a zero length prefix and leaves judging it to decodeBody', () => {
    const reader = new FrameReader(16);
    reader.push(prefix(0));
    expect(reader.next()).toEqual({ ok: true, value: Buffer.alloc(0) });
    expect(reader.next()).toBeUndefined();
  });

  it('ignores empty chunks', () => {
    const reader = new FrameReader(16);
    reader.push(Buffer.alloc(0));
    expect(reader.next()).toBeUndefined();
    expect(reader.buffered).toBe(0);
  });
});

describe('FrameReader limit', () => {
  it('accepts a frame of exactly the limit', () => {
    const reader = new FrameReader(3);
    reader.push(Buffer.concat([prefix(3), Buffer.from([1, 2, 3])]));
    expect(reader.next()).toEqual({ ok: true, value: Buffer.from([1, 2, 3]) });
  });

  it('reports an oversize prefix as soon as its four bytes arrive, even one byte at a time', () => {
    const reader = new FrameReader(1000);
    const bytes = prefix(1001);
    for (let i = 0; i < 3; i++) {
      reader.push(bytes.subarray(i, i + 1));
      expect(reader.next()).toBeUndefined();
    }
    reader.push(bytes.subarray(3));
    const result = reader.next();
    expect(result).toBeDefined();
    if (result) expectReason(result, 'oversize');
    expect(reader.error?.reason).toBe('oversize');
  });

  it('lets go of consumed chunks while a frame is always left incomplete, so that memory stays bounded', () => {
    const reader = new FrameReader();
    const frame = encodeFrame({ type: 'join' });
    const count = 2_000;
    const stream = Buffer.concat(Array.from({ length: count }, () => frame));
    // Every chunk ends halfway through a frame: the reader never runs out of buffered bytes.
    const half = Math.floor(frame.length / 2);
    const cuts = Array.from({ length: count }, (_, i) => i * frame.length + half);
    const chunks = split(stream, cuts);
    let frames = 0;
    // All but the last chunk, which would complete the last frame and empty the reader.
    for (const chunk of chunks.slice(0, -1)) {
      reader.push(chunk);
      frames += drain(reader).length;
    }
    expect(frames).toBe(count - 1);
    // Read from its private state: a chunk list holding every chunk ever pushed shows in no result.
    const held = (reader as unknown as { chunks: Buffer[] }).chunks.length;
    expect(held).toBeLessThan(200);
  });

  it('delivers the frames before an oversize prefix, then fails for good and buffers nothing more', () => {
    const reader = new FrameReader(DEFAULT_MAX_FRAME_BYTES);
    const good = encodeFrame({ type: 'join' });
    reader.push(Buffer.concat([good, good, prefix(DEFAULT_MAX_FRAME_BYTES + 1), Buffer.alloc(100)]));
    expect(reader.next()).toMatchObject({ ok: true });
    expect(reader.next()).toMatchObject({ ok: true });
    const failure = reader.next();
    expect(failure).toMatchObject({ ok: false });
    if (failure) expectReason(failure, 'oversize');
    expect(reader.buffered).toBe(0);
    reader.push(good);
    expect(reader.buffered).toBe(0);
    expect(reader.next()).toBeUndefined();
  });

  it('rejects a limit a u32 prefix cannot express', () => {
    expect(() => new FrameReader(-1)).toThrow(RangeError);
    expect(() => new FrameReader(2 ** 32)).toThrow(RangeError);
    expect(() => new FrameReader(1.5)).toThrow(RangeError);
  });

  it('DEFAULT_MAX_FRAME_BYTES is 1 MiB of payload plus 1 KiB of headers', () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(1024 * 1024 + 1024);
  });
});
