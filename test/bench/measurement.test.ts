import { describe, expect, it } from 'vitest';
import type { NodeHost, ProcessUsage } from '../../bench/cluster/node-host.js';
import { emptyCounters } from '../../bench/contenders/contender.js';
import { comparisonRows } from '../../bench/report/table.js';
import { scenarioDefaults } from '../../bench/scenario/config.js';
import { now } from '../../bench/scenario/payload.js';
import type { RunResult } from '../../bench/scenario/result.js';
import { runThroughput } from '../../bench/scenario/throughput.js';
import { DeliveryTracker, PhaseLog } from '../../bench/scenario/tracker.js';

/**
 * A host without sockets: node 1 (of 2) delivers one throughput message every `everyMs`, while the
 * publisher's burst returns after `publisherMs` (it is done, the relays lag behind).
 */
function laggingHost(tracker: DeliveryTracker, everyMs: number, publisherMs: number): NodeHost {
  const usage = async (): Promise<ProcessUsage> => ({
    cpuMicros: 0,
    rss: 0,
    peakRss: 0,
    maxRss: 0,
    baselineRss: 0,
    processes: 1,
  });
  return {
    start: async () => ({}),
    join: async () => ({}),
    snapshot: async () => [],
    publish: async () => now(),
    burst: async (_node, phase, count) => {
      const first = now();
      let k = 0;
      const timer = setInterval(() => {
        tracker.sink(1, phase, k, first, now());
        if (++k >= count) clearInterval(timer);
      }, everyMs);
      await new Promise((resolve) => setTimeout(resolve, publisherMs));
      return { first, last: now() };
    },
    counters: async () => emptyCounters(),
    usage,
    kill: async () => {},
    close: async () => {},
  };
}

describe('the throughput phase', () => {
  it('keeps counting while deliveries go on after the publisher is done', async () => {
    // A delivery every 100 ms for 4 s, never a second without one. Before, a second wait on the
    // phase replaced the first one's hook, and the first, left behind, ended both: 2 s at most.
    const config = { ...scenarioDefaults('x', 2), tputMessages: 40, tputIdleTimeoutMs: 1_000 };
    const tracker = new DeliveryTracker(2);
    const result = await runThroughput(config, laggingHost(tracker, 100, 10), tracker, () => {});
    expect(result.completeMessages).toBe(40);
    expect(result.deliveryRatio).toBe(1);
  });
});

describe('the delivery log', () => {
  it('takes the latest delivery as the last, whatever order processes report them in', () => {
    const log = new PhaseLog(1, 3, 2);
    log.record(2, 0, 100, 250); // one process's batch arrives first
    log.record(1, 0, 100, 200); // another's earlier delivery after it
    expect(log.lastDeliveryAt).toBe(250);
  });
});

describe('the comparison table', () => {
  function run(contender: string, patch: Partial<RunResult>): RunResult {
    return { contender, description: '', n: 10, procs: 1, ok: true, wallMs: 0, config: {}, ...patch };
  }
  const verdict = (runs: RunResult[], key: string) =>
    comparisonRows(runs, [10], ['meshcast', 'libp2p']).find((row) => row.figure === key)?.verdict;
  const formation = (formedMs: number | null) => ({
    startMs: 0,
    allDialsMs: 0,
    firstMeshPeerMs: 0,
    formedMs,
    nodesAtTarget: 0,
    meanMeshSize: 0,
    meanConnected: 0,
  });

  it('counts a figure measured as never against its contender, not as n/a', () => {
    const latency = (p99: number | null) => {
      const d = { p50: 1, p90: 1, p99, max: p99, mean: 1 };
      const sub = { messages: 200, last: d, first: d, deliveryRatio: 1, appDuplicates: 0 };
      return { node0: sub, random: sub, traffic: { rmr: 0, copies: 0, deliveries: 0, control: {} } };
    };
    const lost = [run('meshcast', { latency: latency(null) }), run('libp2p', { latency: latency(20) })];
    expect(verdict(lost, 'latency.node0.last.p99')).toBe('missed');
    const neverFormed = [
      run('meshcast', { formation: formation(null) }),
      run('libp2p', { formation: formation(900) }),
    ];
    expect(verdict(neverFormed, 'formation.formedMs')).toBe('missed');
    const theyNever = [
      run('meshcast', { formation: formation(300) }),
      run('libp2p', { formation: formation(null) }),
    ];
    expect(verdict(theyNever, 'formation.formedMs')).toBe('met');
  });

  it('keeps the row of a churn whose last message never reached every survivor, and misses it', () => {
    const churn = {
      killed: 5,
      survivors: 5,
      survivorsReachableFromPublisher: 4,
      perMessage: [1, 1, 0.75],
      ratioFirst10: 0.9167,
      ratioLast10: 0.9167,
      ratioAll: 0.9167,
      ofReachable: { ratioFirst10: 0.9167, ratioLast10: 0.9167, ratioAll: 0.9167 },
      timeToFull100Ms: null,
      firstFullMessage: null,
    };
    const theirs = { ...churn, perMessage: [0.5, 1, 1], timeToFull100Ms: 100, firstFullMessage: 1 };
    const runs = [
      run('meshcast', { churn }),
      run('libp2p', { churn: { ...theirs, firstFullMessage: null } }),
    ];
    expect(verdict(runs, 'churn.firstFullMessage')).toBe('missed');
    expect(
      verdict([run('meshcast', { churn }), run('libp2p', { churn: theirs })], 'churn.firstFullMessage'),
    ).toBe('missed');
  });
});
