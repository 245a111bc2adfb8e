import fc from 'fast-check';
import type { NodeId } from '../../src/core/types.js';
import { actionViolations, localViolations } from './invariants.js';
import { TestNetwork } from './network.js';

/**
 * Random churn for property tests: joins (through any node, dead ones included), joins by
 * discovery, beacons, crashes, graceful leaves, extra shuffles, broadcasts, partial deliveries
 * (so events interleave with messages in flight) and clock advances.
 */

export const MAX_ACTIVE = 5;
export const MAX_PASSIVE = 30;
export const MAX_NODES = 30;

export type Command =
  | { readonly kind: 'joinNew'; readonly contact: number }
  | { readonly kind: 'discoverNew'; readonly heard: readonly number[] }
  | { readonly kind: 'beacon'; readonly node: number }
  | { readonly kind: 'lateContact'; readonly node: number; readonly contact: number }
  | { readonly kind: 'kill'; readonly node: number }
  | { readonly kind: 'leave'; readonly node: number }
  | { readonly kind: 'shuffle'; readonly node: number }
  | { readonly kind: 'broadcast'; readonly node: number }
  | { readonly kind: 'deliver'; readonly steps: number }
  | { readonly kind: 'advance'; readonly ms: number };

const index = fc.nat({ max: 1_000 });
export const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('joinNew' as const), contact: index }), weight: 4 },
  {
    arbitrary: fc.record({
      kind: fc.constant('discoverNew' as const),
      heard: fc.array(index, { minLength: 1, maxLength: 4 }),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant('beacon' as const), node: index }), weight: 1 },
  {
    arbitrary: fc.record({ kind: fc.constant('lateContact' as const), node: index, contact: index }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant('kill' as const), node: index }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('leave' as const), node: index }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('shuffle' as const), node: index }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('broadcast' as const), node: index }), weight: 2 },
  {
    arbitrary: fc.record({ kind: fc.constant('deliver' as const), steps: fc.integer({ min: 1, max: 40 }) }),
    weight: 4,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 12_000 }) }),
    weight: 3,
  },
);

export const scenario = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  order: fc.constantFrom('fifo' as const, 'random' as const),
  reportLocalClose: fc.boolean(),
  /** Whether every live node beacons before the network settles (as on a LAN with discovery). */
  beaconsBeforeSettle: fc.boolean(),
  initial: fc.integer({ min: 2, max: 24 }),
  commands: fc.array(command, { minLength: 5, maxLength: 40 }),
});

function pick<T>(items: readonly T[], i: number): T | undefined {
  return items.length === 0 ? undefined : items[i % items.length];
}

export function addStarted(network: TestNetwork): NodeId {
  const id = network.addNode().id;
  network.start(id);
  return id;
}

export function run(network: TestNetwork, commands: readonly Command[]): void {
  const liveIds = (): NodeId[] => network.live().map((node) => node.info.id);
  const allIds = (): NodeId[] => network.all().map((node) => node.info.id);
  for (const step of commands) {
    switch (step.kind) {
      case 'joinNew': {
        if (network.all().length >= MAX_NODES) break;
        // Any node, dead ones included: joining through a dead contact must not wedge the joiner.
        const contact = pick(allIds(), step.contact);
        const id = addStarted(network);
        if (contact !== undefined) network.join(id, contact);
        break;
      }
      case 'discoverNew': {
        if (network.all().length >= MAX_NODES) break;
        const heard = step.heard
          .map((i) => pick(liveIds(), i))
          .filter((id): id is NodeId => id !== undefined);
        const id = addStarted(network);
        for (const other of heard) {
          network.discover(id, other);
          network.discover(other, id);
        }
        break;
      }
      case 'beacon': {
        const beaconer = pick(liveIds(), step.node);
        if (beaconer === undefined) break;
        for (const listener of liveIds()) if (listener !== beaconer) network.discover(listener, beaconer);
        break;
      }
      case 'lateContact': {
        // A bootstrap address answered late: its node is alive, since it answered.
        const node = pick(liveIds(), step.node);
        const contact = pick(liveIds(), step.contact);
        if (node !== undefined && contact !== undefined) network.lateContact(node, contact);
        break;
      }
      case 'kill': {
        const victim = pick(liveIds(), step.node);
        if (victim !== undefined) network.kill(victim);
        break;
      }
      case 'leave': {
        const leaver = pick(liveIds(), step.node);
        if (leaver !== undefined) network.leave(leaver);
        break;
      }
      case 'shuffle': {
        const node = pick(liveIds(), step.node);
        if (node !== undefined) network.handle(node, { type: 'timer', timer: { type: 'shuffle' } });
        break;
      }
      case 'broadcast': {
        const node = pick(liveIds(), step.node);
        if (node !== undefined) network.broadcast(node);
        break;
      }
      case 'deliver':
        for (let i = 0; i < step.steps && network.step(); i++);
        break;
      case 'advance':
        network.runFor(step.ms);
        break;
    }
  }
}

export function checkedNetwork(
  seed: number,
  order: 'fifo' | 'random',
  reportLocalClose: boolean,
): TestNetwork {
  const network = new TestNetwork({ seed, order, reportLocalClose });
  network.observer = (node, _event, actions) => {
    const problems = [...localViolations(node, MAX_ACTIVE, MAX_PASSIVE), ...actionViolations(node, actions)];
    for (const action of actions) {
      if (action.type !== 'deliver') continue;
      if ((node.deliveryCounts.get(`${action.origin}:${action.seq}`) ?? 0) > 1) {
        problems.push(`${node.info.address} delivered ${action.origin}:${action.seq} twice`);
      }
    }
    if (problems.length > 0) throw new Error(problems.join('\n'));
  };
  return network;
}
