import { setTimeout as delay } from 'node:timers/promises';
import { pickMany, pickOne, type Random } from '../../src/core/random.js';
import type { NodeHost, NodeSnapshot } from '../cluster/node-host.js';
import type { ScenarioConfig } from './config.js';
import { MessagePhase, now } from './payload.js';
import type { ProgressReporter } from './progress.js';
import type { ChurnResult } from './result.js';
import { mean, ratio, round } from './stats.js';
import type { DeliveryTracker } from './tracker.js';

/** Survivors linked to `from` in the pre-kill graph through survivors only (scenario §5). */
export function reachableSurvivors(
  nodes: readonly NodeSnapshot[],
  survivors: ReadonlySet<number>,
  from: number,
): Set<number> {
  const byKey = new Map(nodes.map((node) => [node.key, node] as const));
  const byIndex = new Map(nodes.map((node) => [node.index, node] as const));
  const reached = new Set<number>([from]);
  const stack = [from];
  while (stack.length > 0) {
    const node = byIndex.get(stack.pop() as number);
    for (const key of node?.neighbours ?? []) {
      const next = byKey.get(key);
      if (next && survivors.has(next.index) && !reached.has(next.index)) {
        reached.add(next.index);
        stack.push(next.index);
      }
    }
  }
  reached.delete(from);
  return reached;
}

/**
 * Per message, the share of `group` it reached. None for an empty group, so that every average
 * over it is n/a: a publisher cut off from every survivor reaches all of nobody, which is no 100%.
 */
export function sharesOf(
  messages: number,
  group: ReadonlySet<number>,
  deliveredAmong: (message: number, group: ReadonlySet<number>) => number,
): number[] {
  if (group.size === 0) return [];
  return Array.from({ length: messages }, (_, k) => ratio(deliveredAmong(k, group), group.size) as number);
}

/** First index from which every later entry is 1 (complete); null if the last one is not. */
export function firstFullFrom(perMessage: readonly number[]): number | null {
  let first: number | null = null;
  for (let k = perMessage.length - 1; k >= 0 && perMessage[k] === 1; k--) first = k;
  return first;
}

export function summarise(perMessage: readonly number[]): {
  ratioFirst10: number | null;
  ratioLast10: number | null;
  ratioAll: number | null;
} {
  // 1 only when every message reached the whole group, as ratio() says of one message: rounded
  // alone, 49 complete messages and one that missed 1 of 499 survivors averaged to 1.
  const r = (values: readonly number[]): number | null => {
    const m = mean(values);
    if (m === null) return null;
    return values.every((v) => v === 1) ? 1 : Math.min(round(m, 4), 0.9999);
  };
  return {
    ratioFirst10: r(perMessage.slice(0, 10)),
    ratioLast10: r(perMessage.slice(-10)),
    ratioAll: r(perMessage),
  };
}

/**
 * Scenario §5: kill floor(N * fraction) random nodes at once (abort: sockets destroyed, no
 * goodbye), then a random survivor publishes a message every interval.
 */
export async function runChurn(
  config: ScenarioConfig,
  host: NodeHost,
  tracker: DeliveryTracker,
  random: Random,
  progress: ProgressReporter,
): Promise<ChurnResult> {
  progress({ phase: 'churn pause', done: 0, total: 1 });
  await delay(config.churnPauseMs);
  const graph = await host.snapshot();
  const all = Array.from({ length: config.n }, (_, i) => i);
  const killed = pickMany(random, all, Math.floor(config.n * config.churnFraction));
  const dead = new Set(killed);
  const survivors = new Set(all.filter((i) => !dead.has(i)));
  const publisher = pickOne(random, [...survivors]) ?? 0;
  const others = [...survivors].filter((i) => i !== publisher);
  const reachable = reachableSurvivors(graph, survivors, publisher);
  const m = config.churnMessages;
  const log = tracker.open(MessagePhase.churn, m, others.length, new Set(others));

  const killedAt = now();
  await host.kill(killed);
  for (let k = 0; k < m; k++) {
    const slot = killedAt + k * config.churnIntervalMs;
    const wait = slot - now();
    if (wait > 0) await delay(wait);
    const publishedAt = await host.publish(publisher, MessagePhase.churn, k, config.churnPayloadBytes);
    if (Number.isNaN(log.publishedAt[k] as number)) log.publishedAt[k] = publishedAt;
    progress({ phase: 'churn', done: k + 1, total: m });
  }
  progress({ phase: 'churn tail', done: 0, total: 1 });
  await delay(config.churnTailMs);

  const deliveredAmong = (k: number, group: ReadonlySet<number>): number => log.deliveredAmong(k, group);
  const perMessage = sharesOf(m, new Set(others), deliveredAmong);
  const perMessageReachable = sharesOf(m, reachable, deliveredAmong);
  const firstFull = firstFullFrom(perMessage);
  return {
    killed: killed.length,
    survivors: survivors.size,
    survivorsReachableFromPublisher: reachable.size,
    perMessage,
    ...summarise(perMessage),
    ofReachable: summarise(perMessageReachable),
    timeToFull100Ms: firstFull === null ? null : round((log.publishedAt[firstFull] as number) - killedAt),
    firstFullMessage: firstFull,
  };
}
