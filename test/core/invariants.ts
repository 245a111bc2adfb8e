import type { ProtocolAction } from '../../src/core/actions.js';
import { components } from '../../src/core/graph.js';
import type { NodeId } from '../../src/core/types.js';
import type { SimNode, TestNetwork } from './network.js';

/** Per-node invariants that must hold after every event. Returns the violations found. */
export function localViolations(node: SimNode, maxActive: number, maxPassive: number): string[] {
  const problems: string[] = [];
  const self = node.info.id;
  const active = node.protocol.activeView().map((peer) => peer.id);
  const passive = node.protocol.passiveView().map((peer) => peer.id);
  const activeSet = new Set(active);
  const passiveSet = new Set(passive);
  const name = node.info.address;
  if (activeSet.size !== active.length) problems.push(`${name}: duplicate in active view`);
  if (passiveSet.size !== passive.length) problems.push(`${name}: duplicate in passive view`);
  if (activeSet.has(self) || passiveSet.has(self)) problems.push(`${name}: lists itself`);
  if (active.length > maxActive) problems.push(`${name}: active view ${active.length} > ${maxActive}`);
  if (passive.length > maxPassive) problems.push(`${name}: passive view ${passive.length} > ${maxPassive}`);
  for (const id of active) if (passiveSet.has(id)) problems.push(`${name}: ${id} both active and passive`);
  const announced = node.announcedNeighbours;
  if (announced.size !== activeSet.size || [...announced].some((id) => !activeSet.has(id))) {
    problems.push(`${name}: neighborUp/neighborDown disagree with the active view`);
  }
  return problems;
}

/** Invariants of one event's actions, checked against the state after the event. */
export function actionViolations(node: SimNode, actions: readonly ProtocolAction[]): string[] {
  const problems: string[] = [];
  const active = new Set(node.protocol.activeView().map((peer) => peer.id));
  for (const action of actions) {
    if (action.type === 'send' && action.to.id === node.info.id)
      problems.push(`${node.info.address}: sends to itself`);
    if (action.type === 'disconnect' && active.has(action.peer.id)) {
      problems.push(`${node.info.address}: disconnects active peer ${action.peer.address}`);
    }
    if (action.type === 'setTimer' && !(action.after > 0))
      problems.push(`${node.info.address}: timer after ${action.after}`);
  }
  return problems;
}

/** The active-view graph among live nodes, as the components helper wants it. */
export function liveOverlay(network: TestNetwork): Map<NodeId, NodeId[]> {
  const live = new Set(network.live().map((node) => node.info.id));
  const graph = new Map<NodeId, NodeId[]>();
  for (const node of network.live()) {
    graph.set(
      node.info.id,
      node.protocol
        .activeView()
        .map((peer) => peer.id)
        .filter((id) => live.has(id)),
    );
  }
  return graph;
}

/** Live nodes grouped by connected component of the active-view graph. */
export function liveComponents(network: TestNetwork): NodeId[][] {
  return components(liveOverlay(network));
}

/** Once nothing is in flight: views are symmetric and never name a dead node. */
export function symmetryViolations(network: TestNetwork): string[] {
  const problems: string[] = [];
  for (const node of network.live()) {
    for (const peer of node.protocol.activeView()) {
      const other = network.node(peer.id);
      if (!other.alive) {
        problems.push(`${node.info.address} keeps dead ${peer.address} active`);
      } else if (!other.protocol.activeView().some((back) => back.id === node.info.id)) {
        problems.push(`${node.info.address} has ${peer.address} active but not vice versa`);
      }
    }
  }
  return problems;
}
