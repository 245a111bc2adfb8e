import { describe, expect, it } from 'vitest';
import { BROADCAST_KINDS } from '../../src/core/broadcast/strategy.js';
import { LATE_RECONNECT_INTERVAL, RECONNECT_EAGER_PERIOD } from '../../src/core/membership/options.js';
import { seededRandom } from '../../src/core/random.js';
import { resolveSimOptions } from '../../src/sim/options.js';
import { formatSimReport } from '../../src/sim/report.js';
import { runSimulation, type SimResult, WALL_CLOCK_FIELDS } from '../../src/sim/run.js';
import { Simulator } from '../../src/sim/simulator.js';

/** The result without the fields that measure the machine rather than the simulated network. */
function withoutWallClock(result: SimResult): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...result };
  for (const field of WALL_CLOCK_FIELDS) delete copy[field];
  return copy;
}

describe('simulation', () => {
  it('is deterministic: one seed gives the same result bit for bit, another seed differs', () => {
    const options = {
      nodes: 200,
      broadcasts: 3,
      settleTime: 5_000,
      churn: { joinRate: 5, leaveRate: 5, duration: 5_000 },
      partition: { duration: 8_000, broadcasts: 2 },
      crash: { fraction: 0.3, broadcasts: 2 },
      network: { loss: 0.001 },
    };
    const first = JSON.stringify(withoutWallClock(runSimulation({ ...options, seed: 42 })));
    const second = JSON.stringify(withoutWallClock(runSimulation({ ...options, seed: 42 })));
    const other = JSON.stringify(withoutWallClock(runSimulation({ ...options, seed: 43 })));
    expect(second).toBe(first);
    expect(other).not.toBe(first);
  });

  it("the top-level healing time is the crash's when there was a crash, even one that never healed", () => {
    // 95% of 100 nodes crash with one broadcast after it, which misses some survivors in most runs:
    // the first seed whose crash never heals within the run, while the partition before it did.
    // (Which seeds those are moves with every change to the core's random draws; 15 of seeds 1-80
    // were on 1aed711.)
    const runSeed = (seed: number) =>
      runSimulation({
        nodes: 100,
        seed,
        broadcasts: 1,
        settleTime: 5_000,
        partition: { duration: 8_000, broadcasts: 3 },
        crash: { fraction: 0.95, broadcasts: 1 },
      });
    let result = runSeed(1);
    for (
      let seed = 2;
      seed <= 80 && !(result.crash?.healingTime === null && result.partition?.healingTime !== null);
      seed++
    ) {
      result = runSeed(seed);
    }
    expect(result.partition?.healingTime).not.toBeNull();
    expect(result.crash?.healingTime).toBeNull();
    expect(result.healingTime).toBeNull();
  });

  it('with no settle time, the "joined" snapshot and the first broadcast come after the last join', () => {
    const result = runSimulation({ nodes: 50, seed: 1, broadcasts: 2, settleTime: 0 });
    const joined = result.snapshots.find((snapshot) => snapshot.label === 'joined');
    expect(joined?.liveNodes).toBe(50);
    expect(result.broadcasts[0]?.live).toBe(50);
  });

  it.each(BROADCAST_KINDS)(
    'N = 1,000, stable, %s: every broadcast reaches every node exactly once',
    (broadcast) => {
      const result = runSimulation({ nodes: 1_000, seed: 1, broadcasts: 10, protocol: { broadcast } });
      expect(result.reliability).toEqual({ mean: 1, min: 1 });
      expect(result.phases.stable?.complete).toBe(10);
      expect(result.phases.stable?.duplicateDeliveries).toBe(0);
      for (const snapshot of result.snapshots) {
        expect(snapshot.connected).toBe(true);
        expect(snapshot.asymmetricEntries).toBe(0);
        expect(snapshot.deadEntries).toBe(0);
      }
      expect(result.ldh).toBeGreaterThan(0);
    },
  );

  it('flooding over views of 5 relays each payload to 4 neighbours: RMR about 3', () => {
    const nodes = 300;
    const result = runSimulation({
      nodes,
      seed: 2,
      broadcasts: 3,
      settleTime: 5_000,
      protocol: { broadcast: 'flood' },
    });
    // At most that of an overlay whose every view is full: the origin sends 5 copies and each of the
    // other nodes relays 4, for nodes - 1 deliveries (3.017 here).
    const everyViewFull = (5 + (nodes - 1) * 4) / (nodes - 1) - 1;
    expect(result.rmr).toBeGreaterThan(2.5);
    expect(result.rmr).toBeLessThanOrEqual(everyViewFull);
  });

  it.each(BROADCAST_KINDS)(
    '%s survives half of the nodes crashing at once: all survivors reached within two shuffle periods',
    (broadcast) => {
      const result = runSimulation({
        nodes: 1_000,
        seed: 3,
        broadcasts: 2,
        protocol: { broadcast },
        crash: { fraction: 0.5, broadcasts: 3 },
      });
      const crash = result.crash;
      expect(crash?.crashed).toBe(500);
      expect(crash?.firstBroadcastReliability).toBeGreaterThanOrEqual(0.95);
      expect(crash?.healedWithinTwoShufflePeriods).toBe(true);
      const after = result.broadcasts.filter((b) => b.phase === 'crash');
      expect(after.at(-1)?.reliability).toBe(1);
      expect(result.overlay.connected).toBe(true);
      expect(result.overlay.deadEntries).toBe(0);
    },
  );

  it('Plumtree reaches the survivors of an 80% crash with the broadcast sent at once', () => {
    // Seed 3: every neighbour of the origin dies, so the message would reach only the origin
    // unless new neighbours announce what they hold (DEFAULT_NEW_NEIGHBOUR_ANNOUNCE_WINDOW).
    const result = runSimulation({
      nodes: 1_000,
      seed: 3,
      broadcasts: 1,
      crash: { fraction: 0.8, broadcasts: 2 },
    });
    expect(result.crash?.crashed).toBe(800);
    expect(result.crash?.firstBroadcastReliability).toBeGreaterThanOrEqual(0.9);
    expect(result.crash?.healedWithinTwoShufflePeriods).toBe(true);
  });

  it('keeps one overlay when links break during the joins: no node alone takes a joiner in', () => {
    // One message in 1,000 breaks its link. Seed 1: node 140's Join to its contact was lost, and 7
    // nodes that joined through it and its joiners ended apart (992 / 8); seed 3: node 51's Join
    // lost (964 / 36). Both split during the joins, before any broadcast (see HyParView.holdJoin).
    for (const seed of [1, 3]) {
      const result = runSimulation({ nodes: 1_000, seed, broadcasts: 5, network: { loss: 0.001 } });
      expect(result.network.lossEvents).toBeGreaterThan(0);
      for (const snapshot of result.snapshots) {
        expect({ seed, label: snapshot.label, largest: snapshot.largestComponent }).toEqual({
          seed,
          label: snapshot.label,
          largest: 1_000,
        });
      }
      expect(result.reliability.min).toBe(1);
    }
  });

  it('keeps one overlay when a contact evicts its joiner at once, without any loss', () => {
    // Seed 18: node 82 took node 123 in and evicted it 30 ms later, for a peer that accepted its
    // own request, before any walk had brought node 123 another neighbour; alone, node 123 took in
    // the next joiner, and 24 nodes ended apart (976 / 24), 2.4% reliability from their side.
    const result = runSimulation({ nodes: 1_000, seed: 18, broadcasts: 3 });
    expect(result.snapshots.map((snapshot) => snapshot.largestComponent)).toEqual([1_000, 1_000]);
    expect(result.reliability.min).toBe(1);
  });

  it('joins the two halves again after a partition long enough for every view to fill on its side', () => {
    // Five minutes apart, each half has replaced its lost links from its own passive view: every
    // view is full, which HyParView alone never changes again (the broadcasts stay at 50%).
    const result = runSimulation({
      nodes: 500,
      seed: 4,
      broadcasts: 2,
      settleTime: 10_000,
      partition: { duration: 300_000, broadcasts: 4 },
    });
    const partition = result.snapshots.find((s) => s.label === 'partition');
    const repaired = result.broadcasts.filter((b) => b.phase === 'repaired');
    expect(repaired).toHaveLength(4);
    expect(repaired.at(-1)?.reliability).toBe(1);
    expect(result.partition?.healingTime).toBeLessThanOrEqual(2 * 10_000);
    expect(partition?.connected).toBe(true);
    expect(partition?.asymmetricEntries).toBe(0);
    expect(partition?.deadEntries).toBe(0);
  });

  it('joins the two halves again after a partition that outlasts the hour of eager reconnects', () => {
    // Two hours apart: each node reached for its lost neighbours at growing intervals for an hour,
    // and from then on tries one of them now and then. Forgotten instead, the halves stayed two
    // overlays for good (every view full on both sides, the same overlay tag on both).
    const result = runSimulation({
      nodes: 200,
      seed: 4,
      broadcasts: 2,
      settleTime: 10_000,
      broadcastInterval: 600_000,
      partition: { duration: 2 * RECONNECT_EAGER_PERIOD, broadcasts: 10, interval: 60_000 },
    });
    const partition = result.snapshots.find((s) => s.label === 'partition');
    const repaired = result.broadcasts.filter((b) => b.phase === 'repaired');
    expect(repaired).toHaveLength(10);
    expect(repaired.at(-1)?.reliability).toBe(1);
    expect(result.partition?.healingTime).toBeLessThanOrEqual(LATE_RECONNECT_INTERVAL);
    expect(partition?.connected).toBe(true);
  });

  it.each(BROADCAST_KINDS)(
    '%s with 10 KB payloads on 10 Mbit/s interfaces: every hop sends and receives the payload, each in 8 ms',
    (broadcast) => {
      const options = {
        nodes: 300,
        seed: 2,
        broadcasts: 3,
        settleTime: 5_000,
        payloadBytes: 10_000,
        protocol: { broadcast },
      };
      const limited = runSimulation({ ...options, network: { bandwidth: 1_250_000 } });
      const again = runSimulation({ ...options, network: { bandwidth: 1_250_000 } });
      expect(JSON.stringify(withoutWallClock(again))).toBe(JSON.stringify(withoutWallClock(limited)));
      const unlimited = runSimulation(options);
      expect(limited.reliability.min).toBe(1);
      expect(limited.parameters).toMatchObject({ bandwidth: 1_250_000, payloadBytes: 10_000 });
      // A record of 10,000-odd bytes takes 8 ms to leave and 8 to come in, and a hop's latency is
      // at least 1 ms: a broadcast's last delivery took at least 17 ms for each hop of its path.
      for (const result of limited.broadcasts) expect(result.latency).toBeGreaterThanOrEqual(17 * result.ldh);
      for (const result of unlimited.broadcasts) expect(result.latency).toBeLessThan(17 * result.ldh);
    },
  );

  it('Plumtree with 1 MB payloads on 100 Mbit/s interfaces waits for its slow tree instead of fetching second copies', () => {
    // Each hop sends and takes in 1 MB in 80 ms apiece, so a copy comes seconds after the first
    // announcement; fixed graft timers fetched a second copy for most nodes (RMR 1.38-1.42, seeds
    // 1-4), timers stretched to the measured lag far fewer (0.45-0.49; 0.85-0.96 when a Graft's
    // answer that came after timer 2 was not timed).
    const result = runSimulation({
      nodes: 300,
      seed: 1,
      broadcasts: 8,
      settleTime: 5_000,
      payloadBytes: 1_000_000,
      broadcastInterval: 10_000,
      network: { bandwidth: 12_500_000 },
    });
    expect(result.reliability.min).toBe(1);
    expect(result.phases.stable?.rmr.afterFirst).toBeLessThan(0.7);
  });

  it('rejects options that cannot run with a RangeError naming the problem', () => {
    expect(() => runSimulation({ nodes: 10, seed: 1, broadcasts: 1, payloadBytes: 3 })).toThrow(
      /payloadBytes/,
    );
    expect(() => runSimulation({ nodes: 10, seed: 1, broadcasts: 1, network: { bandwidth: -1 } })).toThrow(
      /bandwidth/,
    );
    expect(() => runSimulation({ nodes: 0, seed: 1, broadcasts: 1 })).toThrow(/nodes/);
    expect(() => runSimulation({ nodes: 10, seed: 1, broadcasts: 1, crash: { fraction: 1 } })).toThrow(
      /crash/,
    );
    expect(() =>
      runSimulation({ nodes: 10, seed: 1, broadcasts: 1, protocol: { activeViewSize: 0 } }),
    ).toThrow(/protocol/);
  });

  it('broadcasts from N distinct nodes with --origins N', () => {
    // Before, the pool took random live nodes as they came: seed 1 drew 80, 40, 97, 40, 79, 79...
    const result = runSimulation({ nodes: 100, seed: 1, broadcasts: 30, origins: 10, settleTime: 5_000 });
    expect(new Set(result.broadcasts.map((b) => b.origin)).size).toBe(10);
    expect(result.broadcasts.filter((b) => b.originFirst)).toHaveLength(10);
  });

  it('reports a crash that, after churn, crashes no node as no crash, not as one healed at once', () => {
    const result = runSimulation({
      nodes: 30,
      seed: 1,
      broadcasts: 1,
      settleTime: 5_000,
      churn: { joinRate: 0, leaveRate: 2, duration: 10_000 },
      crash: { fraction: 0.05, broadcasts: 2 },
    });
    expect(result.crash).toMatchObject({
      crashed: 0,
      healingTime: null,
      healedWithinTwoShufflePeriods: false,
    });
    expect(formatSimReport(result)).toMatch(/^crash: none of the \d+ live nodes at /m);
  });

  it('hears one beacon per node and interval from a reachable node, also while the LAN is cut in two', () => {
    const options = resolveSimOptions({ nodes: 20, seed: 1, broadcasts: 0 });
    const quiet = { onSend() {}, onReceive() {}, onDeliver() {} };
    const sim = new Simulator(
      {
        protocol: options.protocol,
        network: options.network,
        discoveryInterval: 1_000,
        protocolRandom: seededRandom(1),
        networkRandom: seededRandom(2),
      },
      quiet,
    );
    for (let i = 0; i < 20; i++) sim.addNode(-1);
    sim.network.partition(Uint8Array.from({ length: 20 }, (_, i) => (i < 10 ? 0 : 1)));
    sim.run(100_000);
    // 20 nodes for 100 intervals: about 2,000. Before, a draw of itself or of the other half was
    // a beacon missed: about 900.
    expect(sim.nodes.beacons).toBeGreaterThan(1_800);
  });
});
