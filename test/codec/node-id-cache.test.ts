import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeNodeId, encodeNodeId, NODE_ID_CACHE_SLOTS } from '../../src/codec/node-id-cache.js';

const ID_BYTES = 32;

describe('decodeNodeId', () => {
  it('always gives the hex of the bytes, whatever was cached in the same slot before', () => {
    // Few distinct first bytes, so that ids keep colliding in the cache's slots.
    const idBytes = fc
      .uint8Array({ minLength: ID_BYTES - 1, maxLength: ID_BYTES - 1 })
      .chain((rest) =>
        fc.constantFrom(0, 1, NODE_ID_CACHE_SLOTS - 1).map((first) => Buffer.from([first, ...rest])),
      );
    fc.assert(
      fc.property(fc.array(fc.tuple(idBytes, fc.nat(16)), { minLength: 1, maxLength: 40 }), (ids) => {
        for (const [bytes, padding] of ids) {
          const buffer = Buffer.concat([Buffer.alloc(padding, 0xee), bytes, Buffer.alloc(3, 0xdd)]);
          expect(decodeNodeId(buffer, padding)).toBe(bytes.toString('hex'));
        }
      }),
    );
  });

  it('is not fooled by ids that differ only in their last byte', () => {
    const a = Buffer.alloc(ID_BYTES, 7);
    const b = Buffer.from(a);
    b[ID_BYTES - 1] = 8;
    expect(decodeNodeId(a, 0)).toBe(a.toString('hex'));
    expect(decodeNodeId(b, 0)).toBe(b.toString('hex'));
    expect(decodeNodeId(a, 0)).toBe(a.toString('hex'));
  });

  it('does not keep a view of the decoded buffer: later changes to it do not leak into the cache', () => {
    const buffer = Buffer.alloc(ID_BYTES, 0x42);
    const id = decodeNodeId(buffer, 0);
    buffer.fill(0x43);
    expect(decodeNodeId(buffer, 0)).toBe(buffer.toString('hex'));
    expect(decodeNodeId(Buffer.alloc(ID_BYTES, 0x42), 0)).toBe(id);
  });

  it('keeps its own copy of the bytes: memory reused for another id does not yield the old id', () => {
    const buffer = Buffer.alloc(ID_BYTES, 0x5a); // a slot no other test here fills with this id
    decodeNodeId(buffer, 0);
    // Same first byte, so the same slot: a cache that kept a view of `buffer` would now hold these bytes.
    const other = Buffer.alloc(ID_BYTES, 0x5a);
    other[ID_BYTES - 1] = 0x5b;
    other.copy(buffer);
    expect(decodeNodeId(Buffer.from(other), 0)).toBe(other.toString('hex'));
  });
});

describe('encodeNodeId', () => {
  it('writes the bytes of any id, cached or not, and only those 32 bytes', () => {
    const idBytes = fc.uint8Array({ minLength: ID_BYTES, maxLength: ID_BYTES });
    fc.assert(
      fc.property(fc.array(fc.tuple(idBytes, fc.boolean()), { minLength: 1, maxLength: 30 }), (ids) => {
        for (const [bytes, decodeFirst] of ids) {
          const id = decodeFirst ? decodeNodeId(Buffer.from(bytes), 0) : Buffer.from(bytes).toString('hex');
          const out = Buffer.alloc(ID_BYTES + 2, 0xee);
          encodeNodeId(id, out, 1);
          expect(out.subarray(1, 1 + ID_BYTES)).toEqual(Buffer.from(bytes));
          expect([out[0], out[ID_BYTES + 1]]).toEqual([0xee, 0xee]);
        }
      }),
    );
  });

  it('refuses what is not a lower-case 64-digit hex id, even in a slot a real id occupies', () => {
    const bytes = Buffer.alloc(ID_BYTES, 0xab);
    const id = decodeNodeId(bytes, 0);
    for (const bad of [id.toUpperCase(), id.slice(1), `${id.slice(0, 63)}g`, `${id}0`]) {
      expect(() => encodeNodeId(bad, Buffer.alloc(40), 0)).toThrow(TypeError);
    }
  });
});
