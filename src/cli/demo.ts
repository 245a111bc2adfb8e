import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { components, isSymmetric } from '../core/graph.js';
import { pickMany, systemRandom } from '../core/random.js';
import type { NodeId } from '../core/types.js';
import type { Logger } from '../log/logger.js';
import { createNode, type MeshNode } from '../node/node.js';

export interface DemoOptions {
  readonly nodes: number;
  /** Broadcasts sent before the crash, and again after healing. */
  readonly broadcasts: number;
  /** Fraction of nodes killed at once (no goodbye, as a crash). */
  readonly killFraction: number;
  readonly logger: Logger;
  readonly output?: NodeJS.WritableStream;
  /** Longest wait for any one phase; the demo never hangs. */
  readonly phaseTimeoutMs?: number;
}

export interface DemoSummary {
  readonly nodes: number;
  readonly survivors: number;
  readonly formationMs: number;
  readonly healMs: number;
  readonly linksPerNode: { readonly min: number; readonly mean: number; readonly max: number };
  /** Every link is listed by both ends, so each node's in-degree equals its out-degree. */
  readonly symmetric: boolean;
  readonly delivered: number;
  readonly expected: number;
  /** Payload copies that arrived at a node that already had the message (wire redundancy). */
  readonly redundantCopies: number;
  /** Messages handed to an application twice: must be 0. */
  readonly duplicateDeliveries: number;
  readonly ok: boolean;
}

const DEFAULT_PHASE_TIMEOUT_MS = 20_000;

/**
 * A whole swarm on 127.0.0.1 in one process: nodes find each other by multicast (pinned to the
 * loopback interface, on a group chosen at random so that two demos never mix), broadcast, lose a
 * third of their number to a crash, heal, and broadcast again.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const output = options.output ?? process.stdout;
  const phaseTimeoutMs = options.phaseTimeoutMs ?? DEFAULT_PHASE_TIMEOUT_MS;
  const t0 = performance.now();
  const say = (line: string): void => {
    output.write(`[${((performance.now() - t0) / 1000).toFixed(3).padStart(7)}s] ${line}\n`);
  };

  const group = `239.255.${randomInt(1, 255)}.${randomInt(1, 255)}`;
  const nodes: MeshNode[] = [];
  const names = new Map<NodeId, string>();
  const width = String(options.nodes).length;
  for (let i = 0; i < options.nodes; i++) {
    const node = createNode({
      host: '127.0.0.1',
      interface: '127.0.0.1',
      group,
      port: 0,
      logger: options.logger,
    });
    nodes.push(node);
    names.set(node.id, `node-${String(i + 1).padStart(width, '0')}`);
  }
  const nameOf = (id: NodeId): string => names.get(id) ?? id.slice(0, 8);
  const alive = new Set(nodes);

  // Deliveries per message key, to check exactly-once and to know when a broadcast is complete.
  const deliveries = new Map<string, Set<NodeId>>();
  let duplicateDeliveries = 0;
  const changed = new EventTarget();
  const notify = (): void => void changed.dispatchEvent(new Event('change'));

  for (const node of nodes) {
    node.on('peer:up', (peer) => {
      if (nameOf(node.id) < nameOf(peer.id)) say(`${nameOf(node.id)} <-> ${nameOf(peer.id)} linked`);
      notify();
    });
    node.on('peer:down', (peer) => {
      if (alive.has(node)) say(`${nameOf(node.id)} lost its link to ${nameOf(peer.id)}`);
      notify();
    });
    node.on('message', (message) => {
      const key = `${message.origin}:${message.seq}`;
      const seen = deliveries.get(key) ?? new Set<NodeId>();
      deliveries.set(key, seen);
      if (seen.has(node.id)) duplicateDeliveries++;
      seen.add(node.id);
      notify();
    });
  }

  const until = (what: string, condition: () => boolean): Promise<boolean> =>
    new Promise((resolve) => {
      const finish = (result: boolean): void => {
        clearTimeout(deadline);
        changed.removeEventListener('change', check);
        resolve(result);
      };
      const check = (): void => {
        if (condition()) finish(true);
      };
      const deadline = setTimeout(() => {
        say(`gave up waiting: ${what} (after ${phaseTimeoutMs} ms)`);
        finish(false);
      }, phaseTimeoutMs);
      changed.addEventListener('change', check);
      check();
    });

  const overlayHealed = (): boolean => {
    // A lone survivor has no one to link to: nothing is left to heal.
    if (alive.size <= 1) return true;
    const live = new Set([...alive].map((n) => n.id));
    const graph = new Map<NodeId, NodeId[]>();
    for (const node of alive) {
      const active = node.peers().active.map((p) => p.id);
      if (active.length === 0 || active.some((id) => !live.has(id))) return false;
      graph.set(node.id, active);
    }
    return isSymmetric(graph) && components(graph).length === 1;
  };

  let delivered = 0;
  let expected = 0;
  const broadcastRound = async (label: string): Promise<void> => {
    const senders = [...alive];
    for (let i = 0; i < options.broadcasts; i++) {
      const sender = senders[randomInt(senders.length)] as MeshNode;
      const sentAt = performance.now();
      const { origin, seq } = sender.broadcast(`${label} #${i + 1} from ${nameOf(sender.id)}`);
      const key = `${origin}:${seq}`;
      const receivers = alive.size - 1;
      const complete = await until(`broadcast ${key}`, () => (deliveries.get(key)?.size ?? 0) >= receivers);
      const got = deliveries.get(key)?.size ?? 0;
      delivered += got;
      expected += receivers;
      const ms = (performance.now() - sentAt).toFixed(1);
      say(
        `${label} #${i + 1} from ${nameOf(sender.id)} reached ${got}/${receivers} nodes${complete ? ` in ${ms} ms` : ''}`,
      );
    }
  };

  try {
    say(`starting ${options.nodes} nodes on 127.0.0.1, discovery group ${group}`);
    await Promise.all(nodes.map((n) => n.start()));
    const formed = await until('the mesh to form', overlayHealed);
    const formationMs = performance.now() - t0;
    say(formed ? `mesh formed: every node linked, one connected overlay` : 'mesh did not form in time');

    await broadcastRound('broadcast');

    const victims = pickMany(systemRandom(), nodes, Math.floor(options.nodes * options.killFraction));
    const killedAt = performance.now();
    say(`crashing ${victims.length} nodes at once: ${victims.map((v) => nameOf(v.id)).join(' ')}`);
    for (const victim of victims) alive.delete(victim);
    await Promise.all(victims.map((v) => v.stop({ goodbye: false })));
    const healed = await until('the survivors to heal', overlayHealed);
    const healMs = performance.now() - killedAt;
    say(
      healed
        ? `healed in ${healMs.toFixed(0)} ms: the survivors form one connected overlay again`
        : 'survivors did not heal in time',
    );

    await broadcastRound('after crash');

    const degrees = [...alive].map((n) => n.peers().active.length);
    const views = new Map([...alive].map((n) => [n.id, n.peers().active.map((p) => p.id)]));
    const redundantCopies = nodes.reduce((sum, n) => sum + n.stats().protocol.duplicates, 0);
    const summary: DemoSummary = {
      nodes: options.nodes,
      survivors: alive.size,
      formationMs,
      healMs,
      symmetric: isSymmetric(views),
      linksPerNode: {
        min: Math.min(...degrees),
        mean: degrees.reduce((a, b) => a + b, 0) / Math.max(1, degrees.length),
        max: Math.max(...degrees),
      },
      delivered,
      expected,
      redundantCopies,
      duplicateDeliveries,
      ok: formed && healed && delivered === expected && duplicateDeliveries === 0,
    };
    printSummary(summary, output);
    return summary;
  } finally {
    const leaving = [...alive];
    alive.clear(); // their goodbyes are not news
    await Promise.all(leaving.map((n) => n.stop()));
  }
}

function printSummary(s: DemoSummary, output: NodeJS.WritableStream): void {
  const lines = [
    '',
    'summary',
    `  nodes               ${s.nodes} started, ${s.survivors} after the crash`,
    `  mesh formed in      ${s.formationMs.toFixed(0)} ms`,
    `  links per node      ${s.linksPerNode.mean.toFixed(1)} (min ${s.linksPerNode.min}, max ${s.linksPerNode.max})`,
    `  in/out balance      ${s.symmetric ? 'every link listed by both ends: in-degree = out-degree at every node' : 'views NOT symmetric'}`,
    `  broadcasts          ${s.delivered} / ${s.expected} deliveries`,
    `  duplicates          ${s.duplicateDeliveries} delivered twice; ${s.redundantCopies} redundant copies on the wire`,
    `  time to heal        ${s.healMs.toFixed(0)} ms`,
    `  result              ${s.ok ? 'OK' : 'FAILED'}`,
  ];
  output.write(`${lines.join('\n')}\n`);
}
