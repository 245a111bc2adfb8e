import { describe, expect, it } from 'vitest';
import { messageKey } from '../../src/core/broadcast/message-id.js';
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
});
