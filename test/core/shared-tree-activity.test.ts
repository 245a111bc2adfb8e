import { describe, expect, it } from 'vitest';
import { SharedTreeActivity } from '../../src/core/broadcast/shared-tree-activity.js';

const QUIET = 250;

describe('SharedTreeActivity', () => {
  it('knows no message before the first', () => {
    expect(new SharedTreeActivity().isQuietOn('a', 1, QUIET)).toBe(false);
  });

  it('is quiet on a lone message, and on one that came at least the quiet time after the one before', () => {
    const activity = new SharedTreeActivity();
    activity.note('a', 1, 1_000);
    expect(activity.isQuietOn('a', 1, QUIET)).toBe(true);
    activity.note('b', 1, 1_000 + QUIET);
    expect(activity.isQuietOn('b', 1, QUIET)).toBe(true);
  });

  it('is not quiet on an overtaken message, nor on one that followed the one before too soon', () => {
    const activity = new SharedTreeActivity();
    activity.note('a', 1, 1_000);
    activity.note('b', 1, 1_000 + QUIET - 1);
    expect(activity.isQuietOn('a', 1, QUIET)).toBe(false);
    expect(activity.isQuietOn('b', 1, QUIET)).toBe(false);
    // The same origin's other message is another message.
    expect(activity.isQuietOn('b', 2, QUIET)).toBe(false);
  });

  it('knows which message is the newest; a copy of the tree for an origin leaves that and the quiet as they were', () => {
    const activity = new SharedTreeActivity();
    activity.note('a', 1, 1_000);
    activity.noteCopy('b', 2);
    expect(activity.isNewest('a', 1)).toBe(true);
    expect(activity.isNewest('b', 2)).toBe(false);
    expect(activity.isQuietOn('a', 1, QUIET)).toBe(true);
  });

  it('lists the messages that followed it (or a fresh copy) after a given one, oldest first, among the last 8', () => {
    const activity = new SharedTreeActivity();
    activity.note('a', 1, 0);
    activity.note('b', 1, 1);
    activity.noteCopy('a', 2);
    activity.note('c', 1, 2);
    expect(activity.since('a', 1)).toEqual([
      { origin: 'b', seq: 1 },
      { origin: 'a', seq: 2 },
      { origin: 'c', seq: 1 },
    ]);
    expect(activity.since('c', 1)).toEqual([]);
    expect(activity.since('z', 1)).toEqual([]);
    for (let i = 0; i < 8; i++) activity.note('d', i, 3 + i);
    // Forgotten: nothing to say about what came after it.
    expect(activity.since('c', 1)).toEqual([]);
    expect(activity.since('d', 5)).toEqual([
      { origin: 'd', seq: 6 },
      { origin: 'd', seq: 7 },
    ]);
  });
});
