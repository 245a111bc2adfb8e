import { performance } from 'node:perf_hooks';
import { seededRandom } from '../core/random.js';
import type { Millis } from '../core/types.js';
import { EventKind } from './event.js';
import { mix32 } from './ids.js';
import { formatLatency } from './latency.js';
import { type BroadcastResult, BroadcastTracker, type MessageCounts } from './metrics.js';
import type { NetworkCounters } from './network.js';
import { checkSimOptions, type ResolvedSimOptions, resolveSimOptions, type SimOptions } from './options.js';
import type { OverlaySnapshot } from './overlay.js';
import { ScenarioRunner } from './scenarios.js';
import { Simulator } from './simulator.js';
import { healingTime, type MeanMax, type MeanMin, type PhaseSummary, round, summarise } from './summary.js';

export interface CrashResult {
  readonly time: Millis;
  readonly fraction: number;
  readonly crashed: number;
  readonly survivors: number;
  readonly silent: boolean;
  /** Reliability of the broadcast sent at the moment of the crash. */
  readonly firstBroadcastReliability: number | null;
  readonly healingTime: Millis | null;
  /** The target: every survivor reached again within two shuffle periods. */
  readonly healedWithinTwoShufflePeriods: boolean;
}

export interface PartitionResult {
  readonly start: Millis;
  readonly repairedAt: Millis;
  /** Live nodes on each side. */
  readonly sides: readonly [number, number];
  /** Broadcasts during the cut, each counted within its origin's side. */
  readonly reliabilityWithinSide: MeanMin;
  /** From the repair until broadcasts reach every live node of both sides. */
  readonly healingTime: Millis | null;
}

export interface ChurnResult {
  readonly start: Millis;
  readonly end: Millis;
  readonly joins: number;
  readonly leaves: number;
}

/** Parameters in force, for reproducing a run (with `seed`). */
export interface SimParameters {
  readonly broadcastStrategy: string;
  readonly origins: number;
  readonly activeViewSize: number;
  readonly passiveViewSize: number;
  readonly shuffleInterval: Millis;
  readonly joinInterval: Millis;
  readonly settleTime: Millis;
  readonly broadcastInterval: Millis;
  readonly latency: string;
  readonly latencyPerLink: boolean;
  readonly loss: number;
  /** Bytes per second per direction of a link; 0: no limit. */
  readonly bandwidth: number;
  readonly payloadBytes: number;
  readonly connectTimeout: Millis;
  readonly idleTimeout: Millis;
  readonly discoveryInterval: Millis;
  readonly churn: ResolvedSimOptions['churn'] | null;
  readonly partition: ResolvedSimOptions['partition'] | null;
  readonly crash: ResolvedSimOptions['crash'] | null;
}

/**
 * Everything a run measured. The headline figures (reliability, rmr, ldh, latency,
 * controlPerBroadcast) describe the stable phase; `phases` has the same for every phase. Only
 * `wallMs`, `cpuMs`, `eventsPerSecond` and `memory` depend on the machine (see WALL_CLOCK_FIELDS).
 */
export interface SimResult {
  readonly seed: number;
  readonly nodes: number;
  readonly parameters: SimParameters;
  readonly reliability: MeanMin;
  /** Mean RMR of the stable broadcasts after the first (once a broadcast tree has formed). */
  readonly rmr: number | null;
  /** Largest LDH of the stable broadcasts. */
  readonly ldh: number | null;
  readonly latency: MeanMax;
  readonly controlPerBroadcast: { readonly total: number | null; readonly byType: Partial<MessageCounts> };
  /** The crash's healing time if there was a crash, else the partition's, else null. */
  readonly healingTime: Millis | null;
  readonly phases: Record<string, PhaseSummary>;
  readonly crash: CrashResult | null;
  readonly partition: PartitionResult | null;
  readonly churn: ChurnResult | null;
  /** The overlay at the end of the run. */
  readonly overlay: OverlaySnapshot;
  readonly snapshots: readonly OverlaySnapshot[];
  readonly broadcasts: readonly BroadcastResult[];
  readonly messagesSent: MessageCounts;
  readonly network: NetworkCounters;
  readonly population: {
    readonly created: number;
    readonly crashed: number;
    readonly left: number;
    readonly live: number;
  };
  /**
   * Deliveries after their broadcast's window closed, each counted once. The run stops when the
   * last window closes, so a delivery of the last broadcast due after that is never simulated.
   */
  readonly lateDeliveries: number;
  /** Payload copies, duplicates included, received after their broadcast's window closed. */
  readonly lateCopies: number;
  /**
   * Deliveries, late ones included, more than a graft timeout after their broadcast: in a stable
   * network each one waited for a repair (IHave, timer, Graft), so a broken tree shows here.
   */
  readonly slowDeliveries: number;
  /** The longest time from a broadcast to one of its deliveries, late ones included. */
  readonly slowestDelivery: Millis;
  readonly virtualTime: Millis;
  readonly events: number;
  readonly eventsByKind: Record<keyof typeof EventKind, number>;
  readonly eventsPerSecond: number;
  readonly wallMs: number;
  /** CPU time the process spent during the run (user + system): on a shared machine, steadier than wall time. */
  readonly cpuMs: number;
  readonly memory: { readonly maxRssMb: number; readonly heapUsedMb: number };
}

/** The fields of a SimResult that measure the machine, not the simulated system. */
export const WALL_CLOCK_FIELDS = ['wallMs', 'cpuMs', 'eventsPerSecond', 'memory'] as const;

/** Independent random streams per concern, so that e.g. a latency change does not re-pick origins. */
const STREAM = { protocol: 1, network: 2, scenario: 3 } as const;

function streamSeed(seed: number, stream: number): number {
  return mix32((seed ^ mix32(stream * 0x9e3779b9)) >>> 0);
}

/**
 * Runs one simulation to the end, synchronously. Throws RangeError for options that cannot run
 * (the CLI checks them with checkSimOptions first).
 */
export function runSimulation(options: SimOptions): SimResult {
  const resolved = resolveSimOptions(options);
  const problems = checkSimOptions(resolved);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  const tracker = new BroadcastTracker(resolved.protocol.graftTimeout, resolved.payloadBytes);
  const sim = new Simulator(
    {
      protocol: resolved.protocol,
      network: resolved.network,
      discoveryInterval: resolved.discoveryInterval,
      protocolRandom: seededRandom(streamSeed(resolved.seed, STREAM.protocol)),
      networkRandom: seededRandom(streamSeed(resolved.seed, STREAM.network)),
    },
    tracker,
  );
  const runner = new ScenarioRunner(
    sim,
    tracker,
    resolved,
    seededRandom(streamSeed(resolved.seed, STREAM.scenario)),
  );
  runner.start();
  const onProgress = options.onProgress;
  sim.run(
    runner.end,
    onProgress &&
      (() =>
        onProgress({
          virtualTime: sim.now,
          endTime: runner.end,
          events: sim.events,
          liveNodes: sim.liveCount,
        })),
  );
  const wallMs = performance.now() - wallStart;
  const cpu = process.cpuUsage(cpuStart);
  return assemble(resolved, sim, tracker, runner, wallMs, (cpu.user + cpu.system) / 1000);
}

function assemble(
  options: ResolvedSimOptions,
  sim: Simulator,
  tracker: BroadcastTracker,
  runner: ScenarioRunner,
  wallMs: number,
  cpuMs: number,
): SimResult {
  const results = tracker.results;
  const byPhase = new Map<string, BroadcastResult[]>();
  for (const result of results) {
    const list = byPhase.get(result.phase) ?? [];
    list.push(result);
    byPhase.set(result.phase, list);
  }
  const phases: Record<string, PhaseSummary> = {};
  for (const [phase, list] of byPhase) phases[phase] = summarise(list);
  const stable = summarise(byPhase.get('stable') ?? []);
  const crash = crashResult(options, runner, byPhase.get('crash') ?? []);
  const partition = partitionResult(runner, byPhase);
  const churn = runner.churnRecord ?? null;
  const overlay = runner.snapshots[runner.snapshots.length - 1];
  if (overlay === undefined) throw new Error('simulator bug: no overlay snapshot was taken');
  const memory = process.memoryUsage();
  return {
    seed: options.seed,
    nodes: options.nodes,
    parameters: parameters(options),
    reliability: stable.reliability,
    rmr: stable.rmr.afterFirst ?? stable.rmr.mean,
    ldh: stable.ldh.max,
    latency: stable.latency,
    controlPerBroadcast: { total: stable.controlTotalPerBroadcast, byType: stable.controlPerBroadcast },
    // The crash's, whenever there was one: a crash that never healed is null, not the partition's.
    healingTime: crash !== null ? crash.healingTime : (partition?.healingTime ?? null),
    phases,
    crash,
    partition,
    churn: churn && { ...churn },
    overlay,
    snapshots: runner.snapshots,
    broadcasts: results,
    messagesSent: tracker.sentByType(),
    network: { ...sim.network.counters },
    population: {
      created: sim.nodes.created,
      crashed: sim.nodes.crashed,
      left: sim.nodes.left,
      live: sim.liveCount,
    },
    lateDeliveries: tracker.lateDeliveries,
    lateCopies: tracker.lateCopies,
    slowDeliveries: tracker.slowDeliveries,
    slowestDelivery: tracker.slowestDelivery,
    virtualTime: round(sim.now) as number,
    events: sim.events,
    eventsByKind: Object.fromEntries(
      Object.entries(EventKind).map(([name, kind]) => [name, sim.eventsByKind[kind] ?? 0]),
    ) as Record<keyof typeof EventKind, number>,
    eventsPerSecond: Math.round(sim.events / Math.max(wallMs / 1000, 1e-9)),
    wallMs: Math.round(wallMs),
    cpuMs: Math.round(cpuMs),
    memory: {
      maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      heapUsedMb: Math.round(memory.heapUsed / 1048576),
    },
  };
}

function crashResult(
  options: ResolvedSimOptions,
  runner: ScenarioRunner,
  results: readonly BroadcastResult[],
): CrashResult | null {
  const record = runner.crashRecord;
  const crash = options.crash;
  if (record === undefined || crash === undefined) return null;
  // A crash of no node (a fraction of fewer live nodes than one) has nothing to heal from.
  const healing = record.crashed === 0 ? null : healingTime(record.time, results);
  return {
    time: record.time,
    fraction: crash.fraction,
    crashed: record.crashed,
    survivors: record.survivors,
    silent: crash.silent,
    firstBroadcastReliability: results[0]?.reliability ?? null,
    healingTime: healing,
    healedWithinTwoShufflePeriods: healing !== null && healing <= 2 * options.protocol.shuffleInterval,
  };
}

function partitionResult(
  runner: ScenarioRunner,
  byPhase: Map<string, BroadcastResult[]>,
): PartitionResult | null {
  const record = runner.partitionRecord;
  if (record === undefined) return null;
  const during = summarise(byPhase.get('partitioned') ?? []);
  return {
    start: record.start,
    repairedAt: record.repairedAt,
    sides: record.sides,
    reliabilityWithinSide: during.reliability,
    healingTime: healingTime(record.repairedAt, byPhase.get('repaired') ?? []),
  };
}

function parameters(options: ResolvedSimOptions): SimParameters {
  return {
    broadcastStrategy: options.protocol.broadcast,
    origins: options.origins,
    activeViewSize: options.protocol.activeViewSize,
    passiveViewSize: options.protocol.passiveViewSize,
    shuffleInterval: options.protocol.shuffleInterval,
    joinInterval: options.joinInterval,
    settleTime: options.settleTime,
    broadcastInterval: options.broadcastInterval,
    latency: formatLatency(options.network.latency),
    latencyPerLink: options.network.latencyPerLink,
    loss: options.network.loss,
    bandwidth: options.network.bandwidth,
    payloadBytes: options.payloadBytes,
    connectTimeout: options.network.connectTimeout,
    idleTimeout: options.network.idleTimeout,
    discoveryInterval: options.discoveryInterval,
    churn: options.churn ?? null,
    partition: options.partition ?? null,
    crash: options.crash ?? null,
  };
}
