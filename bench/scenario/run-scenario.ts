import { setTimeout as delay } from 'node:timers/promises';
import { seededRandom } from '../../src/core/random.js';
import type { NodeHost, ProcessUsage } from '../cluster/node-host.js';
import { runChurn } from './churn.js';
import type { ScenarioConfig } from './config.js';
import { runFormation } from './formation.js';
import { runLatency, runWarmup } from './latency.js';
import { now } from './payload.js';
import type { ProgressReporter } from './progress.js';
import type { ResourcesResult, RunResult } from './result.js';
import { runThroughput } from './throughput.js';
import type { DeliveryTracker } from './tracker.js';

/** Scenario §7 from the usage the hosts report. */
function resources(n: number, end: ProcessUsage, afterFormation: ProcessUsage | undefined): ResourcesResult {
  const perNode = (bytes: number): number => Math.round(bytes / n);
  return {
    processes: end.processes,
    baselineRss: end.baselineRss,
    rssAfterFormation: afterFormation?.rss ?? null,
    rssPerNodeAfterFormation: afterFormation
      ? perNode(afterFormation.rss - afterFormation.baselineRss)
      : null,
    peakRss: end.peakRss,
    peakRssPerNode: perNode(end.peakRss),
    peakRssPerNodeNet: perNode(end.peakRss - end.baselineRss),
    maxRss: end.maxRss,
  };
}

/**
 * One run: the phases of the scenario in order, for one contender at one N. Formation always runs
 * (the others need a mesh); the other phases run when `config.phases` names them.
 */
export async function runScenario(
  config: ScenarioConfig,
  description: string,
  host: NodeHost,
  tracker: DeliveryTracker,
  progress: ProgressReporter,
): Promise<RunResult> {
  const startedAt = now();
  const random = seededRandom(config.seed);
  const base = { contender: config.contender, description, n: config.n, procs: config.procs, config };
  let partial: Partial<RunResult> = {};
  let afterFormation: ProcessUsage | undefined;
  try {
    const formation = await runFormation(config, host, random, progress);
    afterFormation = await host.usage();
    partial = { formation };
    await delay(config.settleMs);
    await runWarmup(config, host, tracker, progress);
    if (config.phases.includes('latency')) {
      partial = { ...partial, latency: await runLatency(config, host, tracker, random, progress) };
    }
    if (config.phases.includes('throughput')) {
      partial = { ...partial, throughput: await runThroughput(config, host, tracker, progress) };
    }
    if (config.phases.includes('churn')) {
      partial = { ...partial, churn: await runChurn(config, host, tracker, random, progress) };
    }
    const usage = await host.usage();
    return {
      ...base,
      ...partial,
      ok: true,
      wallMs: Math.round(now() - startedAt),
      resources: resources(config.n, usage, afterFormation),
    };
  } catch (error) {
    return { ...base, ...partial, ok: false, error: String(error), wallMs: Math.round(now() - startedAt) };
  }
}
