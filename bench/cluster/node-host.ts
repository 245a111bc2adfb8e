import type { TrafficCounters } from '../contenders/contender.js';
import type { MessagePhase } from '../scenario/payload.js';

/** A node as the scenario sees it at one moment. */
export interface NodeSnapshot {
  readonly index: number;
  readonly key: string;
  readonly mesh: number;
  readonly connected: number;
  readonly neighbours: readonly string[];
}

/** CPU and memory of the processes hosting nodes, summed over them. */
export interface ProcessUsage {
  /** process.cpuUsage() user + system, microseconds since each process started. */
  readonly cpuMicros: number;
  readonly rss: number;
  /** Highest RSS sampled (every --rss-sample ms) since the host was created. */
  readonly peakRss: number;
  /** The kernel's maxRSS (process.resourceUsage), bytes. */
  readonly maxRss: number;
  /** RSS once the contender's code was loaded, before any node existed. */
  readonly baselineRss: number;
  readonly processes: number;
}

/** Called at each delivery with the time it happened. */
export type DeliverySink = (
  node: number,
  phase: MessagePhase,
  index: number,
  publishedAt: number,
  deliveredAt: number,
) => void;

/**
 * The operations the scenario needs from the nodes of a run, addressed by global node index. One
 * process hosts all of them (LocalHost), or a ProcessCluster spreads them over worker processes
 * that each run a LocalHost; the scenario cannot tell the difference.
 */
export interface NodeHost {
  /** Creates every node (listening on 127.0.0.1, subscribed, not linked); resolves with their addresses. */
  start(): Promise<Record<number, string>>;
  /**
   * Formation: every listed node dials its contacts at once. Resolves with each node's time (ms,
   * see payload.now) at which its dials finished, or null if they had not by the deadline.
   */
  join(contacts: Record<number, string[]>, timeoutMs: number): Promise<Record<number, number | null>>;
  /** Live nodes only. */
  snapshot(): Promise<NodeSnapshot[]>;
  /** Publishes one message stamped now; resolves with its publish time. */
  publish(node: number, phase: MessagePhase, index: number, bytes: number): Promise<number>;
  /**
   * Publishes `count` messages as fast as the node's backpressure allows, yielding to the event
   * loop after each. Resolves with the first and last publish times.
   */
  burst(
    node: number,
    phase: MessagePhase,
    count: number,
    bytes: number,
  ): Promise<{ first: number; last: number }>;
  counters(): Promise<TrafficCounters>;
  usage(): Promise<ProcessUsage>;
  /** Crashes these nodes (no goodbye); does not wait for their shutdown. */
  kill(nodes: readonly number[]): Promise<void>;
  close(): Promise<void>;
}
