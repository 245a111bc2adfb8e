import { describe, expect, it } from 'vitest';
import { pickMany, type Random, randomInt, seededRandom } from '../../src/core/random.js';
import type { NodeId } from '../../src/core/types.js';
import { liveComponents } from './invariants.js';
import { TestNetwork } from './network.js';

const NODES = 30;
const BROADCASTS = 50;
/** Broadcasts after which the tree must have formed (the first ones flood and prune). */
const WARM_UP = 5;
/** Quiet time after each broadcast: room for announcements, graft timers and retries. */
const SPACING_MS = 2_000;
const MAX_RMR = 0.1;

interface BroadcastOutcome {
  readonly origin: NodeId;
  readonly seq: number;
  /** Payload copies received by all live nodes for this broadcast, duplicates included. */
  readonly copies: number;
  /** Live nodes other than the origin: N - 1 of the RMR formula. */
  readonly receivers: number;
  /** Receivers that did not deliver it exactly once. */
  readonly problems: string[];
}

function rmr(outcome: BroadcastOutcome): number {
  return outcome.copies / outcome.receivers - 1;
}

function totalPayloadsReceived(network: TestNetwork): number {
  let total = 0;
  for (const node of network.live()) total += node.protocol.stats().payloadsReceived;
  return total;
}

/** Grafts that asked for a payload (the others only re-link, for the optimisation). */
function repairGrafts(network: TestNetwork): number {
  let total = 0;
  for (const node of network.all()) {
    const stats = node.protocol.stats();
    total += stats.graftsSent - stats.optimisations;
  }
  return total;
}

/** `NODES` nodes join through random earlier nodes and the overlay settles. */
function settledNetwork(seed: number, order: 'fifo' | 'random'): { network: TestNetwork; ids: NodeId[] } {
  const network = new TestNetwork({ seed, order });
  const ids = network.joinOneByOne(NODES, seededRandom(seed));
  network.runFor(30_000);
  expect(liveComponents(network)).toHaveLength(1);
  return { network, ids };
}

/**
 * One broadcast from a random live node, then quiet time; checks exactly-once delivery to the
 * nodes alive at the end. `whileInFlight` runs right after the origin sent it.
 */
function broadcastOnce(
  network: TestNetwork,
  random: Random,
  index: number,
  whileInFlight?: (origin: NodeId, pushedTo: readonly NodeId[]) => void,
): BroadcastOutcome {
  const live = network.live();
  const origin = (live[randomInt(random, live.length)] as (typeof live)[number]).info.id;
  const before = totalPayloadsReceived(network);
  const actions = network.broadcast(origin, new Uint8Array([index & 0xff, index >> 8]));
  const seq = network.node(origin).protocol.lastSeq();
  whileInFlight?.(
    origin,
    actions.flatMap((a) => (a.type === 'send' && a.message.type === 'gossip' ? [a.to.id] : [])),
  );
  network.runFor(SPACING_MS);
  const problems: string[] = [];
  for (const node of network.live()) {
    if (node.info.id === origin) continue;
    const got = node.deliveryCounts.get(`${origin}:${seq}`) ?? 0;
    if (got !== 1) problems.push(`${node.info.address} got ${got} copies of broadcast ${index}`);
  }
  return {
    origin,
    seq,
    copies: totalPayloadsReceived(network) - before,
    receivers: network.live().length - 1,
    problems,
  };
}

function runBroadcasts(network: TestNetwork, seed: number, count: number, first = 0): BroadcastOutcome[] {
  const random = seededRandom(seed * 31 + first);
  return Array.from({ length: count }, (_, i) => broadcastOnce(network, random, first + i));
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

describe('Plumtree on the test network', () => {
  it.each([
    [1, 'fifo'],
    [2, 'random'],
    [3, 'fifo'],
    [4, 'random'],
  ] as const)(
    '30 nodes, 50 broadcasts: exactly once everywhere, and a tree after the first few (seed %i, %s)',
    (seed, order) => {
      const { network } = settledNetwork(seed, order);
      const outcomes = runBroadcasts(network, seed, BROADCASTS);
      expect(outcomes.flatMap((o) => o.problems)).toEqual([]);
      // The first broadcast floods: each node hears it from most of its neighbours.
      expect(rmr(outcomes[0] as BroadcastOutcome)).toBeGreaterThan(1);
      const settled = outcomes.slice(WARM_UP).map(rmr);
      expect(Math.max(...settled)).toBeLessThan(MAX_RMR);
      expect(mean(settled)).toBeLessThan(MAX_RMR);
    },
  );

  it.each([
    [5, 'fifo'],
    [6, 'random'],
    [7, 'fifo'],
    [8, 'random'],
  ] as const)(
    '30% crash under a broadcast: it and later ones reach every survivor; the tree re-forms (seed %i, %s)',
    (seed, order) => {
      const { network, ids } = settledNetwork(seed, order);
      const before = runBroadcasts(network, seed, 20);
      expect(before.flatMap((o) => o.problems)).toEqual([]);
      const graftsBefore = repairGrafts(network);
      // The crash cuts the tree while the payload is on its way: the nodes the origin pushed it to
      // die first, so their subtrees must be reached through announcements and Grafts. The
      // overlay heals meanwhile.
      const crash = (origin: NodeId, pushedTo: readonly NodeId[]): void => {
        const others = ids.filter((id) => id !== origin && !pushedTo.includes(id));
        const victims = Math.round(NODES * 0.3);
        const chosen = [...pushedTo.slice(0, victims)];
        chosen.push(...pickMany(seededRandom(seed + 1_000), others, victims - chosen.length));
        for (const id of chosen) network.kill(id);
      };
      const during = broadcastOnce(network, seededRandom(seed + 2_000), 20, crash);
      expect(liveComponents(network)).toHaveLength(1);
      expect(during.problems).toEqual([]);
      // Subtrees cut off from the tree were reached through announcements and Grafts.
      expect(repairGrafts(network)).toBeGreaterThan(graftsBefore);
      const after = runBroadcasts(network, seed, 30, 21);
      expect(after.flatMap((o) => o.problems)).toEqual([]);
      // Each tree re-forms the first time it is used after the crash: an origin's own tree on its
      // first broadcast since, the shared tree on the first broadcast from an origin that never
      // sent before. Those pay the Prunes (as the first broadcasts after the crash did when one tree
      // served everyone); every later broadcast must be clean.
      const senders = new Set(before.map((o) => o.origin));
      senders.add(during.origin);
      const used = new Set<string>();
      const reformed = after.flatMap((outcome) => {
        const tree = senders.has(outcome.origin) ? outcome.origin : 'shared';
        senders.add(outcome.origin);
        if (used.has(tree)) return [rmr(outcome)];
        used.add(tree);
        return [];
      });
      expect(reformed.length).toBeGreaterThan(10);
      expect(Math.max(...reformed)).toBeLessThan(MAX_RMR);
    },
  );
});
