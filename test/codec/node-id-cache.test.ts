import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeNodeId, NODE_ID_CACHE_SLOTS } from '../../src/codec/node-id-cache.js';

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
});
