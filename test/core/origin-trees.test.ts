import { describe, expect, it } from 'vitest';
import { OriginTrees } from '../../src/core/broadcast/origin-trees.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

describe('OriginTrees', () => {
  it('gives an origin its own tree, a copy of the shared one, on its second message', () => {
    const trees = new OriginTrees(16);
    trees.set(A, 'p2', true);
    trees.noteMessage(A, 1, 0);
    expect(trees.hasOwn(A)).toBe(false);
    trees.noteMessage(A, 1, 0);
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

  it("tells which tree a message followed: one older than its origin's own tree followed the shared one", () => {
    const trees = new OriginTrees(16);
    trees.noteMessage(A, 4, 0);
    expect(trees.followedOwn(A, 4)).toBe(false);
    trees.noteMessage(A, 5, 0); // A's tree is copied for message 5
    expect(trees.followedOwn(A, 4)).toBe(false);
    expect(trees.followedOwn(A, 5)).toBe(true);
    expect(trees.followedOwn(A, 6)).toBe(true);
    expect(trees.followedOwn(B, 6)).toBe(false);
    trees.setForMessage(A, 4, 'p1', true); // the shared tree
    trees.setForMessage(A, 5, 'p2', true); // A's own
    expect(trees.isLazy(B, 'p1')).toBe(true);
    expect(trees.isLazy(A, 'p1')).toBe(false);
    expect(trees.isLazy(A, 'p2')).toBe(true);
    expect(trees.isLazy(B, 'p2')).toBe(false);
    trees.setForMessage(A, 4, 'p1', false);
    expect(trees.sharedLazy).toBe(0);
  });

  it('makes a neighbour that came or went eager in every tree', () => {
    const trees = new OriginTrees(16);
    trees.set(A, 'p1', true); // the shared tree
    trees.noteMessage(A, 1, 0);
    trees.noteMessage(A, 1, 0);
    trees.set(A, 'p2', true); // A's own tree
    trees.resetPeer('p1');
    trees.resetPeer('p2');
    expect(trees.isLazy(A, 'p1') || trees.isLazy(A, 'p2') || trees.isLazy(B, 'p1')).toBe(false);
    expect(trees.sharedLazy).toBe(0);
  });

  it('keeps at most maxOrigins own trees, forgetting the least recently used', () => {
    const trees = new OriginTrees(2);
    for (const origin of [A, B, A, B]) trees.noteMessage(origin, 1, 0);
    trees.noteMessage(A, 1, 0); // A used more recently than B
    trees.noteMessage(C, 1, 0);
    trees.noteMessage(C, 1, 0);
    expect(trees.ownTrees).toBe(2);
    expect(trees.hasOwn(A)).toBe(true);
    expect(trees.hasOwn(B)).toBe(false);
    expect(trees.hasOwn(C)).toBe(true);
  });

  it('counts an origin used again after a newer tree was made as the most recently used', () => {
    const trees = new OriginTrees(2);
    for (const origin of [A, A, A, B, B]) trees.noteMessage(origin, 1, 0); // A used last before B's tree
    trees.noteMessage(A, 2, 0); // A used more recently than B
    trees.noteMessage(C, 1, 0);
    trees.noteMessage(C, 1, 0);
    expect(trees.hasOwn(A)).toBe(true);
    expect(trees.hasOwn(B)).toBe(false);
    expect(trees.hasOwn(C)).toBe(true);
  });

  it('remembers at most maxOrigins origins seen once, forgetting the oldest', () => {
    const trees = new OriginTrees(2);
    for (const origin of [A, B, C]) trees.noteMessage(origin, 1, 0); // A is forgotten
    trees.noteMessage(A, 2, 0); // its first message again, as far as the trees know
    expect(trees.hasOwn(A)).toBe(false);
    trees.noteMessage(C, 2, 0);
    expect(trees.hasOwn(C)).toBe(true);
  });

  it("names the link an origin's messages reach us by: in its own tree the newest one's, in the shared tree any tree link", () => {
    const trees = new OriginTrees(16);
    trees.set(A, 'p3', true); // the shared tree
    expect(trees.isCarrier(A, 'p1')).toBe(true);
    expect(trees.isCarrier(A, 'p3')).toBe(false);
    trees.noteMessage(A, 1, 0, 'p1');
    trees.noteMessage(A, 2, 0, 'p1'); // A's own tree, reaching us over p1
    expect(trees.isCarrier(A, 'p1')).toBe(true);
    expect(trees.isCarrier(A, 'p2')).toBe(false);
    trees.noteMessage(A, 4, 0, 'p2');
    trees.noteMessage(A, 3, 0, 'p1'); // a late one moves nothing
    expect(trees.isCarrier(A, 'p2')).toBe(true);
    expect(trees.isCarrier(A, 'p1')).toBe(false);
    trees.set(A, 'p2', true); // pruned: no longer a tree link
    expect(trees.isCarrier(A, 'p2')).toBe(false);
  });

  it('names the carrier as still bringing older messages for less than `within` after the newest came', () => {
    const trees = new OriginTrees(16);
    trees.noteMessage(A, 1, 0, 'p1');
    trees.noteMessage(A, 2, 1_000, 'p1');
    expect(trees.carrierBehind(A, 3, 1_249, 250)).toBe('p1');
    expect(trees.carrierBehind(A, 3, 1_250, 250)).toBeUndefined();
    // Not for a message it already brought, nor once the carrier is pruned.
    expect(trees.carrierBehind(A, 2, 1_000, 250)).toBeUndefined();
    trees.set(A, 'p1', true);
    expect(trees.carrierBehind(A, 3, 1_000, 250)).toBeUndefined();
    // Nor for an origin without a tree of its own, nor for our own messages.
    trees.noteMessage(B, 1, 1_000, 'p1');
    expect(trees.carrierBehind(B, 2, 1_000, 250)).toBeUndefined();
    trees.noteMessage(C, 1, 1_000);
    trees.noteMessage(C, 2, 1_000);
    expect(trees.carrierBehind(C, 3, 1_000, 250)).toBeUndefined();
  });

  it('keeps the carrier where the newest message first came: a repeat of it (the seen cache forgot it) moves nothing', () => {
    const trees = new OriginTrees(16);
    trees.noteMessage(A, 1, 0, 'p1');
    trees.noteMessage(A, 2, 0, 'p1');
    trees.noteMessage(A, 2, 60_000, 'p2');
    expect(trees.isCarrier(A, 'p1')).toBe(true);
    expect(trees.isCarrier(A, 'p2')).toBe(false);
    // Nor is the tree taken to be bringing messages still: the newest came at 0.
    expect(trees.carrierBehind(A, 3, 60_100, 250)).toBeUndefined();
  });

  it("remembers an origin's newest seq and its last eight, for its own tree only", () => {
    const trees = new OriginTrees(16);
    for (let seq = 1; seq <= 12; seq++) trees.noteMessage(A, seq, 0);
    trees.noteMessage(A, 3, 0); // a late one
    expect(trees.recentSeqs(A)).toEqual([6, 7, 8, 9, 10, 11, 12, 3]);
    expect(trees.isSuperseded(A, 11)).toBe(true);
    expect(trees.isSuperseded(A, 12)).toBe(false);
    trees.noteMessage(B, 1, 0); // one message: no tree of its own, nothing remembered
    expect(trees.recentSeqs(B)).toEqual([]);
    expect(trees.isSuperseded(B, 0)).toBe(false);
  });

  it("counts each neighbour's late echoes apart: its second is a repeat, whoever echoed in between, and starts it afresh", () => {
    const trees = new OriginTrees(16);
    trees.noteMessage(A, 1, 0, 'p1');
    trees.noteMessage(A, 2, 0, 'p1'); // A's own tree, carried by p1
    const echoes = (...peers: string[]): boolean[] => peers.map((p) => trees.isRepeatEcho(A, p));
    // Four neighbours echo in turn: each one's second is a repeat, with the three others' in between.
    expect(echoes('p2', 'p3', 'p4', 'p5')).toEqual([false, false, false, false]);
    expect(echoes('p2', 'p3', 'p4', 'p5')).toEqual([true, true, true, true]);
    // A repeat (a Prune) starts that neighbour's count afresh, and leaves the others' alone.
    expect(echoes('p2', 'p3', 'p2', 'p3')).toEqual([false, false, true, true]);
    // The carrier's late copies are never echoes, nor counted as such.
    expect(echoes('p1', 'p1')).toEqual([false, false]);
    // Another origin's tree counts its own echoes; one without a tree of its own counts none.
    trees.noteMessage(B, 1, 0, 'p1');
    trees.noteMessage(B, 2, 0, 'p1');
    expect(trees.isRepeatEcho(B, 'p2')).toBe(false);
    expect(trees.isRepeatEcho(C, 'p2')).toBe(false);
    expect(trees.isRepeatEcho(C, 'p2')).toBe(false);
  });

  it("forgets a neighbour's single late echo when its link comes or goes", () => {
    const trees = new OriginTrees(16);
    trees.noteMessage(A, 1, 0, 'p1');
    trees.noteMessage(A, 2, 0, 'p1');
    expect(trees.isRepeatEcho(A, 'p2')).toBe(false);
    expect(trees.isRepeatEcho(A, 'p3')).toBe(false);
    trees.resetPeer('p2');
    // p2's link is new: its next echo is its first. p3's is remembered still.
    expect(trees.isRepeatEcho(A, 'p2')).toBe(false);
    expect(trees.isRepeatEcho(A, 'p3')).toBe(true);
    expect(trees.isRepeatEcho(A, 'p2')).toBe(true);
  });

  it('remembers the single late echoes of eight neighbours per tree, forgetting the oldest first', () => {
    const trees = new OriginTrees(16);
    trees.noteMessage(A, 1, 0, 'p1');
    trees.noteMessage(A, 2, 0, 'p1');
    // Nine neighbours over time (the view changes): the first one's echo is forgotten.
    for (let i = 2; i <= 10; i++) expect(trees.isRepeatEcho(A, `p${i}`)).toBe(false);
    expect(trees.isRepeatEcho(A, 'p2')).toBe(false);
    // p3 to p10 and now p2 again: the eight most recent are all remembered.
    for (let i = 4; i <= 10; i++) expect(trees.isRepeatEcho(A, `p${i}`)).toBe(true);
    expect(trees.isRepeatEcho(A, 'p2')).toBe(true);
  });
});
