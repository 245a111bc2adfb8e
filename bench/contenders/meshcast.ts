import type { ProtocolOptions } from '../../src/core/protocol.js';
import { createNode, type MeshNode } from '../../src/node/node.js';
import type { Contender, ContenderNode, TrafficCounters } from './contender.js';
import { freePort } from './free-port.js';

/**
 * Every benchmark node shares 127.0.0.1, so the transport's per-host caps, meant to stop one LAN
 * host from hogging a node (32 pending handshakes, 64 links), would count all N nodes as one host
 * and refuse the hubs' links at N = 100 and above. They are lifted, as GossipSub's per-IP limits
 * are (see libp2p.ts); every other transport and protocol setting stays at its default.
 */
export const PER_HOST_LIMIT = 100_000;

/** What distinguishes one meshcast variant from another; everything else is the default. */
export interface MeshcastVariant {
  readonly protocol?: Partial<ProtocolOptions>;
  /** Sign and verify every broadcast (NodeOptions.signatures, default true). */
  readonly signatures?: boolean;
  /** Signature-checking worker threads (NodeOptions.verifyThreads; default: up to 2, cores allowing). */
  readonly verifyThreads?: number;
}

/** meshcast over its own TCP links, in the given variant (see registry.ts). */
export function meshcastContender(name: string, description: string, variant: MeshcastVariant): Contender {
  return {
    name,
    description,
    async prepare() {},
    async createNode(onPayload) {
      return new MeshcastBenchNode(await freePort(), variant, onPayload);
    },
  };
}

class MeshcastBenchNode implements ContenderNode {
  readonly address: string;
  private node: MeshNode | undefined;

  constructor(
    private readonly port: number,
    private readonly variant: MeshcastVariant,
    private readonly onPayload: (payload: Uint8Array) => void,
  ) {
    this.address = `127.0.0.1:${port}`;
  }

  /** Joins through the contacts as bootstrap addresses; discovery is off so every contender knows the same. */
  async join(contacts: readonly string[]): Promise<void> {
    const node = createNode({
      host: '127.0.0.1',
      port: this.port,
      discovery: false,
      bootstrap: contacts,
      transport: { maxPendingHandshakesPerHost: PER_HOST_LIMIT, maxLinksPerHost: PER_HOST_LIMIT },
      protocol: this.variant.protocol ?? {},
      signatures: this.variant.signatures ?? true,
      ...(this.variant.verifyThreads === undefined ? {} : { verifyThreads: this.variant.verifyThreads }),
    });
    this.node = node;
    node.on('message', (message) => this.onPayload(message.data));
    const firstNeighbour = new Promise<void>((resolve) => node.once('peer:up', () => resolve()));
    await node.start();
    if (contacts.length > 0) await firstNeighbour;
  }

  /** The node id, which the node draws itself when it is created, at join(). */
  get key(): string {
    return this.node?.id ?? '';
  }

  meshSize(): number {
    return this.node?.peers().active.length ?? 0;
  }

  /** Every meshcast link carries the active view, so the two counts are the same. */
  connectedCount(): number {
    return this.meshSize();
  }

  neighbourKeys(): string[] {
    return this.node?.peers().active.map((peer) => peer.id) ?? [];
  }

  async publish(payload: Uint8Array): Promise<void> {
    this.node?.broadcast(payload);
  }

  /** The node's own backpressure: resolves once no neighbour's send queue is above its high-water mark. */
  async writable(): Promise<void> {
    await this.node?.drained();
  }

  counters(): TrafficCounters {
    const all = this.node?.stats();
    if (!all) return { copies: 0, deliveries: 0, control: {} };
    const stats = all.protocol;
    const control: Record<string, number> = {
      broadcastControl: stats.broadcastControlSent,
      duplicates: stats.duplicates,
      // Why a message was slow is usually here: a Graft answered is a repair after a graft timeout.
      graftsAnswered: stats.graftsAnswered,
      optimisations: stats.optimisations,
      relinksSent: stats.relinksSent,
      neighborDowns: stats.neighborDowns,
      evictions: stats.evictions,
    };
    // Links the transport refused, by reason: a figure that looks wrong often starts here.
    for (const [reason, count] of Object.entries(all.transport.rejections)) {
      if (count > 0) control[`rejected.${reason}`] = count;
    }
    return { copies: stats.payloadsReceived, deliveries: stats.delivered, control };
  }

  kill(): void {
    void this.node?.stop({ goodbye: false });
  }

  async stop(): Promise<void> {
    await this.node?.stop({ goodbye: false });
  }
}
