import type { NodeHost } from '../cluster/node-host.js';
import type { ScenarioConfig } from './config.js';
import { MessagePhase } from './payload.js';
import type { ProgressReporter } from './progress.js';
import type { ThroughputResult } from './result.js';
import { ratio, round } from './stats.js';
import type { DeliveryTracker } from './tracker.js';
import { trafficBetween } from './traffic.js';

/** No throughput run on this machine comes near it; it only bounds a run that stopped moving. */
const THROUGHPUT_DEADLINE_MS = 30 * 60_000;
/** How often the progress display is told how far delivery got. */
const PROGRESS_EVERY_MS = 250;

/**
 * Scenario §4: one node publishes M messages of 1 KiB as fast as its backpressure allows. The run
 * ends when every message reached every node, or when delivery stopped for the idle timeout.
 */
export async function runThroughput(
  config: ScenarioConfig,
  host: NodeHost,
  tracker: DeliveryTracker,
  progress: ProgressReporter,
): Promise<ThroughputResult> {
  const m = config.tputMessages;
  const expected = m * (config.n - 1);
  const log = tracker.open(MessagePhase.throughput, m, config.n - 1);
  const countersBefore = await host.counters();
  const usageBefore = await host.usage();

  let publisherDone = false;
  const burst = host
    .burst(config.tputPublisher, MessagePhase.throughput, m, config.tputPayloadBytes)
    .finally(() => {
      publisherDone = true;
    });
  const ticker = setInterval(
    () => progress({ phase: 'throughput', done: log.deliveries, total: expected }),
    PROGRESS_EVERY_MS,
  );
  // One wait for the whole phase: it ends at completion, or once deliveries stop.
  const delivered = log.waitAll(config.tputIdleTimeoutMs, THROUGHPUT_DEADLINE_MS);
  const { first } = await Promise.race([
    burst,
    // A publisher blocked for good still lets the deliveries be counted.
    delivered.then(() => ({ first: Number.NaN })),
  ]);
  await delivered;
  clearInterval(ticker);
  const usageAfter = await host.usage();
  const traffic = trafficBetween(countersBefore, await host.counters());

  const firstPublish = Number.isNaN(first) ? (log.publishedAt[0] as number) : first;
  const durationMs = log.deliveries > 0 ? log.lastDeliveryAt - firstPublish : null;
  const perSec = (count: number): number | null =>
    durationMs === null || durationMs <= 0 ? null : round((count / durationMs) * 1000, 1);
  const cpuMicros = usageAfter.cpuMicros - usageBefore.cpuMicros;
  return {
    messages: m,
    msgsPerSec: perSec(log.complete),
    durationMs: durationMs === null ? null : round(durationMs),
    deliveriesPerSec: perSec(log.deliveries),
    deliveryRatio: ratio(log.deliveries, expected),
    completeMessages: log.complete,
    cpuPerDeliveryUs: log.deliveries === 0 ? null : round(cpuMicros / log.deliveries, 2),
    cpuPerMessageUs: log.complete === 0 ? null : round(cpuMicros / log.complete, 1),
    publisherStalled: !publisherDone,
    appDuplicates: log.appDuplicates,
    traffic,
  };
}
