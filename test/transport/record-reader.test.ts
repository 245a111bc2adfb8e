import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordReader } from '../../src/transport/record-reader.js';

/** The records, each with its u32 big-endian length in front, as one stream. */
function stream(records: readonly Uint8Array[]): Buffer {
  return Buffer.concat(
    records.flatMap((record) => {
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(record.length);
      return [prefix, Buffer.from(record)];
    }),
  );
}

/** Feeds `bytes` cut at `cuts`, reading records after each piece as a link does. */
function readAll(reader: RecordReader, bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (const end of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    reader.push(bytes.subarray(start, end));
    start = end;
    for (let result = reader.next(); result !== undefined; result = reader.next()) {
      if (!result.ok) throw new Error(`oversize ${result.length}`);
      out.push(Buffer.from(result.record));
    }
  }
  return out;
}

describe('RecordReader', () => {
  it('gives back every record, whatever the segments the stream arrived in', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
        fc.array(fc.nat(4_000), { maxLength: 40 }),
        (records, cuts) => {
          const bytes = stream(records);
          const read = readAll(new RecordReader(1_000), bytes, cuts);
          expect(read.map((r) => [...r])).toEqual(records.map((r) => [...r]));
        },
      ),
    );
  });

  it('holds a record sent a byte per segment in one buffer, not a buffer per byte', () => {
    const record = Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 251));
    const bytes = stream([record, Buffer.from('next')]);
    const reader = new RecordReader(100_000);
    let held = 0;
    const out: Buffer[] = [];
    for (let i = 0; i < bytes.length; i++) {
      reader.push(bytes.subarray(i, i + 1));
      held = Math.max(held, reader.heldBuffers);
      for (let result = reader.next(); result?.ok; result = reader.next()) out.push(result.record);
    }
    expect(held).toBeLessThanOrEqual(4);
    expect(out).toEqual([record, Buffer.from('next')]);
    expect(reader.bufferedBytes).toBe(0);
  });

  it('takes memory as the bytes of a record arrive, not as its length prefix announces', () => {
    const reader = new RecordReader(2 * 1024 * 1024);
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(1024 * 1024);
    reader.push(prefix);
    for (let i = 0; i < 10; i++) {
      reader.push(Buffer.from([i]));
      expect(reader.next()).toBeUndefined();
    }
    expect(reader.heldBytes).toBeLessThanOrEqual(64 * 1024);
    reader.push(Buffer.alloc(1024 * 1024 - 10, 7));
    const result = reader.next();
    expect(result?.ok && result.record.length).toBe(1024 * 1024);
    expect(result?.ok && [...result.record.subarray(0, 11)]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 7]);
  });

  it('counts as held only what it has not handed out of a chunk yet', () => {
    const reader = new RecordReader(100);
    reader.push(stream([Buffer.alloc(10, 1), Buffer.alloc(20, 2)]));
    expect(reader.heldBytes).toBe(4 + 10 + 4 + 20);
    const first = reader.next();
    expect(first?.ok && [...first.record]).toEqual(Array(10).fill(1));
    expect(reader.heldBytes).toBe(4 + 20);
    const second = reader.next();
    expect(second?.ok && [...second.record]).toEqual(Array(20).fill(2));
    expect(reader.heldBytes).toBe(0);
  });

  it('reports a length above the limit once, as soon as its prefix arrives, then reads nothing', () => {
    const reader = new RecordReader(10);
    reader.push(stream([Buffer.alloc(11)]).subarray(0, 4));
    expect(reader.next()).toEqual({ ok: false, length: 11 });
    reader.push(Buffer.alloc(20));
    expect(reader.next()).toBeUndefined();
    expect(reader.bufferedBytes).toBe(0);
  });

  it('lets go of what it holds once it has reported an oversize length', () => {
    const reader = new RecordReader(10);
    reader.push(Buffer.concat([stream([Buffer.alloc(11)]).subarray(0, 4), Buffer.alloc(100)]));
    expect(reader.next()).toEqual({ ok: false, length: 11 });
    expect(reader.heldBytes).toBe(0);
  });
});
