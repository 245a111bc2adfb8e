import type { BenchOptions } from './options.js';
import { MAX_PROCESS_PER_NODE, SCALING_FORMATION_TIMEOUT_MS } from './options.js';
import { quickOverrides, type ScenarioConfig, scenarioDefaults } from './scenario/config.js';

/**
 * The runs of one invocation, in the order they execute. Contenders alternate (A B C at the first
 * N, C B A at the next, ...), so that a machine getting slower or faster during the invocation does
 * not favour whoever runs first.
 */
export function planRuns(options: BenchOptions): ScenarioConfig[] {
  const runs: ScenarioConfig[] = [];
  options.sizes.forEach((n, i) => {
    const order = i % 2 === 0 ? options.contenders : [...options.contenders].reverse();
    for (const contender of order) runs.push(runConfig(options, contender, n));
  });
  return runs;
}

export function processCount(procs: number | 'node', n: number): number {
  if (procs === 'node') {
    if (n > MAX_PROCESS_PER_NODE) {
      throw new Error(
        `--procs node runs at most ${MAX_PROCESS_PER_NODE} nodes (one process each); got N = ${n}`,
      );
    }
    return n;
  }
  return Math.min(procs, n);
}

function runConfig(options: BenchOptions, contender: string, n: number): ScenarioConfig {
  const base = scenarioDefaults(contender, n);
  const overrides: Partial<ScenarioConfig> = {
    seed: options.seed,
    procs: processCount(options.procs, n),
    phases: options.phases,
    ...(options.quick ? quickOverrides() : {}),
    ...(options.scaling ? { formationTimeoutMs: SCALING_FORMATION_TIMEOUT_MS } : {}),
    ...(options.warmupMessages !== undefined ? { warmupMessages: options.warmupMessages } : {}),
    ...(options.latencyMessages !== undefined ? { latencyMessages: options.latencyMessages } : {}),
    ...(options.tputMessages !== undefined ? { tputMessages: options.tputMessages } : {}),
    ...(options.churnMessages !== undefined ? { churnMessages: options.churnMessages } : {}),
  };
  return { ...base, ...overrides };
}
