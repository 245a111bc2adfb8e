import { describe, expect, it } from 'vitest';
import { messageKey } from '../../src/core/broadcast/message-id.js';
import { IHAVE_ENTRIES_LIMIT } from '../../src/core/broadcast/plumtree-options.js';
import type { IHave } from '../../src/core/messages.js';
import { PendingChecks } from '../../src/node/pending-checks.js';

const ORIGIN = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

function ihave(...ids: readonly (readonly [string, number])[]): IHave {
  return { type: 'ihave', entries: ids.map(([origin, seq]) => ({ origin, seq, hops: 1 })) };
}

describe('PendingChecks', () => {
  it('holds an announcement only while a message it names is in check', () => {
    const checks = new PendingChecks<string>();
    expect(checks.holdIfNamed(ihave([ORIGIN, 7]), 'early')).toBe(false);

    checks.begin(messageKey(ORIGIN, 7));
    expect(checks.holdIfNamed(ihave([ORIGIN, 8]), 'other seq')).toBe(false);
    expect(checks.holdIfNamed(ihave([OTHER, 7]), 'other origin')).toBe(false);
    expect(checks.holdIfNamed(ihave([OTHER, 1], [ORIGIN, 7]), 'first')).toBe(true);
    expect(checks.holdIfNamed(ihave([ORIGIN, 7]), 'second')).toBe(true);

    expect(checks.end(messageKey(ORIGIN, 7))).toEqual(['first', 'second']);
    expect(checks.size).toBe(0);
    expect(checks.holdIfNamed(ihave([ORIGIN, 7]), 'late')).toBe(false);
  });

  it('gives each held announcement back once, with the check it waited for', () => {
    const checks = new PendingChecks<string>();
    checks.begin(messageKey(ORIGIN, 1));
    checks.begin(messageKey(ORIGIN, 2));
    expect(checks.holdIfNamed(ihave([ORIGIN, 2]), 'names 2')).toBe(true);

    expect(checks.end(messageKey(ORIGIN, 1))).toEqual([]);
    expect(checks.end(messageKey(ORIGIN, 2))).toEqual(['names 2']);
    expect(checks.end(messageKey(ORIGIN, 2))).toEqual([]);
  });

  it('keeps what waits when the same message is sent for checking twice', () => {
    const checks = new PendingChecks<string>();
    checks.begin(messageKey(ORIGIN, 3));
    expect(checks.holdIfNamed(ihave([ORIGIN, 3]), 'held')).toBe(true);
    checks.begin(messageKey(ORIGIN, 3));
    expect(checks.size).toBe(1);
    expect(checks.end(messageKey(ORIGIN, 3))).toEqual(['held']);
  });

  it('leaves malformed announcements to the core, which counts them', () => {
    const checks = new PendingChecks<string>();
    checks.begin(messageKey(ORIGIN, 4));
    const malformed = [
      { type: 'ihave', entries: 'not a list' },
      { type: 'ihave', entries: 5 },
      { type: 'ihave', entries: { 0: { origin: ORIGIN, seq: 4, hops: 0 }, length: 1 } },
      { type: 'ihave', entries: [null, 5, { origin: 9, seq: 4 }, { origin: ORIGIN, seq: -4 }] },
    ] as unknown as IHave[];
    for (const announcement of malformed) expect(checks.holdIfNamed(announcement, 'bad')).toBe(false);
    // A malformed entry before a well-formed one does not hide it.
    for (const malformedEntry of [null, { origin: 9, seq: 4 }, { origin: ORIGIN, seq: -4 }]) {
      const mixed = {
        type: 'ihave',
        entries: [malformedEntry, { origin: ORIGIN, seq: 4, hops: 0 }],
      } as unknown as IHave;
      expect(checks.holdIfNamed(mixed, 'mixed')).toBe(true);
    }
  });

  it('gives an announcement that names several messages in check back once the last of their checks ends', () => {
    const checks = new PendingChecks<string>();
    for (const seq of [1, 2, 3]) checks.begin(messageKey(ORIGIN, seq));
    expect(checks.holdIfNamed(ihave([ORIGIN, 1], [OTHER, 1], [ORIGIN, 3]), 'names 1 and 3')).toBe(true);
    expect(checks.end(messageKey(ORIGIN, 1))).toEqual([]);
    expect(checks.end(messageKey(ORIGIN, 2))).toEqual([]);
    expect(checks.end(messageKey(ORIGIN, 3))).toEqual(['names 1 and 3']);
    expect(checks.size).toBe(0);
  });

  it('reads each entry of an announcement once at most, however many of the messages it names are in check', () => {
    const checks = new PendingChecks<string>();
    const inCheck = Array.from({ length: 20 }, (_, i) => [ORIGIN, i + 1] as const);
    for (const [origin, seq] of inCheck) checks.begin(messageKey(origin, seq));
    // A long list whose last entries name the messages in check, in the order their checks end.
    const named = ihave(...Array.from({ length: 1_000 }, (_, i) => [OTHER, i] as const), ...inCheck);
    let reads = 0;
    const counted = {
      ...named,
      entries: new Proxy(named.entries, {
        get(target, property, receiver) {
          if (typeof property === 'string' && /^\d+$/.test(property)) reads++;
          return Reflect.get(target, property, receiver);
        },
      }),
    };
    expect(checks.holdIfNamed(counted, 'long')).toBe(true);
    const released = inCheck.flatMap(([origin, seq]) => checks.end(messageKey(origin, seq)));
    expect(released).toEqual(['long']);
    expect(reads).toBe(named.entries.length);
  });

  it('holds nothing for entries past those the core reads (IHAVE_ENTRIES_LIMIT)', () => {
    const checks = new PendingChecks<string>();
    checks.begin(messageKey(ORIGIN, 5));
    const padding = Array.from({ length: IHAVE_ENTRIES_LIMIT }, (_, i) => [OTHER, i] as const);
    expect(checks.holdIfNamed(ihave(...padding, [ORIGIN, 5]), 'past the limit')).toBe(false);
    expect(checks.holdIfNamed(ihave(...padding.slice(1), [ORIGIN, 5]), 'at the limit')).toBe(true);
  });
});
