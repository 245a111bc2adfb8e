import { MAX_APPLICATION_PAYLOAD_BYTES } from '../codec/index.js';
import { DEFAULT_PROTOCOL_OPTIONS, Protocol, type ProtocolOptions } from '../core/protocol.js';
import { seededRandom } from '../core/random.js';
import type { Millis } from '../core/types.js';
import { simPeerInfo } from './ids.js';
import { BROADCAST_INDEX_BYTES } from './metrics.js';
import { DEFAULT_NETWORK_OPTIONS, type NetworkOptions } from './network.js';

/** Crash a fraction of the live nodes at once, then broadcast at once and every `interval`. */
export interface CrashScenario {
  /** Fraction of live nodes crashed, in (0, 1). */
  readonly fraction: number;
  /** True: crashed hosts go silent (links die after the idle timeout); false: their sockets close. */
  readonly silent?: boolean;
  /** Broadcasts after the crash, the first one at the moment of the crash. */
  readonly broadcasts?: number;
  /** Spacing of those broadcasts; default: the shuffle interval. */
  readonly interval?: Millis;
}

/** Nodes join and leave continuously (Poisson arrivals) while broadcasts go on. */
export interface ChurnScenario {
  /** New nodes per second of virtual time. */
  readonly joinRate: number;
  /** Departures per second of virtual time. */
  readonly leaveRate: number;
  readonly duration?: Millis;
  /** True: departing nodes say goodbye (Disconnect); false: they crash. */
  readonly graceful?: boolean;
}

/** The live nodes split into two random halves that cannot reach each other, then the cut heals. */
export interface PartitionScenario {
  readonly duration?: Millis;
  /** Broadcasts after the repair, the first one at the moment of the repair. */
  readonly broadcasts?: number;
  /** Spacing of those broadcasts; default: the shuffle interval. */
  readonly interval?: Millis;
}

/** Snapshot of progress handed to SimOptions.onProgress; observing it changes nothing. */
export interface SimProgress {
  readonly virtualTime: Millis;
  readonly endTime: Millis;
  readonly events: number;
  readonly liveNodes: number;
}

export interface SimOptions {
  /** Nodes that join one by one at the start. */
  readonly nodes: number;
  /** Seed of every random choice: the same options and seed give the same result, bit for bit. */
  readonly seed: number;
  /** Broadcasts in the stable phase, after the joins have settled. */
  readonly broadcasts: number;
  /** How many nodes broadcast (a pool, see DEFAULT_ORIGINS); 0: a new random node each time. */
  readonly origins?: number;
  /**
   * Bytes of each broadcast's payload, from 4 (the broadcast's index, the default) up to the
   * transport's limit; it matters with a `network.bandwidth`, which larger payloads take longer on.
   */
  readonly payloadBytes?: number;
  /** Core options, e.g. `{ broadcast: 'plumtree' }` or view sizes; the core's defaults otherwise. */
  readonly protocol?: Partial<ProtocolOptions>;
  readonly network?: Partial<NetworkOptions>;
  readonly joinInterval?: Millis;
  readonly settleTime?: Millis;
  readonly broadcastInterval?: Millis;
  /** Mean interval of the discovery beacons each node hears; 0 (default): no discovery. */
  readonly discoveryInterval?: Millis;
  readonly churn?: ChurnScenario;
  readonly partition?: PartitionScenario;
  readonly crash?: CrashScenario;
  readonly onProgress?: (progress: SimProgress) => void;
}

/**
 * One join every 2 ms of virtual time: a few joins overlap (latency is 1-10 ms), as when many
 * machines start together, yet each join's random walks mostly see the overlay the previous joins
 * built. 10,000 nodes take 20 s of virtual time.
 */
export const DEFAULT_JOIN_INTERVAL: Millis = 2;
/**
 * After the last join, two shuffle periods pass before measuring: every node has shuffled about
 * twice, so passive views are mixed, and the repair tick (1 s) has filled short active views.
 */
export const DEFAULT_SETTLE_TIME: Millis = 2 * DEFAULT_PROTOCOL_OPTIONS.shuffleInterval;
/**
 * By default each broadcast comes from a new random node, the hardest case for Plumtree: every
 * message follows the tree shared by all origins. A pool (`--origins 10`: a chat, a sensor feed
 * with a handful of senders) lets each origin's own tree form; `ldh.repeated` measures it.
 */
export const DEFAULT_ORIGINS = 0;
/** Broadcasts 1 s apart never overlap: a flood over 100,000 nodes settles in well under 200 ms. */
export const DEFAULT_BROADCAST_INTERVAL: Millis = 1_000;
/** Broadcasts after a crash or a repair: the "immediately, then every shuffle period". */
export const DEFAULT_RECOVERY_BROADCASTS = 5;
/** A minute of churn: six shuffle periods, enough for the overlay to reach a steady state. */
export const DEFAULT_CHURN_DURATION: Millis = 60_000;
/** Three shuffle periods apart: every node shuffled within its side, and every cross link broke. */
export const DEFAULT_PARTITION_DURATION: Millis = 30_000;

/** Every option filled in. */
export interface ResolvedSimOptions {
  readonly nodes: number;
  readonly seed: number;
  readonly broadcasts: number;
  readonly origins: number;
  readonly payloadBytes: number;
  readonly protocol: ProtocolOptions;
  readonly network: NetworkOptions;
  readonly joinInterval: Millis;
  readonly settleTime: Millis;
  readonly broadcastInterval: Millis;
  readonly discoveryInterval: Millis;
  readonly churn: Required<ChurnScenario> | undefined;
  readonly partition: Required<PartitionScenario> | undefined;
  readonly crash: Required<CrashScenario> | undefined;
}

export function resolveSimOptions(options: SimOptions): ResolvedSimOptions {
  const protocol: ProtocolOptions = { ...DEFAULT_PROTOCOL_OPTIONS, ...options.protocol };
  const period = protocol.shuffleInterval;
  const { churn, partition, crash } = options;
  return {
    nodes: options.nodes,
    seed: options.seed,
    broadcasts: options.broadcasts,
    origins: options.origins ?? DEFAULT_ORIGINS,
    payloadBytes: options.payloadBytes ?? BROADCAST_INDEX_BYTES,
    protocol,
    network: { ...DEFAULT_NETWORK_OPTIONS, ...options.network },
    joinInterval: options.joinInterval ?? DEFAULT_JOIN_INTERVAL,
    settleTime: options.settleTime ?? DEFAULT_SETTLE_TIME,
    broadcastInterval: options.broadcastInterval ?? DEFAULT_BROADCAST_INTERVAL,
    discoveryInterval: options.discoveryInterval ?? 0,
    churn: churn && {
      joinRate: churn.joinRate,
      leaveRate: churn.leaveRate,
      duration: churn.duration ?? DEFAULT_CHURN_DURATION,
      graceful: churn.graceful ?? false,
    },
    partition: partition && {
      duration: partition.duration ?? DEFAULT_PARTITION_DURATION,
      broadcasts: partition.broadcasts ?? DEFAULT_RECOVERY_BROADCASTS,
      interval: partition.interval ?? period,
    },
    crash: crash && {
      fraction: crash.fraction,
      silent: crash.silent ?? false,
      broadcasts: crash.broadcasts ?? DEFAULT_RECOVERY_BROADCASTS,
      interval: crash.interval ?? period,
    },
  };
}

/** Far beyond what fits in memory (~4 KB per node): a typo guard, not a real limit. */
export const MAX_SIM_NODES = 10_000_000;

/** Everything wrong with `options`, as readable sentences; empty when it can run. */
export function checkSimOptions(options: ResolvedSimOptions): string[] {
  const problems: string[] = [];
  const integer = (name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}`);
    }
  };
  const duration = (name: string, value: number, allowZero = false): void => {
    if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
      problems.push(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of ms`);
    }
  };
  const fraction = (name: string, value: number, min: number, max: number): void => {
    if (!(value >= min && value <= max)) problems.push(`${name} must be between ${min} and ${max}`);
  };
  integer('nodes', options.nodes, 1, MAX_SIM_NODES);
  integer('seed', options.seed, 0, 0xffff_ffff);
  integer('broadcasts', options.broadcasts, 0);
  integer('origins', options.origins, 0, MAX_SIM_NODES);
  integer('payloadBytes', options.payloadBytes, BROADCAST_INDEX_BYTES, MAX_APPLICATION_PAYLOAD_BYTES);
  duration('joinInterval', options.joinInterval, true);
  duration('settleTime', options.settleTime, true);
  duration('broadcastInterval', options.broadcastInterval);
  duration('discoveryInterval', options.discoveryInterval, true);
  fraction('loss', options.network.loss, 0, 1);
  duration('connectTimeout', options.network.connectTimeout);
  duration('idleTimeout', options.network.idleTimeout);
  if (!(options.network.bandwidth >= 0 && Number.isFinite(options.network.bandwidth))) {
    problems.push('bandwidth must be a non-negative number of bytes per second (0: no limit)');
  }
  const { churn, partition, crash } = options;
  if (churn !== undefined) {
    if (!(churn.joinRate >= 0 && Number.isFinite(churn.joinRate)))
      problems.push('churn join rate must be >= 0');
    if (!(churn.leaveRate >= 0 && Number.isFinite(churn.leaveRate)))
      problems.push('churn leave rate must be >= 0');
    duration('churn duration', churn.duration);
  }
  if (partition !== undefined) {
    if (options.nodes < 2) problems.push('a partition needs at least 2 nodes to split');
    duration('partition duration', partition.duration);
    integer('broadcasts after the repair', partition.broadcasts, 0);
    duration('partition broadcast interval', partition.interval);
  }
  if (crash !== undefined) {
    fraction('crash fraction', crash.fraction, Number.MIN_VALUE, 1 - Number.EPSILON);
    // The crash takes the whole part of fraction × live nodes; without churn that is known now.
    if (churn === undefined && crash.fraction > 0 && Math.floor(crash.fraction * options.nodes) === 0) {
      problems.push(`a crash fraction of ${crash.fraction} crashes none of ${options.nodes} nodes`);
    }
    integer('broadcasts after the crash', crash.broadcasts, 0);
    duration('crash broadcast interval', crash.interval);
  }
  const rejected = protocolProblem(options.protocol);
  if (rejected !== undefined) problems.push(`protocol options: ${rejected}`);
  return problems;
}

/**
 * Asks the core itself whether it can run with `protocol`: it validates its options in the
 * constructor, and a strategy it does not know fails as soon as the node starts.
 */
function protocolProblem(protocol: ProtocolOptions): string | undefined {
  try {
    new Protocol(simPeerInfo(0), protocol, seededRandom(0)).handle({ type: 'start' }, 0);
    return undefined;
  } catch (error) {
    if (error instanceof RangeError) return error.message;
    return `the core cannot run broadcast strategy ${JSON.stringify(protocol.broadcast)}`;
  }
}
