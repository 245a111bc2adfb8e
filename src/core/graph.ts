import type { NodeId } from './types.js';

/**
 * Connected components of an overlay given as "who lists whom as a neighbour", treating each link as
 * undirected. Used by the demo, the tests and the simulator to tell whether a broadcast can reach
 * everyone.
 */
export function components(neighbors: ReadonlyMap<NodeId, Iterable<NodeId>>): NodeId[][] {
  const undirected = undirectedLinks(neighbors);
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
      for (const next of undirected.get(node) as Set<NodeId>) {
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

/**
 * Each node's links, listed from either end, to nodes of the graph only: a link to a node outside
 * it (e.g. dead) connects nothing. Every node of `neighbors` has an entry, possibly empty.
 */
function undirectedLinks(neighbors: ReadonlyMap<NodeId, Iterable<NodeId>>): Map<NodeId, Set<NodeId>> {
  const undirected = new Map<NodeId, Set<NodeId>>();
  for (const node of neighbors.keys()) undirected.set(node, new Set());
  for (const [node, list] of neighbors) {
    for (const other of list) {
      if (other === node || !neighbors.has(other)) continue;
      (undirected.get(node) as Set<NodeId>).add(other);
      (undirected.get(other) as Set<NodeId>).add(node);
    }
  }
  return undirected;
}

/** A node whose failure alone would split its part of the overlay. */
export interface CutVertex {
  readonly node: NodeId;
  /** Nodes its failure leaves outside the largest remaining piece of its component. */
  readonly cutOff: number;
}

/**
 * The overlay's single points of failure (articulation points), by Tarjan's low-link depth-first
 * search, iterative so that 100,000 nodes do not overflow the stack. A random overlay of degree 5,
 * as HyParView builds, almost never has one; when it does, a pocket of nodes reaches the rest only
 * through that node, which lengthens every path into the pocket, and one crash cuts it off until
 * the pocket's nodes repair from their passive views.
 */
export function cutVertices(neighbors: ReadonlyMap<NodeId, Iterable<NodeId>>): CutVertex[] {
  const undirected = undirectedLinks(neighbors);
  const order = new Map<NodeId, number>();
  const low = new Map<NodeId, number>();
  const size = new Map<NodeId, number>();
  const result: CutVertex[] = [];
  for (const root of undirected.keys()) {
    if (order.has(root)) continue;
    // Per node: the sizes of the child subtrees that only it links to the rest (low >= its order).
    const separated = new Map<NodeId, number[]>();
    const visit = (node: NodeId): void => {
      order.set(node, order.size);
      low.set(node, order.get(node) as number);
      size.set(node, 1);
      separated.set(node, []);
    };
    visit(root);
    const stack: { node: NodeId; parent: NodeId | undefined; next: Iterator<NodeId> }[] = [
      { node: root, parent: undefined, next: (undirected.get(root) as Set<NodeId>)[Symbol.iterator]() },
    ];
    let rootChildren = 0;
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as (typeof stack)[number];
      const step = top.next.next();
      if (!step.done) {
        const other = step.value;
        if (!order.has(other)) {
          visit(other);
          if (top.node === root) rootChildren++;
          stack.push({
            node: other,
            parent: top.node,
            next: (undirected.get(other) as Set<NodeId>)[Symbol.iterator](),
          });
        } else if (other !== top.parent) {
          low.set(top.node, Math.min(low.get(top.node) as number, order.get(other) as number));
        }
        continue;
      }
      stack.pop();
      const parent = top.parent;
      if (parent === undefined) continue;
      low.set(parent, Math.min(low.get(parent) as number, low.get(top.node) as number));
      size.set(parent, (size.get(parent) as number) + (size.get(top.node) as number));
      if ((low.get(top.node) as number) >= (order.get(parent) as number)) {
        (separated.get(parent) as number[]).push(size.get(top.node) as number);
      }
    }
    const componentSize = size.get(root) as number;
    for (const [node, pieces] of separated) {
      // The root's children are all separated from each other, but it cuts only if it has two.
      if (pieces.length === 0 || (node === root && rootChildren < 2)) continue;
      const inPieces = pieces.reduce((sum, piece) => sum + piece, 0);
      const rest = componentSize - 1 - inPieces;
      const largest = Math.max(rest, ...pieces);
      result.push({ node, cutOff: componentSize - 1 - largest });
    }
  }
  return result;
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
