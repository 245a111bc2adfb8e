import { describe, expect, it } from 'vitest';
import type { MissingMessage } from '../../src/core/broadcast/announcements.js';
import { DelayEstimate, GRAFT_WAIT_CAP_FACTOR, GraftWaits } from '../../src/core/broadcast/graft-waits.js';
import type { MessageKey } from '../../src/core/broadcast/message-id.js';

function grafted(key: string, announcedAt: number, asked: string[]): MissingMessage {
  return {
    key: key as MessageKey,
    origin: 'o',
    seq: 1,
    announcedAt,
    announcers: [],
    asked,
    lastAskedAt: announcedAt,
    timerToken: undefined,
    deferrals: 0,
  };
}

describe('DelayEstimate (RFC 6298 gains)', () => {
  it('gives the floor until the first sample, then smoothed + 4 × variation within floor and cap', () => {
    const estimate = new DelayEstimate();
    expect(estimate.bound(250, 2000)).toBe(250);
    estimate.add(400); // smoothed 400, variation 200
    expect(estimate.bound(250, 2000)).toBe(1200);
    estimate.add(400); // variation 150
    expect(estimate.bound(250, 2000)).toBe(1000);
    expect(estimate.bound(250, 900)).toBe(900);
    expect(estimate.bound(1500, 2000)).toBe(1500);
  });

  it('settles on a steady delay and follows it when it changes', () => {
    const estimate = new DelayEstimate();
    for (let i = 0; i < 100; i++) estimate.add(300);
    expect(estimate.bound(0, 1e9)).toBeCloseTo(300, 1);
    for (let i = 0; i < 100; i++) estimate.add(20);
    expect(estimate.bound(0, 1e9)).toBeCloseTo(20, 1);
  });

  it('ignores samples that are not durations', () => {
    const estimate = new DelayEstimate();
    estimate.add(Number.NaN);
    estimate.add(-5);
    estimate.add(Number.POSITIVE_INFINITY);
    expect(estimate.bound(250, 2000)).toBe(250);
  });
});

describe('GraftWaits', () => {
  it('keeps the configured timers while the tree is faster than them', () => {
    const waits = new GraftWaits(250, 100, 16);
    for (let i = 0; i < 50; i++) waits.treeCopy(10 + (i % 7));
    expect(waits.graftWait()).toBe(250);
    expect(waits.retryWait()).toBe(100);
  });

  it('stretches timer 1 to a slow tree, up to the cap', () => {
    const waits = new GraftWaits(250, 100, 16);
    for (let i = 0; i < 50; i++) waits.treeCopy(600);
    expect(waits.graftWait()).toBeCloseTo(600, 0);
    for (let i = 0; i < 50; i++) waits.treeCopy(100_000);
    expect(waits.graftWait()).toBe(GRAFT_WAIT_CAP_FACTOR * 250);
  });

  it("times a grafted message's late tree copy from its first announcement, but not a grafted peer's copy", () => {
    const waits = new GraftWaits(250, 100, 16);
    waits.graftAnswered(grafted('m', 0, ['p']), 50, 300);
    waits.lateCopy('m' as MessageKey, 'p', 350); // a second answer: not the tree's copy
    expect(waits.graftWait()).toBe(250);
    waits.lateCopy('m' as MessageKey, 'tree', 400);
    expect(waits.graftWait()).toBe(400 + 4 * 200);
    // Timed once: a further copy of the same message changes nothing.
    waits.lateCopy('m' as MessageKey, 'other', 1000);
    expect(waits.graftWait()).toBe(400 + 4 * 200);
  });

  it("stretches timer 2 to a Graft's round trip", () => {
    const waits = new GraftWaits(250, 100, 16);
    for (let i = 0; i < 50; i++) waits.graftAnswered(grafted(`m${i}`, i * 1000, ['p']), 180, i * 1000 + 500);
    expect(waits.retryWait()).toBeCloseTo(180, 0);
  });

  it('remembers at most maxGrafted answered Grafts, and none older than twice the cap', () => {
    const waits = new GraftWaits(250, 100, 4);
    for (let i = 0; i < 10; i++) waits.graftAnswered(grafted(`m${i}`, i, ['p']), 10, i + 10);
    expect(waits.remembered).toBe(4);
    waits.graftAnswered(grafted('late', 100_000, ['p']), 10, 100_010);
    expect(waits.remembered).toBe(1);
  });
});
