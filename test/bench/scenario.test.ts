import { describe, expect, it } from 'vitest';
import type { NodeSnapshot } from '../../bench/cluster/node-host.js';
import { judge } from '../../bench/report/figures.js';
import { firstFullFrom, reachableSurvivors, sharesOf, summarise } from '../../bench/scenario/churn.js';
import { isFormed } from '../../bench/scenario/formation.js';
import { HEADER_BYTES, MessagePhase, makePayload, readHeader } from '../../bench/scenario/payload.js';
import { distribution, ratio } from '../../bench/scenario/stats.js';
import { PhaseLog } from '../../bench/scenario/tracker.js';

function node(index: number, neighbours: number[], mesh = neighbours.length): NodeSnapshot {
  return {
    index,
    key: `k${index}`,
    mesh,
    connected: neighbours.length,
    neighbours: neighbours.map((i) => `k${i}`),
  };
}

describe('bench scenario pieces', () => {
  it('payload header round-trips and rejects foreign bytes', () => {
    const payload = makePayload(MessagePhase.churn, 42, 256);
    expect(payload).toHaveLength(256);
    expect(readHeader(payload)).toMatchObject({ phase: MessagePhase.churn, index: 42 });
    expect(readHeader(new Uint8Array(HEADER_BYTES))).toBeUndefined();
    expect(readHeader(payload.subarray(0, 5))).toBeUndefined();
  });

  it('a loss counts as infinite latency, so the tail shows it', () => {
    const d = distribution([1, 2, 3, Number.POSITIVE_INFINITY]);
    expect(d.p50).toBe(2);
    expect(d.max).toBeNull();
    expect(d.mean).toBe(2);
  });

  it('tracks distinct deliveries and wakes the waiter of a completed message', async () => {
    const log = new PhaseLog(2, 3, 2);
    const waiting = log.waitFor(0, 1_000);
    log.record(1, 0, 10, 11);
    log.record(1, 0, 10, 12); // the application saw it twice
    log.record(2, 0, 10, 15);
    await expect(waiting).resolves.toBe(true);
    expect(log.appDuplicates).toBe(1);
    expect(log.lastAt[0]).toBe(15);
    await expect(log.waitFor(1, 10)).resolves.toBe(false);
  });

  it('formed needs every mesh at target and one symmetric overlay', () => {
    const ring = [node(0, [1, 2]), node(1, [0, 2]), node(2, [0, 1])];
    expect(isFormed(ring, 4)).toBe(true);
    expect(isFormed([node(0, [1]), node(1, [])], 4)).toBe(false);
    expect(isFormed([node(0, [1]), node(1, [0]), node(2, [3]), node(3, [2])], 4)).toBe(false);
    expect(isFormed([node(0, [1, 2], 1), node(1, [0]), node(2, [0])], 4)).toBe(false);
  });

  it('churn reachability goes through survivors only', () => {
    const line = [node(0, [1]), node(1, [0, 2]), node(2, [1, 3]), node(3, [2])];
    expect([...reachableSurvivors(line, new Set([0, 2, 3]), 3)]).toEqual([2]);
    expect(firstFullFrom([0.5, 1, 0.9, 1, 1])).toBe(3);
    expect(firstFullFrom([1, 1, 0.9])).toBeNull();
  });

  it('churn shares are per message, and none for a publisher that reaches no survivor', () => {
    const delivered = [2, 1, 0];
    const among = (k: number): number => delivered[k] as number;
    expect(sharesOf(3, new Set([4, 7]), among)).toEqual([1, 0.5, 0]);
    // Not "all of nobody": an empty group has no share, so its averages are n/a rather than 100%.
    expect(sharesOf(3, new Set(), among)).toEqual([]);
    expect(firstFullFrom(sharesOf(3, new Set(), among))).toBeNull();
  });

  it('churn averages are 1 only when every message reached every survivor', () => {
    // N = 1000: 499 other survivors, and message 20 of 50 missed one of them.
    const survivors = new Set(Array.from({ length: 499 }, (_, i) => i));
    const perMessage = sharesOf(50, survivors, (k) => (k === 20 ? 498 : 499));
    const summary = summarise(perMessage);
    expect(summary.ratioAll).toBe(0.9999);
    expect(judge({ kind: 'absEq', value: 1 }, summary.ratioAll, undefined)).toBe('missed');
    expect(summary.ratioFirst10).toBe(1);
    expect(summarise(sharesOf(50, survivors, () => 499)).ratioAll).toBe(1);
  });

  it('judges ratio targets against GossipSub and absolute ones alone', () => {
    expect(judge({ kind: 'ratioMax', value: 0.2 }, 1, 10)).toBe('met');
    expect(judge({ kind: 'ratioMin', value: 20 }, 100, 10)).toBe('missed');
    expect(judge({ kind: 'absMax', value: 0.1 }, 0.05, null)).toBe('met');
    expect(judge({ kind: 'ratioMax', value: 0.5 }, 1, undefined)).toBe('n/a');
  });

  it('judges a figure measured as never (null) as the worst it can be, not as n/a', () => {
    const fifth = { kind: 'ratioMax', value: 0.2 } as const;
    expect(judge(fifth, null, 20)).toBe('missed'); // meshcast lost a message: infinite latency
    expect(judge(fifth, 300, null)).toBe('met'); // GossipSub never formed
    expect(judge(fifth, null, null)).toBe('n/a');
    expect(judge({ kind: 'ratioMin', value: 20 }, 100, null)).toBe('met'); // GossipSub delivered none
    expect(judge({ kind: 'ratioMin', value: 20 }, null, 10)).toBe('missed');
    expect(judge({ kind: 'absEq', value: 0 }, null, 3)).toBe('missed'); // never all-100%
    expect(judge({ kind: 'absEq', value: 1 }, ratio(44_999, 45_000), 1)).toBe('missed');
    expect(ratio(45_000, 45_000)).toBe(1);
  });
});
