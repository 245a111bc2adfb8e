import type { NodeId } from '../../src/core/types.js';
import { liveComponents } from './invariants.js';
import type { TestNetwork } from './network.js';

/**
 * Long enough for any broadcast strategy to finish: Plumtree repairs a tree that concurrent
 * broadcasts pruned apart through IHave announcements and Grafts, which wait on timers (a graft
 * timeout plus retries); flooding is done once the network drains.
 */
const BROADCAST_SETTLE_MS = 5_000;

/**
 * Every live node broadcasts once, the network drains and timers run until every strategy is done.
 * Returns every (node, message) pair that did not see exactly one copy if it shares the origin's
 * component, or zero copies otherwise.
 */
export function broadcastFromEveryone(network: TestNetwork): string[] {
  const problems: string[] = [];
  const componentOf = new Map<NodeId, number>();
  liveComponents(network).forEach((members, index) => {
    for (const id of members) componentOf.set(id, index);
  });
  const sent: { origin: NodeId; seq: number }[] = [];
  for (const node of network.live()) {
    network.broadcast(node.info.id);
    sent.push({ origin: node.info.id, seq: node.protocol.lastSeq() });
  }
  network.runFor(BROADCAST_SETTLE_MS);
  for (const { origin, seq } of sent) {
    for (const node of network.live()) {
      if (node.info.id === origin) continue;
      const expected = componentOf.get(node.info.id) === componentOf.get(origin) ? 1 : 0;
      const got = node.deliveryCounts.get(`${origin}:${seq}`) ?? 0;
      if (got !== expected) problems.push(`${node.info.address} got ${got} copies of ${origin}:${seq}`);
    }
  }
  return problems;
}
