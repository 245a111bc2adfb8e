import { afterEach, expect, it } from 'vitest';
import type { BroadcastKind } from '../../src/core/broadcast/strategy.js';
import { TestMesh } from '../helpers/mesh.js';
import { waitUntil } from '../helpers/wait.js';

const NODES = 20;
const WARM_UP = 5;
const MEASURED = 20;

let meshes: TestMesh[] = [];
afterEach(async () => {
  await Promise.all(meshes.map((m) => m.stopAll()));
  meshes = [];
});

/** Payload copies that arrived at a node that already had the message, summed over the mesh. */
function redundantCopies(mesh: TestMesh): number {
  return mesh.nodes.reduce((sum, n) => sum + n.stats().protocol.duplicates, 0);
}

/** Runs 20 nodes with one broadcast strategy; returns redundant copies per measured broadcast. */
async function redundancyPerBroadcast(broadcast: BroadcastKind): Promise<number> {
  const mesh = new TestMesh({ protocol: { broadcast } });
  meshes.push(mesh);
  const nodes = await mesh.start(NODES);
  await mesh.waitConnected();
  // Compare like with like: an overlay that has grown to about four links per node, not the
  // sparse tree of its first seconds (where flooding is as cheap as a tree).
  await waitUntil(
    'an average of 4 links per node',
    () => mesh.connected() && nodes.reduce((sum, n) => sum + n.peers().active.length, 0) >= 4 * NODES,
    nodes.map((n) => [n, 'peer:up'] as const),
    30_000,
  );
  // The first broadcasts build Plumtree's tree (each is flooded once); measure after them.
  for (let i = 0; i < WARM_UP; i++) await mesh.broadcastAndWait(nodes[i % NODES]!, `warm-up ${i}`);
  const before = redundantCopies(mesh);
  for (let i = 0; i < MEASURED; i++) await mesh.broadcastAndWait(nodes[(i * 7) % NODES]!, `measured ${i}`);
  // Every node delivered every broadcast exactly once.
  for (const node of nodes) {
    const counts = mesh.deliveryCounts(node);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
  }
  return (redundantCopies(mesh) - before) / MEASURED;
}

it('Plumtree sends far fewer redundant payload copies than flooding over 20 real nodes', async () => {
  const flood = await redundancyPerBroadcast('flood');
  const plumtree = await redundancyPerBroadcast('plumtree');
  // Flooding sends each payload over every link but the one it came on: with 2 links per node
  // (4 ends) that is at least 2N redundant copies. Plumtree's tree sends it about once per node.
  console.log(
    `redundant payload copies per broadcast, 20 nodes: flood ${flood.toFixed(1)}, plumtree ${plumtree.toFixed(2)}`,
  );
  expect(flood).toBeGreaterThan(NODES);
  expect(plumtree).toBeLessThan(flood / 10);
});
