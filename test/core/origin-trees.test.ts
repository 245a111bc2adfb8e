import { describe, expect, it } from 'vitest';
import { OriginTrees } from '../../src/core/broadcast/origin-trees.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

describe('OriginTrees', () => {
  it('gives an origin its own tree, a copy of the shared one, on its second message', () => {
    const trees = new OriginTrees(16);
    trees.set(A, 'p2', true);
    trees.noteMessage(A, 1);
    expect(trees.hasOwn(A)).toBe(false);
    trees.noteMessage(A, 1);
    expect(trees.hasOwn(A)).toBe(true);
    expect([...trees.lazyFor(A)]).toEqual(['p2']);
    // Changes for A now stay in A's tree; other origins follow the shared one.
    trees.set(A, 'p1', true);
    trees.set(A, 'p2', false);
    expect(trees.isLazy(A, 'p1')).toBe(true);
    expect(trees.isLazy(B, 'p1')).toBe(false);
    expect(trees.isLazy(B, 'p2')).toBe(true);
    expect(trees.sharedLazy).toBe(1);
  });

  it('makes a neighbour that came or went eager in every tree', () => {
    const trees = new OriginTrees(16);
    trees.set(A, 'p1', true); // the shared tree
    trees.noteMessage(A, 1);
    trees.noteMessage(A, 1);
    trees.set(A, 'p2', true); // A's own tree
    trees.resetPeer('p1');
    trees.resetPeer('p2');
    expect(trees.isLazy(A, 'p1') || trees.isLazy(A, 'p2') || trees.isLazy(B, 'p1')).toBe(false);
    expect(trees.sharedLazy).toBe(0);
  });

  it('keeps at most maxOrigins own trees, forgetting the least recently used', () => {
    const trees = new OriginTrees(2);
    for (const origin of [A, B, A, B]) trees.noteMessage(origin, 1);
    trees.noteMessage(A, 1); // A used more recently than B
    trees.noteMessage(C, 1);
    trees.noteMessage(C, 1);
    expect(trees.ownTrees).toBe(2);
    expect(trees.hasOwn(A)).toBe(true);
    expect(trees.hasOwn(B)).toBe(false);
    expect(trees.hasOwn(C)).toBe(true);
  });
});
