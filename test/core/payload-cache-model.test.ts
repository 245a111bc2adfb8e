import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PAYLOAD_SLAB_MAX_BYTES,
  PAYLOAD_SLAB_MIN_BYTES,
  PayloadArena,
} from '../../src/core/broadcast/payload-arena.js';
import {
  type CachedPayload,
  PAYLOAD_CACHE_ENTRY_OVERHEAD_BYTES,
  PayloadCache,
} from '../../src/core/broadcast/payload-cache.js';

/** What the cache should hold for one key: the reference model is a Map in insertion order. */
interface ModelEntry {
  readonly origin: string;
  readonly seq: number;
  hops: number;
  parent: string | undefined;
  readonly signature: Uint8Array | undefined;
  readonly payload: Uint8Array;
  readonly storedAt: number;
  readonly cost: number;
}

type Op =
  | {
      kind: 'add';
      key: number;
      size: number;
      signed: boolean;
      /** A view into a larger buffer (as decoded from a socket) rather than an array of its own. */
      view: boolean;
      dt: number;
    }
  | { kind: 'get'; key: number; dt: number }
  | { kind: 'reparent'; key: number; hops: number; parent: number }
  | { kind: 'sweep'; dt: number }
  | { kind: 'since'; back: number; limit: number };

const MAX_AGE = 1_000;

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      key: fc.integer({ min: 0, max: 12 }),
      size: fc.integer({ min: 0, max: 700 }),
      signed: fc.boolean(),
      view: fc.boolean(),
      dt: fc.integer({ min: 0, max: 150 }),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('get' as const),
      key: fc.integer({ min: 0, max: 12 }),
      dt: fc.integer({ min: 0, max: 50 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('reparent' as const),
      key: fc.integer({ min: 0, max: 12 }),
      hops: fc.integer({ min: 0, max: 20 }),
      parent: fc.integer({ min: 0, max: 3 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('sweep' as const), dt: fc.integer({ min: 0, max: 400 }) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('since' as const),
      back: fc.integer({ min: 0, max: 1_200 }),
      limit: fc.integer({ min: 1, max: 6 }),
    }),
    weight: 1,
  },
);

/** Distinct content per add, so that a view into the wrong bytes shows. */
function content(length: number, stamp: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (stamp * 31 + i) & 0xff;
  return bytes;
}

function expectSame(actual: CachedPayload | undefined, expected: ModelEntry | undefined): void {
  if (expected === undefined) {
    expect(actual).toBeUndefined();
    return;
  }
  expect(actual).toBeDefined();
  if (actual === undefined) return;
  expect(actual.origin).toBe(expected.origin);
  expect(actual.seq).toBe(expected.seq);
  expect(actual.hops).toBe(expected.hops);
  expect(actual.parent).toBe(expected.parent);
  expect(actual.signature).toEqual(expected.signature);
  expect(actual.payload).toEqual(expected.payload);
}

describe('PayloadCache against a Map model', () => {
  it('stores, ages, evicts, replaces and re-parents entries exactly as the model does', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 300, max: 4_000 }),
        // -Infinity compacts at every replacement, 0 now and then; the default never within these runs.
        fc.constantFrom(Number.NEGATIVE_INFINITY, 0, PAYLOAD_SLAB_MAX_BYTES),
        fc.array(op, { maxLength: 80 }),
        (budget, compactAfter, ops) => {
          const cache = new PayloadCache(budget, MAX_AGE, compactAfter);
          const model = new Map<number, ModelEntry>();
          /** Views handed out earlier, with what they showed: later operations must not change them. */
          const handedOut: { view: Uint8Array; bytes: Uint8Array }[] = [];
          let now = 0;
          let stamp = 0;
          const sweepModel = (at: number): void => {
            for (const [key, entry] of model) {
              if (entry.storedAt > at - MAX_AGE) break;
              model.delete(key);
            }
          };
          for (const o of ops) {
            switch (o.kind) {
              case 'add': {
                now += o.dt;
                stamp++;
                const signature = o.signed ? content(64, stamp + 1_000) : undefined;
                const owned = content(o.size, stamp);
                let payload = owned;
                if (o.view) {
                  const chunk = new Uint8Array(o.size + 10);
                  chunk.set(owned, 5);
                  payload = chunk.subarray(5, 5 + o.size);
                }
                const entry = { origin: `o${o.key % 3}`, seq: stamp, hops: o.key, parent: 'p0', signature };
                const cost = o.size + (signature?.length ?? 0) + PAYLOAD_CACHE_ENTRY_OVERHEAD_BYTES;
                // Both ways of storing: `add`, and `store` read back through its handle.
                let stored: CachedPayload | undefined;
                if (o.key % 2 === 0) {
                  stored = cache.add(o.key, entry, payload, now);
                } else {
                  const at = cache.store(
                    o.key,
                    entry.origin,
                    entry.seq,
                    entry.hops,
                    entry.parent,
                    signature,
                    payload,
                    now,
                  );
                  if (at >= 0) {
                    expect(cache.signatureAt(at)).toEqual(signature);
                    expect(cache.payloadAt(at)).toEqual(owned);
                  }
                  stored = at >= 0 ? cache.get(o.key, now) : undefined;
                }
                model.delete(o.key);
                sweepModel(now);
                if (cost <= budget) {
                  let held = [...model.values()].reduce((sum, e) => sum + e.cost, 0);
                  for (const [key, old] of model) {
                    if (held + cost <= budget) break;
                    model.delete(key);
                    held -= old.cost;
                  }
                  const expected: ModelEntry = { ...entry, payload: owned, storedAt: now, cost };
                  model.set(o.key, expected);
                  expectSame(stored, expected);
                  if (stored !== undefined) handedOut.push({ view: stored.payload, bytes: owned });
                } else {
                  expect(stored).toBeUndefined();
                }
                break;
              }
              case 'get': {
                now += o.dt;
                const expected = model.get(o.key);
                const fresh =
                  expected !== undefined && expected.storedAt > now - MAX_AGE ? expected : undefined;
                expectSame(cache.get(o.key, now), fresh);
                // The light path reads the same entry.
                const at = cache.locate(o.key, now);
                expect(at >= 0).toBe(fresh !== undefined);
                if (fresh !== undefined) {
                  expect(cache.hopsAt(at)).toBe(fresh.hops);
                  expect(cache.parentAt(at)).toBe(fresh.parent);
                }
                break;
              }
              case 'reparent': {
                const entry = cache.get(o.key, now);
                const expected = model.get(o.key);
                if (entry === undefined || expected === undefined || expected.storedAt <= now - MAX_AGE)
                  break;
                // Both ways of re-parenting: through the entry, and through a located handle.
                if (o.hops % 2 === 0) {
                  entry.hops = o.hops;
                  entry.parent = `p${o.parent}`;
                } else {
                  cache.setRouteAt(cache.locate(o.key, now), o.hops, `p${o.parent}`);
                }
                expected.hops = o.hops;
                expected.parent = `p${o.parent}`;
                expectSame(cache.get(o.key, now), expected);
                break;
              }
              case 'sweep':
                now += o.dt;
                cache.sweep(now);
                sweepModel(now);
                break;
              case 'since': {
                const since = now - o.back;
                const recent = cache.storedSince(since, o.limit);
                const expected = [...model.values()].filter((e) => e.storedAt > since).slice(-o.limit);
                expect(recent.length).toBe(expected.length);
                for (const [i, entry] of recent.entries()) expectSame(entry, expected[i]);
                break;
              }
            }
            const held = [...model.values()].reduce((sum, e) => sum + e.cost, 0);
            expect(cache.bytes).toBe(held);
            expect(cache.bytes).toBeLessThanOrEqual(budget);
            expect(cache.size).toBe(model.size);
          }
          // The cache never writes over bytes it has handed out.
          for (const { view, bytes } of handedOut) expect(view).toEqual(bytes);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps an entry that grows its ring and survives compaction readable through an old handle', () => {
    const cache = new PayloadCache(1_000_000, MAX_AGE, Number.NEGATIVE_INFINITY);
    const first = cache.add('first', { origin: 'o', seq: 1, hops: 1, parent: 'a' }, content(100, 1), 0);
    // Enough entries to grow the ring several times, then a replacement that compacts it.
    for (let i = 0; i < 100; i++)
      cache.add(i, { origin: 'o', seq: i, hops: 1, parent: 'a' }, content(10, i), 0);
    cache.add(0, { origin: 'o', seq: 0, hops: 1, parent: 'a' }, content(10, 0), 0);
    expect(first?.payload).toEqual(content(100, 1));
    if (first !== undefined) first.parent = 'b';
    expect(cache.get('first', 0)?.parent).toBe('b');
  });

  it('moves every live entry out of the old slabs when it compacts, the first in a slab as well', () => {
    const cache = new PayloadCache(1_000_000, MAX_AGE, Number.NEGATIVE_INFINITY);
    // Views into larger buffers: copied into the arena, 'a' at the start of a slab, 'b' after it.
    const view = (stamp: number): Uint8Array => new Uint8Array(20).fill(stamp).subarray(5, 15);
    cache.add('a', { origin: 'o', seq: 1, hops: 1, parent: 'p' }, view(1), 0);
    cache.add('b', { origin: 'o', seq: 2, hops: 1, parent: 'p' }, view(2), 0);
    const slab = cache.get('a', 0)?.payload.buffer;
    cache.add('b', { origin: 'o', seq: 2, hops: 1, parent: 'p' }, view(3), 0); // compacts
    const moved = cache.get('a', 0)?.payload;
    expect(moved).toEqual(new Uint8Array(10).fill(1));
    // The old slab is left to the garbage collector, not pinned by the entry at its start.
    expect(moved?.buffer).not.toBe(slab);
  });

  it('keeps the tombstones of a key replaced again and again within what the live entries hold', () => {
    const cache = new PayloadCache(1_000_000, MAX_AGE, 0);
    cache.add('other', { origin: 'o', seq: 1, hops: 1, parent: 'p' }, content(100, 1), 0);
    for (let i = 0; i < 1_000; i++)
      cache.add('k', { origin: 'o', seq: 2, hops: 1, parent: 'p' }, content(100, i).subarray(1), 0);
    // Read from its private state: tombstones and their bytes show in no result, only in memory.
    const internals = cache as unknown as { ring: { span: number }; deadBytes: number };
    expect(internals.ring.span).toBeLessThan(10);
    expect(internals.deadBytes).toBeLessThanOrEqual(cache.bytes);
  });

  it('lists as stored since a time only the entries stored after it, not at it', () => {
    const cache = new PayloadCache(1_000_000, MAX_AGE);
    cache.add('a', { origin: 'o', seq: 1, hops: 1, parent: 'p' }, content(10, 1), 100);
    cache.add('b', { origin: 'o', seq: 2, hops: 1, parent: 'p' }, content(10, 2), 101);
    expect(cache.storedSince(100, 10).map((e) => e.seq)).toEqual([2]);
    expect(cache.storedSince(99, 10).map((e) => e.seq)).toEqual([1, 2]);
  });

  it('stops counting the bytes of tombstones that left with their age', () => {
    const cache = new PayloadCache(1_000_000, MAX_AGE, Number.POSITIVE_INFINITY);
    for (let i = 0; i < 5; i++)
      cache.add('k', { origin: 'o', seq: 1, hops: 1, parent: 'p' }, content(100, i), 0);
    cache.sweep(MAX_AGE);
    const internals = cache as unknown as { deadBytes: number };
    expect(cache.size).toBe(0);
    expect(internals.deadBytes).toBe(0);
  });

  it('leaves the entry that replaced a key alone when an old handle for the key is re-parented', () => {
    const cache = new PayloadCache(1_000_000, MAX_AGE);
    const old = cache.add('k', { origin: 'o', seq: 1, hops: 1, parent: 'a' }, content(10, 1), 0);
    cache.add('k', { origin: 'o', seq: 1, hops: 5, parent: 'b' }, content(10, 2), 10);
    if (old !== undefined) {
      old.hops = 2;
      old.parent = 'c';
    }
    expect(cache.get('k', 10)).toMatchObject({ hops: 5, parent: 'b' });
    // The old handle keeps what it last had, not the new entry's route.
    expect(old).toMatchObject({ hops: 2, parent: 'c' });
  });
});

describe('PayloadArena', () => {
  it('never writes over what it stored, and sizes slabs within their bounds', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40_000 }), { maxLength: 60 }), (sizes) => {
        const arena = new PayloadArena();
        const stored: { slab: Uint8Array; offset: number; bytes: Uint8Array }[] = [];
        let held = 0;
        sizes.forEach((size, i) => {
          const head = content(i % 3 === 0 ? 64 : 0, i + 500);
          const tail = content(size, i);
          const offset = arena.append(head, tail, held, 1 << 30);
          const slab = arena.slab;
          const bytes = new Uint8Array(head.length + size);
          bytes.set(head);
          bytes.set(tail, head.length);
          stored.push({ slab, offset, bytes });
          held += bytes.length;
          expect(slab.byteLength).toBeGreaterThanOrEqual(bytes.length);
          expect(slab.byteLength).toBeLessThanOrEqual(Math.max(bytes.length, PAYLOAD_SLAB_MAX_BYTES));
          if (bytes.length <= PAYLOAD_SLAB_MIN_BYTES)
            expect(slab.byteLength).toBeGreaterThanOrEqual(PAYLOAD_SLAB_MIN_BYTES);
        });
        for (const { slab, offset, bytes } of stored) {
          expect(Buffer.compare(slab.subarray(offset, offset + bytes.length), bytes)).toBe(0);
        }
      }),
      { numRuns: 50 },
    );
  });
});
