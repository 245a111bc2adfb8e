import { pickOne, type Random } from '../../src/core/random.js';
import type { NodeHost } from '../cluster/node-host.js';
import type { ScenarioConfig } from './config.js';
import { MessagePhase } from './payload.js';
import type { ProgressReporter } from './progress.js';
import type { LatencyResult, LatencyRun } from './result.js';
import { distribution, ratio } from './stats.js';
import type { DeliveryTracker } from './tracker.js';
import { trafficBetween } from './traffic.js';

/**
 * Publishes `messages` messages one at a time: the next goes out when every other node has the
 * current one, or after the step timeout.
 */
async function oneAtATime(
  host: NodeHost,
  tracker: DeliveryTracker,
  phase: MessagePhase,
  config: ScenarioConfig,
  messages: number,
  bytes: number,
  publisher: () => number,
  progress: ProgressReporter,
  label: string,
): Promise<LatencyRun> {
  const log = tracker.open(phase, messages, config.n - 1);
  for (let k = 0; k < messages; k++) {
    const publishedAt = await host.publish(publisher(), phase, k, bytes);
    if (Number.isNaN(log.publishedAt[k] as number)) log.publishedAt[k] = publishedAt;
    await log.waitFor(k, config.latencyStepTimeoutMs);
    progress({ phase: label, done: k + 1, total: messages });
  }
  const last: number[] = [];
  const first: number[] = [];
  for (let k = 0; k < messages; k++) {
    const published = log.publishedAt[k] as number;
    last.push(log.isComplete(k) ? (log.lastAt[k] as number) - published : Number.POSITIVE_INFINITY);
    first.push((log.firstAt[k] as number) - published);
  }
  return {
    messages,
    last: distribution(last),
    first: distribution(first),
    deliveryRatio: ratio(log.deliveries, messages * (config.n - 1)),
    appDuplicates: log.appDuplicates,
  };
}

/** Scenario §2's warm-up messages from node 0; nothing is measured. */
export async function runWarmup(
  config: ScenarioConfig,
  host: NodeHost,
  tracker: DeliveryTracker,
  progress: ProgressReporter,
): Promise<void> {
  const bytes = config.latencyPayloadBytes;
  await oneAtATime(
    host,
    tracker,
    MessagePhase.warmup,
    config,
    config.warmupMessages,
    bytes,
    () => 0,
    progress,
    'warm-up',
  );
}

/** Scenario §3: `latency-node0` then `latency-random`, with the RMR of both together. */
export async function runLatency(
  config: ScenarioConfig,
  host: NodeHost,
  tracker: DeliveryTracker,
  random: Random,
  progress: ProgressReporter,
): Promise<LatencyResult> {
  const nodes = Array.from({ length: config.n }, (_, i) => i);
  const m = config.latencyMessages;
  const bytes = config.latencyPayloadBytes;
  const before = await host.counters();
  const node0 = await oneAtATime(
    host,
    tracker,
    MessagePhase.latencyNode0,
    config,
    m,
    bytes,
    () => 0,
    progress,
    'latency-node0',
  );
  const randomPublisher = (): number => pickOne(random, nodes) ?? 0;
  const randomRun = await oneAtATime(
    host,
    tracker,
    MessagePhase.latencyRandom,
    config,
    m,
    bytes,
    randomPublisher,
    progress,
    'latency-random',
  );
  const traffic = trafficBetween(before, await host.counters());
  return { node0, random: randomRun, traffic };
}
