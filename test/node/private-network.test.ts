import { afterEach, describe, expect, it } from 'vitest';
import { networkKeyFromSecret } from '../../src/identity/network-key.js';
import { createNode, type MeshNode } from '../../src/node/node.js';
import type { NodeOptions } from '../../src/node/options.js';
import { TestMesh } from '../helpers/mesh.js';

const KEY_A = networkKeyFromSecret(Buffer.alloc(32, 0xa));
const KEY_B = networkKeyFromSecret(Buffer.alloc(32, 0xb));

let meshes: TestMesh[] = [];
let loose: MeshNode[] = [];
afterEach(async () => {
  await Promise.all([...meshes.map((m) => m.stopAll()), ...loose.map((n) => n.stop())]);
  meshes = [];
  loose = [];
});

function looseNode(options: NodeOptions): MeshNode {
  const node = createNode({ host: '127.0.0.1', interface: '127.0.0.1', port: 0, ...options });
  loose.push(node);
  return node;
}

const everyone = (node: MeshNode): string[] => {
  const { active, passive } = node.peers();
  return [...active, ...passive, ...node.links().map((l) => l.peer)].map((p) => p.id);
};

describe('private networks', () => {
  it('two networks with different keys and an open node share one LAN and never mix', async () => {
    const a = new TestMesh({ networkKey: KEY_A });
    const b = new TestMesh({ ...a.discoveryAddress(), networkKey: KEY_B });
    meshes = [a, b];
    const [seedA] = await a.start(3);
    await b.start(3);
    const seedAddress = `127.0.0.1:${seedA!.address()!.port}`;
    // The open node hears every beacon and dials the A network's seed directly as well.
    const open = looseNode({ ...a.discoveryAddress(), bootstrap: [seedAddress] });
    await open.start();

    await Promise.all([a.waitConnected(), b.waitConnected()]);
    // Each keyed node has heard the other networks' beacons and refused them.
    await pollUntil(
      'every node to refuse foreign beacons and the open node to be refused at the seed',
      () =>
        [...a.nodes, ...b.nodes].every((n) => (n.stats().discovery?.unauthenticated ?? 0) >= 2) &&
        seedA!.stats().transport.rejections['wrong-network-key'] >= 1,
    );

    const idsA = new Set(a.nodes.map((n) => n.id));
    const idsB = new Set(b.nodes.map((n) => n.id));
    for (const node of a.nodes) expect(everyone(node).every((id) => idsA.has(id))).toBe(true);
    for (const node of b.nodes) expect(everyone(node).every((id) => idsB.has(id))).toBe(true);
    expect(everyone(open)).toEqual([]);
    expect(open.stats().transport.linksOpened).toBe(0);

    await a.broadcastAndWait(a.nodes[1]!, 'for network A only');
    await b.broadcastAndWait(b.nodes[2]!, 'for network B only');
    for (const node of b.nodes)
      expect(b.received.get(node.id)?.map((m) => m.origin)).not.toContain(a.nodes[1]!.id);
    for (const node of a.nodes)
      expect(a.received.get(node.id)?.map((m) => m.origin)).not.toContain(b.nodes[2]!.id);
  });

  it('refuses a bootstrap dial from a node with another key, or none, at the handshake', async () => {
    const a = new TestMesh({ networkKey: KEY_A, discovery: false });
    meshes = [a];
    const [seed] = await a.start(1);
    const address = `127.0.0.1:${seed!.address()!.port}`;
    const outsiders = [
      looseNode({ discovery: false, bootstrap: [address], networkKey: KEY_B }),
      looseNode({ discovery: false, bootstrap: [address] }),
    ];
    await Promise.all(outsiders.map((n) => n.start()));
    await pollUntil(
      'the seed to refuse both',
      () => seed!.stats().transport.rejections['wrong-network-key'] >= 2,
    );
    expect(everyone(seed!)).toEqual([]);
    for (const outsider of outsiders) {
      expect(everyone(outsider)).toEqual([]);
      expect(outsider.stats().transport.linksOpened).toBe(0);
    }
    // A node with the right key joins through the same seed.
    const insider = a.add({ bootstrap: [address] });
    await insider.start();
    await a.waitConnected();
  });
});

/** For counters that no event announces: re-checks every few milliseconds until a deadline. */
function pollUntil(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(check, 10);
    };
    check();
  });
}
