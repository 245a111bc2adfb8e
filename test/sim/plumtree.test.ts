import { describe, expect, it } from 'vitest';
import { DEFAULT_GRAFT_TIMEOUT } from '../../src/core/broadcast/plumtree-options.js';
import { runSimulation } from '../../src/sim/run.js';

describe('simulation with Plumtree', () => {
  it('N = 1,000, stable: RMR below 0.1 once the tree has formed, every node reached once', () => {
    const result = runSimulation({
      nodes: 1_000,
      seed: 1,
      broadcasts: 10,
      protocol: { broadcast: 'plumtree' },
    });
    expect(result.parameters.broadcastStrategy).toBe('plumtree');
    expect(result.reliability).toEqual({ mean: 1, min: 1 });
    expect(result.phases.stable?.duplicateDeliveries).toBe(0);
    expect(result.rmr).not.toBeNull();
    expect(result.rmr as number).toBeLessThan(0.1);
  });

  // Each broadcast overlaps the next ones' and their announcements. Seed 1: bending the shared tree
  // on several origins' hop counts at once cut it (SharedTreeActivity): 4,626 of the 9,900
  // deliveries came over 250 ms late, through Grafts, before that rule. Seed 4: a swap's Prune
  // crossed by the next message, whose duplicates then pruned another link of the same cycle
  // (PlumtreeBroadcast.revokePrune): 192. Seed 8, 80 ms apart: the next message passed the new
  // parent just before the swap's Graft, and the old one just after its Prune (sendCatchUp): 1.
  // Seed 8, 60 ms apart: a swap's Graft reached the new parent after its copy of the tree for the
  // origin's second message, and re-linked that copy, not the shared tree (setForMessage): 15.
  it.each([
    [1, 40],
    [4, 40],
    [8, 60],
    [8, 80],
  ])(
    'N = 100, seed %i, a broadcast from a random node every %i ms: no delivery waits for a repair',
    (seed, interval) => {
      const result = runSimulation({ nodes: 100, seed, broadcasts: 100, broadcastInterval: interval });
      expect(result.lateDeliveries).toBeGreaterThan(0); // the broadcasts did overlap
      expect(result.slowDeliveries).toBe(0);
      expect(result.slowestDelivery).toBeLessThan(DEFAULT_GRAFT_TIMEOUT);
    },
  );

  it('N = 1,000, half the nodes crash: the broadcast sent at once reaches every survivor without a graft timeout', () => {
    // A node whose parent died announces the copies still arriving over the dead link instead of
    // pushing them; its children used to wait a graft timeout for them (498 survivors of 500 here).
    const result = runSimulation({
      nodes: 1_000,
      seed: 1,
      broadcasts: 2,
      crash: { fraction: 0.5, broadcasts: 1 },
    });
    expect(result.crash?.firstBroadcastReliability).toBe(1);
    expect(result.slowDeliveries).toBe(0);
    expect(result.crash?.healingTime as number).toBeLessThan(DEFAULT_GRAFT_TIMEOUT);
  });

  // Five seeds, because one seed's last five broadcasts are a single trajectory: any change to the
  // random draws moves a broadcast or two by a hop. The floor is the overlay's own: no copy can
  // reach the farthest node in fewer hops than its distance from the origin over the active views
  // (originEccentricity), 6 or 7 here, 9 or 10 for seed 2, whose overlay has a loosely linked
  // pocket. Without the hop-count optimisation, the settled trees stay as long as the shared one
  // (14-19 hops for these seeds).
  it('N = 1,000: an origin that keeps sending gets its own tree, shortened to about the overlay diameter', () => {
    const settled: number[] = [];
    let beyondTwoHops = 0;
    for (let seed = 1; seed <= 5; seed++) {
      const result = runSimulation({ nodes: 1_000, seed, broadcasts: 30, origins: 3 });
      const shared = Math.max(...result.broadcasts.filter((b) => b.originFirst).map((b) => b.ldh));
      // The shared tree is a detour for most origins: 14-19 hops here.
      expect(shared).toBeGreaterThan(12);
      const last = result.broadcasts.slice(-5);
      // Once settled, within two hops of the overlay's floor (the threshold lets a node stay one
      // hop deeper than its shortest path), nearly always: over seeds 1-60, 299 of the last 300
      // broadcasts on 1a7e8e1 and 297 on the overlay tags' code, whose extra messages draw other
      // latencies (the others were three hops over).
      for (const broadcast of last) {
        expect(broadcast.ldh).toBeLessThanOrEqual(broadcast.originEccentricity + 3);
        if (broadcast.ldh > broadcast.originEccentricity + 2) beyondTwoHops++;
      }
      settled.push(Math.max(...last.map((b) => b.ldh)));
      expect(result.rmr as number).toBeLessThan(0.01);
    }
    // ceil(log4 1000) + 2 = 7 is the target shape; measured 8 for most seeds once the own
    // trees settled (about 8 broadcasts each).
    const median = [...settled].sort((a, b) => a - b)[2] as number;
    expect(median).toBeLessThanOrEqual(8);
    expect(beyondTwoHops).toBeLessThanOrEqual(1);
  });
});
