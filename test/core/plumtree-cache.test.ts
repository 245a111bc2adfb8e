import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Announcements } from '../../src/core/broadcast/announcements.js';
import {
  ownedPayload,
  PAYLOAD_CACHE_ENTRY_OVERHEAD_BYTES,
  PayloadCache,
} from '../../src/core/broadcast/payload-cache.js';
import { peer } from './helpers.js';

const ENTRY = { origin: 'o', seq: 1, hops: 1, parent: undefined };

function bytes(length: number): Uint8Array {
  return new Uint8Array(length);
}

describe('PayloadCache', () => {
  it('keeps an entry for its maximum age, no longer, even between sweeps', () => {
    const cache = new PayloadCache(1_000_000, 30_000);
    cache.add('a', ENTRY, bytes(10), 0);
    cache.add('b', ENTRY, bytes(10), 10_000);
    expect(cache.get('a', 29_999)).toBeDefined();
    expect(cache.get('a', 30_000)).toBeUndefined();
    // The light path as well.
    expect(cache.locate('a', 29_999)).toBeGreaterThanOrEqual(0);
    expect(cache.locate('a', 30_000)).toBe(-1);
    expect(cache.size).toBe(2);
    cache.sweep(30_000);
    expect(cache.size).toBe(1);
    expect(cache.get('b', 30_000)).toBeDefined();
    expect(cache.bytes).toBe(10 + PAYLOAD_CACHE_ENTRY_OVERHEAD_BYTES);
  });

  it('evicts the oldest entries to stay within its byte budget, and refuses one larger than it', () => {
    const entryBytes = 100 + PAYLOAD_CACHE_ENTRY_OVERHEAD_BYTES;
    const cache = new PayloadCache(3 * entryBytes, 60_000);
    for (const key of ['a', 'b', 'c', 'd']) cache.add(key, ENTRY, bytes(100), 0);
    expect(['a', 'b', 'c', 'd'].map((key) => cache.get(key, 0) !== undefined)).toEqual([
      false,
      true,
      true,
      true,
    ]);
    expect(cache.bytes).toBe(3 * entryBytes);
    // A payload of the whole budget plus overhead can never fit: nothing is evicted for it.
    expect(cache.add('huge', ENTRY, bytes(3 * entryBytes), 0)).toBeUndefined();
    expect(cache.size).toBe(3);
    // A bigger entry pushes out as many old ones as it needs.
    cache.add('e', ENTRY, bytes(250), 0);
    expect(['b', 'c', 'd', 'e'].map((key) => cache.get(key, 0) !== undefined)).toEqual([
      false,
      false,
      true,
      true,
    ]);
  });

  it('never exceeds its budget and keeps the newest entries that fit (model check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 300, max: 2_000 }),
        fc.array(
          fc.record({ key: fc.integer({ min: 0, max: 15 }), size: fc.integer({ min: 0, max: 600 }) }),
          {
            maxLength: 60,
          },
        ),
        (budget, adds) => {
          const cache = new PayloadCache(budget, 1_000_000);
          let model: { key: string; cost: number }[] = [];
          for (const { key, size } of adds) {
            const name = String(key);
            const cost = size + PAYLOAD_CACHE_ENTRY_OVERHEAD_BYTES;
            model = model.filter((e) => e.key !== name);
            cache.add(name, ENTRY, bytes(size), 0);
            if (cost <= budget) {
              while (model.reduce((sum, e) => sum + e.cost, 0) + cost > budget) model.shift();
              model.push({ key: name, cost });
            }
            expect(cache.bytes).toBeLessThanOrEqual(budget);
            expect(cache.bytes).toBe(model.reduce((sum, e) => sum + e.cost, 0));
            expect(cache.size).toBe(model.length);
          }
          for (const { key } of model) expect(cache.get(key, 0)).toBeDefined();
        },
      ),
      { numRuns: 200 },
    );
  });

  it('copies a payload that is a view into a larger buffer, and keeps one that owns its buffer', () => {
    const chunk = new Uint8Array([1, 2, 3, 4]);
    const view = chunk.subarray(1, 3);
    const owned = ownedPayload(view);
    expect(owned).toEqual(new Uint8Array([2, 3]));
    expect(owned.buffer).not.toBe(chunk.buffer);
    expect(ownedPayload(chunk)).toBe(chunk);
    // Node's small Buffers are slices of a shared pool: they are copied.
    const pooled = Buffer.from('hi');
    expect(ownedPayload(pooled)).not.toBe(pooled);
  });
});

describe('Announcements', () => {
  it('caps the outstanding announcements per peer, and frees them as messages arrive', () => {
    const table = new Announcements(2);
    expect(table.announce('a', 'o', 1, peer(1), 0, 0).kind).toBe('recorded');
    // A repeat from the same peer changes nothing.
    const repeat = table.announce('a', 'o', 1, peer(1), 0, 0);
    expect(repeat.kind === 'recorded' && repeat.message.announcers.length).toBe(1);
    expect(table.announce('b', 'o', 2, peer(1), 0, 0).kind).toBe('recorded');
    expect(table.announce('c', 'o', 3, peer(1), 0, 0).kind).toBe('overLimit');
    expect(table.announce('c', 'o', 3, peer(2), 0, 0).kind).toBe('recorded');
    expect(table.countFrom(peer(1).id)).toBe(2);
    const a = table.get('a');
    if (a === undefined) throw new Error('a is missing');
    table.delete(a);
    expect(table.countFrom(peer(1).id)).toBe(1);
    expect(table.size).toBe(2);
  });

  it('hands out announcers oldest first and drops a lost peer from every message it announced', () => {
    const table = new Announcements(10);
    table.announce('a', 'o', 1, peer(1), 3, 0);
    table.announce('a', 'o', 1, peer(2), 1, 0);
    table.announce('a', 'o', 1, peer(3), 2, 0);
    table.announce('b', 'o', 2, peer(2), 1, 0);
    table.dropPeer(peer(2).id);
    // 'b' had only peer 2 and no timer: nothing is left to wait for.
    expect(table.get('b')).toBeUndefined();
    const a = table.get('a');
    if (a === undefined) throw new Error('a is missing');
    expect(table.takeNextAnnouncer(a)?.peer).toEqual(peer(1));
    expect(table.takeNextAnnouncer(a)?.peer).toEqual(peer(3));
    expect(table.takeNextAnnouncer(a)).toBeUndefined();
    // Asked, they still count until the message is resolved.
    expect(table.countFrom(peer(1).id) + table.countFrom(peer(3).id)).toBe(2);
    expect(table.graftsInFlight(peer(1).id)).toBe(1);
    table.delete(a);
    expect(table.countFrom(peer(1).id) + table.countFrom(peer(3).id)).toBe(0);
    expect(table.graftsInFlight(peer(1).id)).toBe(0);
  });

  it('skips announcers with their limit of Grafts in flight, and frees it when a message resolves', () => {
    const table = new Announcements(10);
    table.announce('a', 'o', 1, peer(1), 0, 0);
    table.announce('a', 'o', 1, peer(2), 0, 0);
    table.announce('b', 'o', 2, peer(1), 0, 0);
    const [a, b] = [table.get('a'), table.get('b')];
    if (a === undefined || b === undefined) throw new Error('missing');
    expect(table.takeNextAnnouncer(a, peer(1).id, 1)?.peer).toEqual(peer(1));
    expect(table.takeNextAnnouncer(b, peer(1).id, 1)).toBeUndefined();
    expect(b.announcers).toHaveLength(1);
    table.delete(a);
    expect(table.takeNextAnnouncer(b, peer(1).id, 1)?.peer).toEqual(peer(1));
    table.dropPeer(peer(1).id);
    expect(table.graftsInFlight(peer(1).id)).toBe(0);
    expect(b.asked).toEqual([]);
  });

  it('keeps a message its lost peer alone announced while its graft timer runs, for the next announcer', () => {
    const table = new Announcements(10);
    const first = table.announce('a', 'o', 1, peer(1), 0, 0);
    if (first.kind !== 'recorded') throw new Error('not recorded');
    first.message.timerToken = 7; // the graft timer is armed
    table.dropPeer(peer(1).id);
    expect(table.get('a')).toBe(first.message);
    // Announced again before the timer fires: the same record, timed from the first announcement.
    const again = table.announce('a', 'o', 1, peer(2), 0, 50);
    expect(again.kind === 'recorded' && again.message).toBe(first.message);
    expect(first.message).toMatchObject({ announcedAt: 0, timerToken: 7 });
    expect(table.takeNextAnnouncer(first.message)?.peer).toEqual(peer(2));
  });

  it('keeps nothing for a peer once every message it announced or was asked for is resolved', () => {
    const table = new Announcements(10);
    for (let id = 1; id <= 50; id++) {
      table.announce(`m${id}`, 'o', id, peer(id), 0, 0);
      table.announce(`m${id}`, 'o', id, peer(id + 1), 0, 0);
      const message = table.get(`m${id}`);
      if (message === undefined) throw new Error('missing');
      table.takeNextAnnouncer(message);
      table.delete(message);
    }
    // Read from its private state: an empty per-peer record shows in no result, only in memory.
    const { byPeer, askedOf } = table as unknown as {
      byPeer: Map<string, unknown>;
      askedOf: Map<string, number>;
    };
    expect(byPeer.size).toBe(0);
    expect(askedOf.size).toBe(0);
  });
});
