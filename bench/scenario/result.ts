import type { Distribution } from './stats.js';

/** Every figure one run produces, as written to the JSON and read by the table. */

export interface FormationResult {
  /** Creating the N nodes (listen, subscribe), before t0. */
  readonly startMs: number;
  /** t0 to when every node's dials had finished; null if some never did. */
  readonly allDialsMs: number | null;
  /** t0 to when every node first had at least one mesh peer. */
  readonly firstMeshPeerMs: number | null;
  /** t0 to when every node's mesh held min(meshTarget, its connected peers), in one overlay. */
  readonly formedMs: number | null;
  /** Nodes whose mesh met min(meshTarget, connected) at the end of formation. */
  readonly nodesAtTarget: number;
  readonly meanMeshSize: number;
  readonly meanConnected: number;
}

export interface LatencyRun {
  readonly messages: number;
  /** Publish to the last of the N-1 deliveries, ms; a message that never got there counts as ∞. */
  readonly last: Distribution;
  /** Publish to the first delivery, ms. */
  readonly first: Distribution;
  readonly deliveryRatio: number | null;
  readonly appDuplicates: number;
}

export interface TrafficResult {
  /** Payload copies received / deliveries - 1 (0 = every copy was needed). */
  readonly rmr: number | null;
  readonly copies: number;
  readonly deliveries: number;
  readonly control: Record<string, number>;
}

export interface LatencyResult {
  readonly node0: LatencyRun;
  readonly random: LatencyRun;
  readonly traffic: TrafficResult;
}

export interface ThroughputResult {
  readonly messages: number;
  /** Messages delivered to all N-1 nodes per second, from the first publish to the last delivery. */
  readonly msgsPerSec: number | null;
  readonly durationMs: number | null;
  readonly deliveriesPerSec: number | null;
  readonly deliveryRatio: number | null;
  readonly completeMessages: number;
  /** CPU (user+sys, all processes hosting nodes) per delivery, µs. */
  readonly cpuPerDeliveryUs: number | null;
  /** CPU per message delivered to every node, µs. */
  readonly cpuPerMessageUs: number | null;
  /** The publisher had not finished publishing when delivery stopped. */
  readonly publisherStalled: boolean;
  readonly appDuplicates: number;
  readonly traffic: TrafficResult;
}

export interface ChurnResult {
  readonly killed: number;
  readonly survivors: number;
  /** Survivors that the pre-kill connection graph still links to the publisher. */
  readonly survivorsReachableFromPublisher: number;
  /** Per message, share of the other survivors that delivered it. */
  readonly perMessage: readonly number[];
  readonly ratioFirst10: number | null;
  readonly ratioLast10: number | null;
  readonly ratioAll: number | null;
  readonly ofReachable: {
    readonly ratioFirst10: number | null;
    readonly ratioLast10: number | null;
    readonly ratioAll: number | null;
  };
  /** Kill to the publish of the first message from which every message reached every survivor. */
  readonly timeToFull100Ms: number | null;
  /** Index of that message (0 = the first one after the kill); null if the last one was incomplete. */
  readonly firstFullMessage: number | null;
}

export interface ResourcesResult {
  readonly processes: number;
  readonly baselineRss: number;
  readonly rssAfterFormation: number | null;
  /** (RSS right after formation - baseline) / N: what one node costs. */
  readonly rssPerNodeAfterFormation: number | null;
  readonly peakRss: number;
  /** Peak RSS / N, the baseline of the process(es) included, as the scenario defines it. */
  readonly peakRssPerNode: number;
  /** (Peak RSS - baseline) / N. */
  readonly peakRssPerNodeNet: number;
  readonly maxRss: number;
}

export interface RunResult {
  readonly contender: string;
  readonly description: string;
  readonly n: number;
  readonly procs: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly wallMs: number;
  /** The flags the run's process started with (process.execArgv): `--node-args`, `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  readonly config: unknown;
  readonly formation?: FormationResult;
  readonly latency?: LatencyResult;
  readonly throughput?: ThroughputResult;
  readonly churn?: ChurnResult;
  readonly resources?: ResourcesResult;
}
