import { describe, expect, it } from 'vitest';
import type { BroadcastResult } from '../../src/sim/metrics.js';
import { healingTime } from '../../src/sim/summary.js';

/** A broadcast sent at `time` whose last delivery came `latency` later, reaching `delivered` of 10. */
function sent(time: number, latency: number, delivered: number): BroadcastResult {
  return {
    index: 0,
    phase: 'crashed',
    time,
    origin: 0,
    originFirst: false,
    live: 10,
    delivered,
    reliability: delivered / 10,
    payloadsReceived: delivered - 1,
    rmr: 0,
    ldh: 3,
    originEccentricity: 3,
    latency,
    duplicateDeliveries: 0,
    control: {},
    controlTotal: 0,
  };
}

describe('healingTime', () => {
  it('runs to the last delivery of the first broadcast of the complete ones that end the run', () => {
    const results = [sent(1_000, 30, 10), sent(2_000, 40, 9), sent(3_000, 50, 10), sent(4_000, 20, 10)];
    expect(healingTime(500, results)).toBe(3_000 + 50 - 500);
  });

  it('is null while the last broadcast is incomplete, even short of one node', () => {
    expect(healingTime(0, [sent(1_000, 30, 10), sent(2_000, 40, 9)])).toBeNull();
    expect(healingTime(0, [])).toBeNull();
  });
});
