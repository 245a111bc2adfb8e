import { EventEmitter } from 'node:events';
import { components, isSymmetric } from '../../src/core/graph.js';
import type { NodeId } from '../../src/core/types.js';
import { createNode, type MeshMessage, type MeshNode } from '../../src/node/node.js';
import type { NodeOptions } from '../../src/node/options.js';
import type { LinkManager } from '../../src/transport/link-manager.js';
import type { RawPeer } from '../transport/helpers.js';
import { uniqueDiscovery } from './unique-group.js';
import { waitUntil } from './wait.js';

/** The node's transport, to play a peer that sends what an honest node would not, or to watch its dials. */
export function transportOf(node: MeshNode): LinkManager {
  return (node as unknown as { transport: LinkManager }).transport;
}

/** Makes `raw` (handshaken) `node`'s active neighbour: its Hello and a Neighbor request it must accept. */
export async function becomeNeighbour(raw: RawPeer, node: MeshNode): Promise<void> {
  raw.hello();
  raw.send({ type: 'neighbor', priority: 'high' });
  await waitUntil(
    'the raw peer to be an active neighbour',
    () => node.peers().active.some((p) => p.id === raw.id),
    [[node, 'peer:up']],
  );
}

/** In-process nodes on 127.0.0.1 that discover each other on a group of their own. */
export class TestMesh {
  readonly nodes: MeshNode[] = [];
  /** Every message each node's application received, in order. */
  readonly received = new Map<NodeId, MeshMessage[]>();
  private readonly discovery = uniqueDiscovery();
  /**
   * Fires on every node's 'message', 'peer:up' and 'peer:down', from listeners registered when the
   * node is added: waits wake up even when a listener a test adds later throws.
   */
  private readonly activity = new EventEmitter();

  constructor(private readonly defaults: NodeOptions = {}) {}

  /** The group and port this mesh's beacons use. */
  discoveryAddress(): { group: string; discoveryPort: number } {
    return this.discovery;
  }

  add(options: NodeOptions = {}): MeshNode {
    const node = createNode({
      host: '127.0.0.1',
      interface: '127.0.0.1',
      port: 0,
      ...this.discovery,
      ...this.defaults,
      ...options,
    });
    const inbox: MeshMessage[] = [];
    this.received.set(node.id, inbox);
    node.on('message', (m) => {
      inbox.push(m);
      this.activity.emit('change');
    });
    node.on('peer:up', () => this.activity.emit('change'));
    node.on('peer:down', () => this.activity.emit('change'));
    this.nodes.push(node);
    return node;
  }

  async start(count: number): Promise<MeshNode[]> {
    const added = Array.from({ length: count }, () => this.add());
    await Promise.all(added.map((n) => n.start()));
    return added;
  }

  live(): MeshNode[] {
    return this.nodes.filter((n) => !this.dead.has(n));
  }

  private readonly dead = new Set<MeshNode>();

  /** Crash a node: its sockets close with no goodbye. */
  async crash(node: MeshNode): Promise<void> {
    this.dead.add(node);
    await node.stop({ goodbye: false });
  }

  async leave(node: MeshNode): Promise<void> {
    this.dead.add(node);
    await node.stop();
  }

  /**
   * Live nodes all have neighbours, list no dead ones, agree on every link (no neighbour request
   * still in flight) and form one connected overlay.
   */
  connected(): boolean {
    const live = this.live();
    const ids = new Set(live.map((n) => n.id));
    const graph = new Map<NodeId, NodeId[]>();
    for (const node of live) {
      const active = node.peers().active.map((p) => p.id);
      if (active.length === 0 || active.some((id) => !ids.has(id))) return false;
      graph.set(node.id, active);
    }
    return isSymmetric(graph) && components(graph).length === 1;
  }

  private wakeOn(): [EventEmitter, string][] {
    return [[this.activity, 'change']];
  }

  waitConnected(timeoutMs = 20_000): Promise<void> {
    return waitUntil('a connected overlay of live nodes', () => this.connected(), this.wakeOn(), timeoutMs);
  }

  /** Broadcast from `from` and wait until every other live node delivered it. */
  async broadcastAndWait(from: MeshNode, text: string, timeoutMs = 10_000): Promise<void> {
    const { origin, seq } = from.broadcast(text);
    const others = this.live().filter((n) => n !== from);
    await waitUntil(
      `"${text}" to reach ${others.length} nodes`,
      () => others.every((n) => this.count(n, origin, seq) >= 1),
      this.wakeOn(),
      timeoutMs,
    );
  }

  count(node: MeshNode, origin: NodeId, seq: number): number {
    return (this.received.get(node.id) ?? []).filter((m) => m.origin === origin && m.seq === seq).length;
  }

  /** Every (origin, seq) a node received, and how often: exactly-once means all ones. */
  deliveryCounts(node: MeshNode): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of this.received.get(node.id) ?? []) {
      const key = `${m.origin}:${m.seq}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
