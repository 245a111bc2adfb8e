import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { components, cutVertices, isSymmetric } from '../../src/core/graph.js';
import type { NodeId } from '../../src/core/types.js';

/** An overlay from undirected links written "a-b", each listed by its first end only. */
function overlay(nodes: string, links: string[]): Map<NodeId, NodeId[]> {
  const neighbours = new Map<NodeId, NodeId[]>();
  for (const node of nodes.split('')) neighbours.set(node, []);
  for (const link of links) {
    const [a, b] = link.split('-') as [NodeId, NodeId];
    (neighbours.get(a) as NodeId[]).push(b);
  }
  return neighbours;
}

function sorted(cuts: ReturnType<typeof cutVertices>): [NodeId, number][] {
  return cuts.map((cut): [NodeId, number] => [cut.node, cut.cutOff]).sort(([a], [b]) => a.localeCompare(b));
}

/** By definition: take each node out of its component and see what the rest falls into. */
function cutVerticesByRemoval(neighbours: ReadonlyMap<NodeId, readonly NodeId[]>): [NodeId, number][] {
  const result: [NodeId, number][] = [];
  for (const component of components(neighbours)) {
    for (const removed of component) {
      const rest = new Map<NodeId, NodeId[]>();
      for (const node of component) {
        if (node !== removed)
          rest.set(
            node,
            (neighbours.get(node) ?? []).filter((other) => other !== removed),
          );
      }
      const pieces = components(rest);
      if (pieces.length < 2) continue;
      const largest = Math.max(...pieces.map((piece) => piece.length));
      result.push([removed, component.length - 1 - largest]);
    }
  }
  return result.sort(([a], [b]) => a.localeCompare(b));
}

describe('cutVertices', () => {
  it('finds none in a cycle, a single node or an empty overlay', () => {
    expect(cutVertices(overlay('abcd', ['a-b', 'b-c', 'c-d', 'd-a']))).toEqual([]);
    expect(cutVertices(overlay('a', []))).toEqual([]);
    expect(cutVertices(new Map())).toEqual([]);
  });

  it('finds the inner nodes of a path, each cutting off its smaller side', () => {
    expect(sorted(cutVertices(overlay('abcde', ['a-b', 'b-c', 'c-d', 'd-e'])))).toEqual([
      ['b', 1],
      ['c', 2],
      ['d', 1],
    ]);
  });

  it('finds the centre of a star, which leaves every leaf alone', () => {
    expect(sorted(cutVertices(overlay('cwxyz', ['c-w', 'c-x', 'c-y', 'c-z'])))).toEqual([['c', 3]]);
  });

  it('finds the node joining a pocket to the rest, whichever end the search starts from', () => {
    // Two triangles, abc and efg, that only d joins: d cuts off three, c and e two each.
    const links = ['a-b', 'b-c', 'c-a', 'c-d', 'd-e', 'e-f', 'f-g', 'g-e'];
    expect(sorted(cutVertices(overlay('abcdefg', links)))).toEqual([
      ['c', 2],
      ['d', 3],
      ['e', 2],
    ]);
    expect(sorted(cutVertices(overlay('gfedcba', links)))).toEqual([
      ['c', 2],
      ['d', 3],
      ['e', 2],
    ]);
  });

  it('ignores links to nodes outside the overlay, as a dead neighbour connects nothing', () => {
    expect(cutVertices(overlay('ab', ['a-b', 'a-z', 'b-z']))).toEqual([]);
  });

  it('agrees with taking each node out in turn, on random overlays', () => {
    const names = 'abcdefghijkl'.split('');
    const graph = fc.integer({ min: 1, max: names.length }).chain((n) =>
      fc.record({
        n: fc.constant(n),
        links: fc.array(fc.tuple(fc.integer({ min: 0, max: n }), fc.integer({ min: 0, max: n - 1 })), {
          maxLength: 3 * n,
        }),
      }),
    );
    fc.assert(
      fc.property(graph, ({ n, links }) => {
        const neighbours = new Map<NodeId, NodeId[]>();
        for (const name of names.slice(0, n)) neighbours.set(name, []);
        // Index n names a node outside the overlay.
        for (const [to, from] of links)
          (neighbours.get(names[from] as NodeId) as NodeId[]).push(names[to] as NodeId);
        expect(sorted(cutVertices(neighbours))).toEqual(cutVerticesByRemoval(neighbours));
      }),
      { numRuns: 500 },
    );
  });
});

describe('isSymmetric', () => {
  it('holds when each link is listed by both ends, and fails on one listed by one end only', () => {
    const both = overlay('abc', ['a-b', 'b-a', 'b-c', 'c-b']);
    expect(isSymmetric(both)).toBe(true);
    (both.get('c') as NodeId[]).push('a');
    expect(isSymmetric(both)).toBe(false);
  });

  it('ignores links to nodes outside the overlay, which cannot list anything back', () => {
    expect(isSymmetric(overlay('ab', ['a-b', 'b-a', 'a-z']))).toBe(true);
  });
});
