/**
 * The one interface every contender implements. A contender node lives in the process that
 * created it; the cluster (bench/cluster) drives many of them, in one process or spread over many.
 */

/** Payload copies that arrived on the wire, and control traffic, summed since the node started. */
export interface TrafficCounters {
  /** Every copy of a benchmark payload received, duplicates included (the RMR numerator). */
  copies: number;
  /** Payloads handed to the application (the RMR denominator). */
  deliveries: number;
  /** Control messages by kind (GossipSub IHAVE/IWANT/IDONTWANT ids, GRAFT, PRUNE; meshcast's own). */
  control: Record<string, number>;
}

export interface ContenderNode {
  /** Identifies the node in other nodes' neighbour lists; known once join() has been called. */
  readonly key: string;
  /** What another node passes to join() to reach this one. */
  readonly address: string;
  /**
   * Formation: link to these earlier nodes, all dials started now. Resolves when the dials have
   * finished (for meshcast: when its join produced its first neighbour).
   */
  join(contacts: readonly string[]): Promise<void>;
  /** Peers this node disseminates to (GossipSub's topic mesh; meshcast's active view). */
  meshSize(): number;
  /** Peers this node holds a connection to. */
  connectedCount(): number;
  /** Keys of the connected peers: the overlay graph used to tell what a broadcast can reach. */
  neighbourKeys(): string[];
  publish(payload: Uint8Array): Promise<void>;
  /** Backpressure: resolves once this node's outbound buffers can take more. */
  writable(): Promise<void>;
  counters(): TrafficCounters;
  /** Crash: close every socket at once with no goodbye; does not wait for the shutdown. */
  kill(): void;
  stop(): Promise<void>;
}

export interface Contender {
  readonly name: string;
  /** One line for the report: what runs, with which options. */
  readonly description: string;
  /**
   * Loads the contender's code, once per process, before the baseline RSS is taken: the code is
   * paid once per process, not per node.
   */
  prepare(): Promise<void>;
  /** Creates a node that listens on 127.0.0.1 and is subscribed, but is not linked to anyone yet. */
  createNode(onPayload: (payload: Uint8Array) => void): Promise<ContenderNode>;
}

/** Total of many nodes' counters. */
export function addCounters(into: TrafficCounters, from: TrafficCounters): TrafficCounters {
  into.copies += from.copies;
  into.deliveries += from.deliveries;
  for (const [kind, count] of Object.entries(from.control)) {
    into.control[kind] = (into.control[kind] ?? 0) + count;
  }
  return into;
}

export function emptyCounters(): TrafficCounters {
  return { copies: 0, deliveries: 0, control: {} };
}
