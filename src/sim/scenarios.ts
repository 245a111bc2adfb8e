import { pickMany, type Random } from '../core/random.js';
import type { Millis } from '../core/types.js';
import { EventKind, simEvent } from './event.js';
import type { BroadcastTracker } from './metrics.js';
import type { ResolvedSimOptions } from './options.js';
import { eccentricity, type OverlaySnapshot, snapshotOverlay } from './overlay.js';
import type { Simulator } from './simulator.js';

/** Scenario steps, carried in a scenario event's `node` field (its argument in `peer`). */
const Step = {
  join: 0,
  snapshot: 1,
  broadcast: 2,
  finish: 3,
  crash: 4,
  partition: 5,
  repair: 6,
  churnStart: 7,
  churnJoin: 8,
  churnLeave: 9,
} as const;

/**
 * Order of steps due at the same moment: a broadcast's window closes, then the overlay is
 * photographed, then the next phase's disruption happens, then the next broadcast goes out.
 */
const PRIORITY: Readonly<Record<number, number>> = {
  [Step.finish]: 0,
  [Step.snapshot]: 1,
  [Step.crash]: 2,
  [Step.partition]: 2,
  [Step.repair]: 2,
  [Step.churnStart]: 2,
  [Step.broadcast]: 3,
};

interface PlannedStep {
  readonly time: Millis;
  readonly step: number;
  readonly argument: number;
}

interface PlannedBroadcast {
  readonly phase: string;
  readonly time: Millis;
}

export interface CrashRecord {
  readonly time: Millis;
  readonly crashed: number;
  readonly survivors: number;
}

export interface PartitionRecord {
  readonly start: Millis;
  readonly repairedAt: Millis;
  readonly sides: readonly [number, number];
}

export interface ChurnRecord {
  readonly start: Millis;
  readonly end: Millis;
  joins: number;
  leaves: number;
}

/**
 * The timeline of a run, fixed in advance from the options (only the choices of nodes are random):
 *
 * 1. `nodes` nodes join one by one, `joinInterval` apart, each through a random live contact,
 *    then the overlay settles for `settleTime` (snapshot "joined");
 * 2. stable: `broadcasts` broadcasts, `broadcastInterval` apart ("stable"), each from a random
 *    member of a pool of `origins` senders (see nextOrigin), as are all later broadcasts;
 * 3. churn, if asked: Poisson joins and departures, broadcasts every `broadcastInterval` ("churn");
 * 4. partition, if asked: two random halves cut apart, broadcasts every `broadcastInterval` counted
 *    within the origin's half ("partitioned"); then the repair and broadcasts at once and every
 *    `interval` ("repaired", snapshot "partition");
 * 5. crash, if asked: `fraction` of the live nodes crash at once, broadcasts at once and every
 *    `interval` ("crash").
 *
 * Each broadcast's window, in which its figures are gathered, lasts until the next one is due.
 */
export class ScenarioRunner {
  readonly snapshots: OverlaySnapshot[] = [];
  crashRecord: CrashRecord | undefined;
  partitionRecord: PartitionRecord | undefined;
  churnRecord: ChurnRecord | undefined;
  /** Virtual time at which the scenario is over. */
  readonly end: Millis;
  private readonly steps: PlannedStep[] = [];
  private readonly broadcasts: PlannedBroadcast[] = [];
  private readonly snapshotLabels: string[] = [];
  private partitionStart: Millis = 0;
  private partitionSides: [number, number] = [0, 0];
  /** The nodes that broadcast, when `origins` > 0. */
  private readonly origins: number[] = [];
  /** Planned steps due no later than the last join: queued by the last join, so they follow it. */
  private afterJoins: PlannedStep[] = [];

  constructor(
    private readonly sim: Simulator,
    private readonly tracker: BroadcastTracker,
    private readonly options: ResolvedSimOptions,
    private readonly random: Random,
  ) {
    this.end = this.plan();
    sim.setScenario((step, argument) => this.onStep(step, argument));
  }

  /**
   * Queues the planned steps; the joins chain themselves from the first one. A step due at the
   * time of the last join (with `settleTime` 0) would otherwise run before it, as the last join is
   * queued later (ties are FIFO): the last join queues such steps itself.
   */
  start(): void {
    const ordered = this.steps
      .map((step, order) => ({ step, order }))
      .sort(
        (x, y) =>
          x.step.time - y.step.time ||
          (PRIORITY[x.step.step] ?? 0) - (PRIORITY[y.step.step] ?? 0) ||
          x.order - y.order,
      );
    this.scheduleStep(0, Step.join, 0);
    const lastJoin = (this.options.nodes - 1) * this.options.joinInterval;
    for (const { step } of ordered) {
      if (step.time <= lastJoin) this.afterJoins.push(step);
      else this.scheduleStep(step.time, step.step, step.argument);
    }
  }

  private plan(): Millis {
    const { nodes, joinInterval, settleTime, broadcasts, broadcastInterval, churn, partition, crash } =
      this.options;
    let time = (nodes - 1) * joinInterval + settleTime;
    this.planSnapshot(time, 'joined');
    this.planBroadcasts('stable', time, broadcasts, broadcastInterval);
    time += broadcasts * broadcastInterval;
    this.planSnapshot(time, 'stable');
    if (churn !== undefined) {
      this.steps.push({ time, step: Step.churnStart, argument: 0 });
      this.churnRecord = { start: time, end: time + churn.duration, joins: 0, leaves: 0 };
      this.planBroadcasts('churn', time, Math.floor(churn.duration / broadcastInterval), broadcastInterval);
      time += churn.duration;
      this.planSnapshot(time, 'churn');
    }
    if (partition !== undefined) {
      this.steps.push({ time, step: Step.partition, argument: 0 });
      const during = Math.floor(partition.duration / broadcastInterval);
      this.planBroadcasts('partitioned', time, during, broadcastInterval);
      time += partition.duration;
      this.steps.push({ time, step: Step.repair, argument: 0 });
      this.planBroadcasts('repaired', time, partition.broadcasts, partition.interval);
      time += partition.broadcasts * partition.interval;
      this.planSnapshot(time, 'partition');
    }
    if (crash !== undefined) {
      this.steps.push({ time, step: Step.crash, argument: 0 });
      this.planBroadcasts('crash', time, crash.broadcasts, crash.interval);
      time += crash.broadcasts * crash.interval;
      this.planSnapshot(time, 'crash');
    }
    return time;
  }

  private planBroadcasts(phase: string, start: Millis, count: number, interval: Millis): void {
    for (let k = 0; k < count; k++) {
      const time = start + k * interval;
      const index = this.broadcasts.length;
      this.broadcasts.push({ phase, time });
      this.steps.push({ time, step: Step.broadcast, argument: index });
      this.steps.push({ time: time + interval, step: Step.finish, argument: index });
    }
  }

  private planSnapshot(time: Millis, label: string): void {
    this.steps.push({ time, step: Step.snapshot, argument: this.snapshotLabels.length });
    this.snapshotLabels.push(label);
  }

  private scheduleStep(time: Millis, step: number, argument: number): void {
    this.sim.schedule(time, simEvent(EventKind.scenario, step, argument));
  }

  private onStep(step: number, argument: number): void {
    switch (step) {
      case Step.join:
        this.join();
        return;
      case Step.snapshot:
        this.snapshots.push(snapshotOverlay(this.sim, this.snapshotLabels[argument] ?? 'snapshot'));
        return;
      case Step.broadcast:
        this.broadcast(argument);
        return;
      case Step.finish:
        this.finish(argument);
        return;
      case Step.crash:
        this.crash();
        return;
      case Step.partition:
        this.partition();
        return;
      case Step.repair:
        this.sim.network.repair();
        this.partitionRecord = {
          start: this.partitionStart,
          repairedAt: this.sim.now,
          sides: this.partitionSides,
        };
        return;
      case Step.churnStart:
        this.scheduleChurn(Step.churnJoin);
        this.scheduleChurn(Step.churnLeave);
        return;
      case Step.churnJoin:
        this.churnJoin();
        return;
      case Step.churnLeave:
        this.churnLeave();
        return;
    }
  }

  private join(): void {
    const contact = this.sim.randomLiveNode(this.random);
    this.sim.addNode(contact);
    if (this.sim.nodeCount < this.options.nodes) {
      this.scheduleStep(this.sim.now + this.options.joinInterval, Step.join, 0);
      return;
    }
    const steps = this.afterJoins;
    this.afterJoins = [];
    const now = this.sim.now; // join times add up intervals: never queue a step in the past
    for (const step of steps) this.scheduleStep(Math.max(step.time, now), step.step, step.argument);
  }

  private broadcast(index: number): void {
    const planned = this.broadcasts[index];
    const origin = this.nextOrigin();
    if (planned === undefined || origin < 0) return;
    const payload = this.tracker.begin(
      index,
      planned.phase,
      origin,
      eccentricity(this.sim, origin),
      this.sim.now,
      this.sim.nodeCount,
    );
    this.sim.broadcast(origin, payload);
  }

  /**
   * A random member of the pool of senders, which fills up with random live nodes as broadcasts
   * go out; a member that crashed or left is replaced by a random live node. Without a pool
   * (`origins` 0), each broadcast comes from a new random node.
   */
  private nextOrigin(): number {
    const poolSize = this.options.origins;
    if (poolSize === 0) return this.sim.randomLiveNode(this.random);
    if (this.origins.length < poolSize) {
      const fresh = this.liveNodeOutsidePool();
      if (fresh >= 0) this.origins.push(fresh);
      return fresh;
    }
    const slot = Math.floor(this.random.next() * this.origins.length);
    const member = this.origins[slot] as number;
    if (this.sim.isAlive(member)) return member;
    const replacement = this.liveNodeOutsidePool();
    if (replacement >= 0) this.origins[slot] = replacement;
    return replacement;
  }

  /** A random live node not in the pool of senders, while there is one: the pool holds N senders. */
  private liveNodeOutsidePool(): number {
    const liveMembers = this.origins.filter((node) => this.sim.isAlive(node)).length;
    for (;;) {
      const node = this.sim.randomLiveNode(this.random);
      if (node < 0 || liveMembers >= this.sim.liveCount || !this.origins.includes(node)) return node;
    }
  }

  private finish(index: number): void {
    const network = this.sim.network;
    this.tracker.finish(index, (node, origin) => {
      if (!this.sim.isAlive(node)) return false;
      return !network.partitioned || network.sideOf(node) === network.sideOf(origin);
    });
  }

  private crash(): void {
    const crash = this.options.crash;
    if (crash === undefined) return;
    const live = this.sim.liveNodes();
    const victims = pickMany(this.random, live, Math.floor(crash.fraction * live.length));
    for (const node of victims) this.sim.crash(node, crash.silent);
    this.crashRecord = { time: this.sim.now, crashed: victims.length, survivors: this.sim.liveCount };
  }

  private partition(): void {
    const live = this.sim.liveNodes();
    const shuffled = pickMany(this.random, live, live.length);
    const sides = new Uint8Array(this.sim.nodeCount);
    const half = Math.floor(shuffled.length / 2);
    for (let i = half; i < shuffled.length; i++) sides[shuffled[i] as number] = 1;
    this.sim.network.partition(sides);
    this.partitionStart = this.sim.now;
    this.partitionSides = [half, shuffled.length - half];
  }

  /** Poisson arrivals: exponential gaps at the step's rate, until the churn phase ends. */
  private scheduleChurn(step: number): void {
    const churn = this.options.churn;
    const record = this.churnRecord;
    if (churn === undefined || record === undefined) return;
    const rate = step === Step.churnJoin ? churn.joinRate : churn.leaveRate;
    if (rate <= 0) return;
    const gap = (-Math.log(1 - this.random.next()) / rate) * 1000;
    const time = this.sim.now + gap;
    if (time < record.end) this.scheduleStep(time, step, 0);
  }

  private churnJoin(): void {
    this.sim.addNode(this.sim.randomLiveNode(this.random));
    if (this.churnRecord) this.churnRecord.joins++;
    this.scheduleChurn(Step.churnJoin);
  }

  private churnLeave(): void {
    if (this.sim.liveCount > 1) {
      const node = this.sim.randomLiveNode(this.random);
      if (this.options.churn?.graceful) this.sim.leave(node);
      else this.sim.crash(node, false);
      if (this.churnRecord) this.churnRecord.leaves++;
    }
    this.scheduleChurn(Step.churnLeave);
  }
}
