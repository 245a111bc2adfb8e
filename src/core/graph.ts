import type { NodeId } from './types.js';

/**
 * Connected components of an overlay given as "who lists whom as a neighbour", treating each link as
 * undirected. Used by the demo, the tests and the simulator to tell whether a broadcast can reach
 * everyone.
 */
export function components(neighbors: ReadonlyMap<NodeId, Iterable<NodeId>>): NodeId[][] {
  const undirected = new Map<NodeId, Set<NodeId>>();
  const edge = (a: NodeId, b: NodeId): void => {
    const set = undirected.get(a);
    if (set) set.add(b);
    else undirected.set(a, new Set([b]));
  };
  for (const [node, list] of neighbors) {
    edge(node, node);
    for (const other of list) {
      if (!neighbors.has(other)) continue; // a link to a node outside the graph (e.g. dead) does not connect
      edge(node, other);
      edge(other, node);
    }
  }
  const seen = new Set<NodeId>();
  const result: NodeId[][] = [];
  for (const start of neighbors.keys()) {
    if (seen.has(start)) continue;
    const component: NodeId[] = [];
    const stack = [start];
    seen.add(start);
    while (stack.length > 0) {
      const node = stack.pop() as NodeId;
      component.push(node);
      for (const next of undirected.get(node) ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
      }
    }
    result.push(component);
  }
  return result;
}

export function isConnected(neighbors: ReadonlyMap<NodeId, Iterable<NodeId>>): boolean {
  return components(neighbors).length <= 1;
}

/**
 * Every link is listed by both of its ends. HyParView's active views are symmetric once messages in
 * flight have arrived; a broadcast sent while they are not can miss a node that is still joining.
 */
export function isSymmetric(neighbors: ReadonlyMap<NodeId, Iterable<NodeId>>): boolean {
  const listed = new Map<NodeId, Set<NodeId>>();
  for (const [node, list] of neighbors) listed.set(node, new Set(list));
  for (const [node, set] of listed) {
    for (const other of set) {
      const back = listed.get(other);
      if (back && !back.has(node)) return false;
    }
  }
  return true;
}
