/**
 * The parameters of one run. Every default below is the value of the broadcast benchmark scenario
 * (shared/notes/bench-scenario.md), whose GossipSub figures the issue compares against; the phase
 * numbers in the comments refer to that document.
 */

export type PhaseName = 'formation' | 'latency' | 'throughput' | 'churn';
export const ALL_PHASES: readonly PhaseName[] = ['formation', 'latency', 'throughput', 'churn'];

export interface ScenarioConfig {
  readonly contender: string;
  readonly n: number;
  /** Seeds the PRNG that picks dial targets, random publishers and the nodes to kill. */
  readonly seed: number;
  /** Node i lives in process i % procs; 1 = every node in the run's own process. */
  readonly procs: number;
  readonly phases: readonly PhaseName[];
  readonly dials: number;
  readonly meshTarget: number;
  readonly formationTimeoutMs: number;
  readonly settleMs: number;
  readonly warmupMessages: number;
  readonly latencyMessages: number;
  readonly latencyPayloadBytes: number;
  readonly latencyStepTimeoutMs: number;
  readonly tputPublisher: number;
  readonly tputMessages: number;
  readonly tputPayloadBytes: number;
  readonly tputIdleTimeoutMs: number;
  readonly churnPauseMs: number;
  readonly churnFraction: number;
  readonly churnMessages: number;
  readonly churnPayloadBytes: number;
  readonly churnIntervalMs: number;
  readonly churnTailMs: number;
  readonly rssSampleMs: number;
}

/** Phase 2: node i > 0 dials this many distinct random earlier nodes. */
export const DEFAULT_DIALS = 3;
/** Phase 2: "formed" needs every mesh to hold min(this, connected peers); GossipSub's Dlo. */
export const DEFAULT_MESH_TARGET = 4;
/** Phase 2: formation gives up after this long. */
export const DEFAULT_FORMATION_TIMEOUT_MS = 20_000;
/** Phase 2: pause between formation and the warm-up messages. */
export const DEFAULT_SETTLE_MS = 1_000;
/** Phase 2: unmeasured messages that warm up code paths and caches before the latency phase. */
export const DEFAULT_WARMUP_MESSAGES = 20;
/** Phase 3: messages per latency sub-run. */
export const DEFAULT_LATENCY_MESSAGES = 200;
/** Phase 3. */
export const DEFAULT_LATENCY_PAYLOAD_BYTES = 256;
/** Phase 3: the next message goes out when all others have the current one, or after this. */
export const DEFAULT_LATENCY_STEP_TIMEOUT_MS = 2_000;
/** Phase 4. */
export const DEFAULT_TPUT_PUBLISHER = 0;
/** Phase 4. */
export const DEFAULT_TPUT_PAYLOAD_BYTES = 1024;
/**
 * Phase 4 ends when every message reached every node, or when no delivery happened for this long
 * (what is missing by then is counted as lost).
 */
export const DEFAULT_TPUT_IDLE_TIMEOUT_MS = 5_000;
/** Phase 5: pause before the kill. */
export const DEFAULT_CHURN_PAUSE_MS = 2_000;
/** Phase 5: share of the nodes killed at once. */
export const DEFAULT_CHURN_FRACTION = 0.5;
/** Phase 5: messages a survivor publishes right after the kill. */
export const DEFAULT_CHURN_MESSAGES = 50;
/** Phase 5. */
export const DEFAULT_CHURN_PAYLOAD_BYTES = 256;
/** Phase 5: spacing of the churn messages. */
export const DEFAULT_CHURN_INTERVAL_MS = 100;
/** Phase 5: how long the run waits for deliveries after the last churn message. */
export const DEFAULT_CHURN_TAIL_MS = 5_000;
/** Phase 7: RSS sampling period. */
export const DEFAULT_RSS_SAMPLE_MS = 100;

/**
 * Phase 4: M = 5000, "fewer for N = 60 and up (2500, 1500)": every message costs N - 1 deliveries,
 * and GossipSub manages about 1,000 deliveries/s in one process, so this keeps its run to minutes.
 */
export function defaultTputMessages(n: number): number {
  if (n < 60) return 5_000;
  if (n < 100) return 2_500;
  return 1_500;
}

/** The scenario as the notes define it, for one contender at one N. */
export function scenarioDefaults(contender: string, n: number): ScenarioConfig {
  return {
    contender,
    n,
    seed: 1,
    procs: 1,
    phases: ALL_PHASES,
    dials: DEFAULT_DIALS,
    meshTarget: DEFAULT_MESH_TARGET,
    formationTimeoutMs: DEFAULT_FORMATION_TIMEOUT_MS,
    settleMs: DEFAULT_SETTLE_MS,
    warmupMessages: DEFAULT_WARMUP_MESSAGES,
    latencyMessages: DEFAULT_LATENCY_MESSAGES,
    latencyPayloadBytes: DEFAULT_LATENCY_PAYLOAD_BYTES,
    latencyStepTimeoutMs: DEFAULT_LATENCY_STEP_TIMEOUT_MS,
    tputPublisher: DEFAULT_TPUT_PUBLISHER,
    tputMessages: defaultTputMessages(n),
    tputPayloadBytes: DEFAULT_TPUT_PAYLOAD_BYTES,
    tputIdleTimeoutMs: DEFAULT_TPUT_IDLE_TIMEOUT_MS,
    churnPauseMs: DEFAULT_CHURN_PAUSE_MS,
    churnFraction: DEFAULT_CHURN_FRACTION,
    churnMessages: DEFAULT_CHURN_MESSAGES,
    churnPayloadBytes: DEFAULT_CHURN_PAYLOAD_BYTES,
    churnIntervalMs: DEFAULT_CHURN_INTERVAL_MS,
    churnTailMs: DEFAULT_CHURN_TAIL_MS,
    rssSampleMs: DEFAULT_RSS_SAMPLE_MS,
  };
}

/**
 * `--quick`: N = 10 and a tenth of the messages, so CI checks that every phase runs end to end in
 * seconds. Its figures mean nothing.
 */
export function quickOverrides(): Partial<ScenarioConfig> {
  return {
    settleMs: 200,
    warmupMessages: 5,
    latencyMessages: 20,
    tputMessages: 200,
    churnPauseMs: 300,
    churnMessages: 10,
    churnTailMs: 1_000,
  };
}
