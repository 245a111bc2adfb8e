import { liveComponents } from './invariants.js';
import type { TestNetwork } from './network.js';

/**
 * Checks of a settled overlay: run after the membership had time to act on every change (long
 * enough for refused requests to be retried after their back-off) and with nothing in flight.
 */

/** No request may still wait for an answer once the network is quiet. */
export function pendingViolations(network: TestNetwork): string[] {
  return network
    .live()
    .filter((node) => node.protocol.stats().pendingRequests > 0)
    .map((node) => `${node.info.address} still has requests pending`);
}

/** The members of one component of the overlay agree on its tag (see OverlayTag). */
export function tagViolations(network: TestNetwork): string[] {
  const problems: string[] = [];
  for (const component of liveComponents(network)) {
    const tags = new Set(component.map((id) => network.node(id).protocol.overlayTag()));
    if (tags.size > 1) problems.push(`a component of ${component.length} nodes has ${tags.size} tags`);
  }
  return problems;
}

/** A node that knows a live peer is never left without neighbours. */
export function isolationViolations(network: TestNetwork): string[] {
  const problems: string[] = [];
  for (const node of network.live()) {
    if (node.protocol.activeView().length > 0) continue;
    const livePassive = node.protocol.passiveView().filter((peer) => network.node(peer.id).alive);
    if (livePassive.length > 0)
      problems.push(`${node.info.address} is isolated but knows ${livePassive.length} live peers`);
  }
  return problems;
}

/**
 * The refill guarantee: a node below the view size has asked every passive peer, and a peer only
 * refuses when full, so every live passive peer of such a node is full. This is the exact sense in
 * which HyParView heals: a lost neighbour is replaced unless every known replacement is full.
 * Equivalently, two overlay components stay apart only while each cross-component acquaintance
 * is held by a full node or known by a node whose own view is full.
 */
export function refillViolations(network: TestNetwork, maxActive: number): string[] {
  const problems: string[] = [];
  for (const node of network.live()) {
    if (node.protocol.activeView().length >= maxActive) continue;
    for (const peer of node.protocol.passiveView()) {
      const other = network.node(peer.id);
      if (other.alive && other.protocol.activeView().length < maxActive) {
        problems.push(`${node.info.address} (not full) never got ${peer.address} (not full) as neighbour`);
      }
    }
  }
  return problems;
}

/**
 * The escalation guarantee: a node two or more short of the view size insists (Neighbor{high})
 * once every passive peer refused it, so it only stays there if it knows no live peer to ask.
 */
export function starvationViolations(network: TestNetwork, maxActive: number): string[] {
  const problems: string[] = [];
  for (const node of network.live()) {
    const size = node.protocol.activeView().length;
    if (size >= maxActive - 1) continue;
    const livePassive = node.protocol.passiveView().filter((peer) => network.node(peer.id).alive);
    if (livePassive.length > 0) problems.push(`${node.info.address} starves at ${size} neighbours`);
  }
  return problems;
}

/** Whether every live node lists every other live node in one of its views. */
export function knowsEveryone(network: TestNetwork): boolean {
  const live = network.live();
  return live.every((node) => {
    const known = new Set(
      [...node.protocol.activeView(), ...node.protocol.passiveView()].map((peer) => peer.id),
    );
    return live.every((other) => other === node || known.has(other.info.id));
  });
}

/**
 * When connectivity is guaranteed: if every live node knows every other (as multicast beacons
 * ensure) and there are at most 2 × maxActive of them. Proof: take components A and B, x in A and
 * y in B, each knowing the other. If x is not full, the refill guarantee makes y full, so
 * |B| >= maxActive + 1, and the escalation guarantee gives x at least maxActive - 1 neighbours, so
 * |A| >= maxActive; symmetrically if x is full. Hence at least 2 × maxActive + 1 live nodes.
 * Beyond that, components whose members are all (nearly) full could in principle stay apart, so
 * connectivity there is measured, not asserted.
 */
export function connectivityViolations(network: TestNetwork, maxActive: number): string[] {
  const live = network.live().length;
  if (live > 2 * maxActive || !knowsEveryone(network)) return [];
  const overlay = liveComponents(network);
  return overlay.length > 1
    ? [`${live} live nodes that know each other form ${overlay.length} components`]
    : [];
}
