/** The simulator's public surface: run a scenario over the real protocol core in virtual time. */
export { DEFAULT_LATENCY, formatLatency, type LatencyModel, parseLatency } from './latency.js';
export type { BroadcastResult, MessageCounts, MessageType } from './metrics.js';
export { DEFAULT_NETWORK_OPTIONS, type NetworkCounters, type NetworkOptions } from './network.js';
export {
  type ChurnScenario,
  type CrashScenario,
  checkSimOptions,
  type PartitionScenario,
  resolveSimOptions,
  type SimOptions,
  type SimProgress,
} from './options.js';
export type { InOutBalance, OverlaySnapshot } from './overlay.js';
export { formatSimReport } from './report.js';
export {
  type ChurnResult,
  type CrashResult,
  type PartitionResult,
  runSimulation,
  type SimParameters,
  type SimResult,
  WALL_CLOCK_FIELDS,
} from './run.js';
export type { MeanMax, MeanMin, PhaseSummary } from './summary.js';
