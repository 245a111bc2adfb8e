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
});
