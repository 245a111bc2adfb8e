import { describe, expect, it } from 'vitest';
import type { MissingMessage } from '../../src/core/broadcast/announcements.js';
import {
  DelayEstimate,
  GRAFT_WAIT_CAP_FACTOR,
  GRAFT_WAIT_STALE_AFTER,
  GraftWaits,
  MAX_GRAFTS_TIMED,
} from '../../src/core/broadcast/graft-waits.js';
import type { MessageKey } from '../../src/core/broadcast/message-id.js';

const CAP = GRAFT_WAIT_CAP_FACTOR * 250;

function announced(key: string, announcedAt: number, deferrals = 0): MissingMessage {
  return {
    key: key as MessageKey,
    origin: 'o',
    seq: 1,
    announcedAt,
    announcers: [],
    asked: [],
    timerToken: undefined,
    deferrals,
  };
}

const k = (key: string): MessageKey => key as MessageKey;

describe('DelayEstimate (RFC 6298 gains)', () => {
  it('gives the floor until the first sample, then smoothed + 4 × variation within floor and cap', () => {
    const estimate = new DelayEstimate(60_000);
    expect(estimate.bound(250, 2000, 0)).toBe(250);
    estimate.add(400, 0); // smoothed 400, variation 200
    expect(estimate.bound(250, 2000, 0)).toBe(1200);
    estimate.add(400, 0); // variation 150
    expect(estimate.bound(250, 2000, 0)).toBe(1000);
    expect(estimate.bound(250, 900, 0)).toBe(900);
    expect(estimate.bound(1500, 2000, 0)).toBe(1500);
    // The floor wins over a cap below it.
    expect(estimate.bound(3000, 2000, 0)).toBe(3000);
  });

  it('settles on a steady delay and follows it when it changes', () => {
    const estimate = new DelayEstimate(60_000);
    for (let i = 0; i < 100; i++) estimate.add(300, i);
    expect(estimate.bound(0, 1e9, 100)).toBeCloseTo(300, 1);
    for (let i = 0; i < 100; i++) estimate.add(20, 100 + i);
    expect(estimate.bound(0, 1e9, 200)).toBeCloseTo(20, 1);
  });

  it('is dropped once no sample has come for the stale time, and starts anew from the next one', () => {
    const estimate = new DelayEstimate(60_000);
    estimate.add(800, 1000);
    expect(estimate.bound(250, 2000, 1000 + 60_000)).toBe(2000);
    expect(estimate.bound(250, 2000, 1001 + 60_000)).toBe(250);
    estimate.add(30, 1001 + 60_000); // a first sample again: 30 + 4 × 15
    expect(estimate.bound(250, 2000, 1001 + 60_000)).toBe(250);
    expect(estimate.bound(0, 2000, 1001 + 60_000)).toBe(90);
  });

  it('ignores samples that are not durations', () => {
    const estimate = new DelayEstimate(60_000);
    estimate.add(Number.NaN, 0);
    estimate.add(-5, 0);
    estimate.add(Number.POSITIVE_INFINITY, 0);
    expect(estimate.bound(250, 2000, 0)).toBe(250);
  });
});

describe('GraftWaits', () => {
  it('keeps the configured timers while the tree is faster than them', () => {
    const waits = new GraftWaits(250, 100);
    for (let i = 0; i < 50; i++) waits.copyArrived(k(`m${i}`), 'tree', i + 12, announced(`m${i}`, i));
    expect(waits.graftWait(60)).toBe(250);
    expect(waits.retryWait(60)).toBe(100);
  });

  it("stretches timer 1 to a slow tree's copies, each sample cut to the cap", () => {
    const waits = new GraftWaits(250, 100);
    for (let i = 0; i < 50; i++) waits.copyArrived(k(`m${i}`), 'tree', i + 600, announced(`m${i}`, i));
    expect(waits.graftWait(700)).toBeCloseTo(600, 0);
    waits.copyArrived(k('x'), 'tree', 700, announced('x', 700 - 1e9));
    // One huge sample counts as the cap: 600 + (2000 - 600) / 8, variation (2000 - 600) / 4 and more.
    expect(waits.graftWait(700)).toBe(CAP);
    for (let i = 0; i < 30; i++) waits.copyArrived(k(`n${i}`), 'tree', 1300 + i, announced(`n${i}`, 700 + i));
    expect(waits.graftWait(1400)).toBeLessThan(800);
  });

  it('does not time a copy whose timer waited on for older messages (a queue, not the tree)', () => {
    const waits = new GraftWaits(250, 100);
    for (let i = 0; i < 20; i++) waits.copyArrived(k(`m${i}`), 'tree', i + 1500, announced(`m${i}`, i, 1));
    expect(waits.graftWait(1600)).toBe(250);
  });

  it("times each Graft's answer from its own Graft, even one answered after the next was asked", () => {
    const waits = new GraftWaits(250, 100);
    for (let i = 0; i < 40; i++) {
      const t = i * 10_000;
      const missing = announced(`m${i}`, t);
      waits.graftSent(missing, 'a', t + 250);
      waits.graftSent(missing, 'b', t + 350); // timer 2 ran out: the next announcer is asked
      waits.copyArrived(missing.key, 'a', t + 430, missing); // a's answer, 180 ms after its Graft
      waits.copyArrived(missing.key, 'b', t + 530); // b's, as a duplicate, 180 ms after its own
    }
    expect(waits.retryWait(400_000)).toBeCloseTo(180, 0);
    expect(waits.graftWait(400_000)).toBe(250);
  });

  it("times a grafted message's tree copy from its first announcement, once, even as a duplicate", () => {
    const waits = new GraftWaits(250, 100);
    const missing = announced('m', 0);
    waits.graftSent(missing, 'p', 250);
    waits.copyArrived(k('m'), 'p', 300, missing); // the answer
    waits.copyArrived(k('m'), 'tree', 400); // the tree's copy, late
    expect(waits.graftWait(400)).toBe(400 + 4 * 200);
    waits.copyArrived(k('m'), 'other', 1000); // timed once
    expect(waits.graftWait(1000)).toBe(400 + 4 * 200);
    expect(waits.timed).toBe(0);
  });

  it("times only the first copy from a peer not asked, while an asked peer's answer is still awaited", () => {
    const waits = new GraftWaits(250, 100);
    const missing = announced('m', 0);
    waits.graftSent(missing, 'p', 250);
    waits.copyArrived(k('m'), 'tree', 400, missing); // the tree's copy
    waits.copyArrived(k('m'), 'other', 1000); // a duplicate over another link: no sample
    expect(waits.graftWait(1000)).toBe(400 + 4 * 200);
    expect(waits.timed).toBe(1); // p's answer is still awaited
  });

  it("times an asked peer's first answer only: its second copy is no round trip", () => {
    const waits = new GraftWaits(250, 100);
    const missing = announced('m', 0);
    waits.graftSent(missing, 'p', 250);
    waits.graftSent(missing, 'q', 350);
    waits.copyArrived(k('m'), 'p', 300, missing); // p's answer, 50 ms after its Graft
    waits.copyArrived(k('m'), 'p', 900); // p again: no sample
    expect(waits.retryWait(900)).toBe(50 + 4 * 25);
  });

  it('does not time the tree copy of a grafted message whose timer waited on for older ones', () => {
    const waits = new GraftWaits(250, 100);
    const missing = announced('m', 0, 3);
    waits.graftSent(missing, 'p', 1000);
    waits.copyArrived(k('m'), 'tree', 1030);
    expect(waits.graftWait(1030)).toBe(250);
  });

  it('times a peer grafted twice for one message from its latest Graft', () => {
    const waits = new GraftWaits(250, 100);
    for (let i = 0; i < 30; i++) {
      const t = i * 1000;
      const missing = announced(`m${i}`, t);
      waits.graftSent(missing, 'p', t + 250);
      waits.graftSent(missing, 'p', t + 500); // its link went down and came back; asked again
      waits.copyArrived(missing.key, 'p', t + 540, missing);
    }
    expect(waits.retryWait(30_000)).toBe(100); // 40 ms round trips, under timer 2's floor
  });

  it('keeps one record per message, replaced when it is announced anew, however often it is grafted', () => {
    const waits = new GraftWaits(250, 100);
    for (let cycle = 0; cycle < 2000; cycle++) {
      const t = cycle * 350;
      // A made-up message announced again and again, grafted, never answered.
      waits.graftSent(announced('fake', t), 'p', t + 250);
    }
    expect(waits.timed).toBe(1);
    const internals = waits as unknown as { grafts: Map<string, { peers: string[] }> };
    expect(internals.grafts.get('fake')?.peers).toEqual(['p']);
  });

  it("keeps timing the asked peers' answers after the tree's copy came", () => {
    const waits = new GraftWaits(250, 100);
    for (let i = 0; i < 30; i++) {
      const t = i * 1000;
      const missing = announced(`m${i}`, t);
      waits.graftSent(missing, 'p', t + 250);
      waits.copyArrived(missing.key, 'tree', t + 300, missing); // the tree wins the race
      waits.copyArrived(missing.key, 'p', t + 550); // the answer, 300 ms after the Graft
    }
    expect(waits.retryWait(30_000)).toBeCloseTo(300, 0);
    expect(waits.timed).toBe(0);
  });

  it("does not take a Graft's answer for the tree's copy once the record is gone", () => {
    const waits = new GraftWaits(250, 100);
    const missing = { ...announced('m', 0), asked: ['p'] };
    waits.graftSent(missing, 'p', 250);
    for (let i = 0; i < MAX_GRAFTS_TIMED; i++) waits.graftSent(announced(`x${i}`, 300), 'q', 300);
    waits.copyArrived(k('m'), 'p', 900, missing); // the answer, its record pushed out
    expect(waits.graftWait(900)).toBe(250);
  });

  it('does not time the tree copy of a message whose timer waited on for older ones after its Graft', () => {
    const waits = new GraftWaits(250, 100);
    const missing = announced('m', 0);
    waits.graftSent(missing, 'p', 250);
    const deferredSince = { ...missing, deferrals: 3 };
    waits.copyArrived(k('m'), 'tree', 1100, deferredSince);
    expect(waits.graftWait(1100)).toBe(250);
  });

  it("keeps a message's unanswered Grafts when it is announced anew, so their answers are not the tree's", () => {
    const waits = new GraftWaits(250, 100);
    waits.graftSent(announced('m', 0), 'p', 250);
    waits.graftSent(announced('m', 5_000), 'q', 5_250); // given up, announced again, grafted again
    waits.copyArrived(k('m'), 'p', 5_300); // p's answer to the first Graft, late
    expect(waits.graftWait(5_300)).toBe(250);
    expect(waits.retryWait(5_300)).toBe(CAP); // timed from p's Graft, 5,050 ms cut to the cap
  });

  it("drops the answered Grafts of a message announced anew: a later copy from that peer is the tree's", () => {
    const waits = new GraftWaits(250, 100);
    waits.graftSent(announced('m', 0), 'p', 250);
    waits.copyArrived(k('m'), 'p', 300); // p's answer: timed, 50 ms
    waits.graftSent(announced('m', 5_000), 'q', 5_250); // given up, announced again, grafted again
    const internals = waits as unknown as { grafts: Map<string, { peers: string[] }> };
    expect(internals.grafts.get('m')?.peers).toEqual(['q']);
    waits.copyArrived(k('m'), 'p', 5_400); // no answer to any Graft now: the tree's copy, 400 ms
    expect(waits.graftWait(5_400)).toBe(400 + 4 * 200);
  });

  it('forgets grafted messages past twice the cap, and keeps at most MAX_GRAFTS_TIMED', () => {
    const waits = new GraftWaits(250, 100);
    waits.graftSent(announced('old', 0), 'p', 250);
    waits.copyArrived(k('old'), 'tree', 2 * CAP + 1);
    expect(waits.graftWait(2 * CAP + 1)).toBe(250);
    for (let i = 0; i < MAX_GRAFTS_TIMED + 10; i++) waits.graftSent(announced(`m${i}`, 10_000), 'p', 10_250);
    expect(waits.timed).toBe(MAX_GRAFTS_TIMED);
  });

  it('still times a copy exactly twice the cap after the announcement, however many Grafts went since', () => {
    const waits = new GraftWaits(250, 100);
    waits.graftSent(announced('m', 0), 'p', 250);
    waits.graftSent(announced('n', 2 * CAP), 'q', 2 * CAP); // looks for records to forget
    waits.copyArrived(k('m'), 'tree', 2 * CAP); // the tree's copy, cut to the cap
    expect(waits.graftWait(2 * CAP)).toBe(CAP);
  });

  it('goes back to the configured timers once no sample has come for a while', () => {
    const waits = new GraftWaits(250, 100);
    for (let i = 0; i < 20; i++) waits.copyArrived(k(`m${i}`), 'tree', i + 900, announced(`m${i}`, i));
    expect(waits.graftWait(1000)).toBeGreaterThan(800);
    expect(waits.graftWait(919 + GRAFT_WAIT_STALE_AFTER + 1)).toBe(250);
  });
});
