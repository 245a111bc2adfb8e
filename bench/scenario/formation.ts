import { setTimeout as delay } from 'node:timers/promises';
import { components, isSymmetric } from '../../src/core/graph.js';
import { pickMany, type Random } from '../../src/core/random.js';
import type { NodeHost, NodeSnapshot } from '../cluster/node-host.js';
import type { ScenarioConfig } from './config.js';
import { now } from './payload.js';
import type { ProgressReporter } from './progress.js';
import type { FormationResult } from './result.js';
import { round } from './stats.js';

/**
 * How often formation looks at every node's mesh. It is the resolution of the formation times;
 * the look costs a few microseconds per node, so even 1,000 nodes are not slowed down.
 */
export const FORMATION_POLL_MS = 10;

/** A node's mesh is at target: min(meshTarget, the peers it is connected to), and not empty. */
export function atTarget(node: NodeSnapshot, meshTarget: number): boolean {
  return node.mesh >= 1 && node.mesh >= Math.min(meshTarget, node.connected);
}

/**
 * Formed: every node's mesh is at target, and the nodes' neighbour lists agree with each other and
 * make one connected overlay. The last two always hold for GossipSub once the dials are done
 * (connections are symmetric and the dial plan links everyone); for meshcast, whose mesh is its
 * active view, they are what makes "at target" mean the overlay is ready.
 */
export function isFormed(nodes: readonly NodeSnapshot[], meshTarget: number): boolean {
  if (!nodes.every((node) => atTarget(node, meshTarget))) return false;
  const graph = new Map(nodes.map((node) => [node.key, node.neighbours] as const));
  return isSymmetric(graph) && components(graph).length === 1;
}

/** Scenario §2: node i > 0 dials `dials` distinct random earlier nodes, all at t0. */
export function dialPlan(
  addresses: Record<number, string>,
  n: number,
  dials: number,
  random: Random,
): Record<number, string[]> {
  const plan: Record<number, string[]> = { 0: [] };
  for (let i = 1; i < n; i++) {
    const earlier = Array.from({ length: i }, (_, j) => j);
    plan[i] = pickMany(random, earlier, dials).map((j) => addresses[j] ?? '');
  }
  return plan;
}

export async function runFormation(
  config: ScenarioConfig,
  host: NodeHost,
  random: Random,
  progress: ProgressReporter,
): Promise<FormationResult> {
  progress({ phase: 'start', done: 0, total: config.n });
  const startedAt = now();
  const addresses = await host.start();
  const startMs = now() - startedAt;
  const plan = dialPlan(addresses, config.n, config.dials, random);

  const t0 = now();
  const joined = host.join(plan, config.formationTimeoutMs);
  let firstMeshPeerAt: number | null = null;
  let formedAt: number | null = null;
  let nodes: NodeSnapshot[] = [];
  while (now() - t0 < config.formationTimeoutMs) {
    nodes = await host.snapshot();
    const at = now();
    if (firstMeshPeerAt === null && nodes.every((node) => node.mesh >= 1)) firstMeshPeerAt = at;
    const ready = nodes.filter((node) => atTarget(node, config.meshTarget)).length;
    progress({ phase: 'formation', done: ready, total: config.n });
    if (isFormed(nodes, config.meshTarget)) {
      formedAt = at;
      break;
    }
    await delay(FORMATION_POLL_MS);
  }
  const finished = Object.values(await joined);
  const allDialsAt = finished.every((t) => t !== null) ? Math.max(...(finished as number[])) : null;

  const since = (t: number | null): number | null => (t === null ? null : round(t - t0));
  const count = Math.max(1, nodes.length);
  return {
    startMs: round(startMs),
    allDialsMs: since(allDialsAt),
    firstMeshPeerMs: since(firstMeshPeerAt),
    formedMs: since(formedAt),
    nodesAtTarget: nodes.filter((node) => atTarget(node, config.meshTarget)).length,
    meanMeshSize: round(nodes.reduce((s, node) => s + node.mesh, 0) / count, 2),
    meanConnected: round(nodes.reduce((s, node) => s + node.connected, 0) / count, 2),
  };
}
