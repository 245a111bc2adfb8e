import type { Contender, ContenderNode, TrafficCounters } from './contender.js';

/** The one topic every node subscribes to before any dial. */
export const TOPIC = 'meshcast-bench';
/** Only loopback may be dialled: the benchmark must never reach another host. */
const LOOPBACK_PREFIX = '/ip4/127.0.0.1/';
/**
 * Every peer shares 127.0.0.1, so the per-IP limits meant for the open Internet would throttle the
 * benchmark itself: the inbound rate limit defaults to 5 connections per second per IP, and the
 * connection and pending-connection caps would refuse the hubs' links at N = 100 and above.
 */
const CONNECTION_LIMIT = 100_000;
/**
 * How long a dial and the listener's side of its upgrade may take, instead of libp2p's 6 s per
 * address (`addressDialTimeout`), 10 s per dial (`dialTimeout`) and 10 s for an inbound upgrade
 * (`inboundUpgradeTimeout`). All N·3 dials start at once in one event loop, and each connection
 * costs about 60 ms of CPU on the development machine (Noise XX, whose X25519 steps parse DER keys
 * at about 1 ms each under Node 20's OpenSSL 3.0, then identify and the peer store), so at N = 100
 * every handshake advances only as fast as the whole storm: with the defaults 119 to 161 of the
 * 294 dials failed at 6 s (`EncryptionFailedError: The operation was aborted due to timeout`),
 * leaving 2.5 to 3.5 connections per node instead of 5.9, and some nodes with none; raising only the two dial timeouts
 * still lost 52 dials when listeners gave up at 10 s (`Encryption failed`, ECONNRESET). With all
 * three at the formation timeout, every dial completes. The scenario's author, on a machine where
 * N = 60 formed in 2.4 s, never reached these limits; a link abandoned before formation ends
 * only removes an edge the dial plan calls for.
 */
const CONNECTION_SETUP_TIMEOUT_MS = 20_000;

/** What the benchmark counts in each RPC a node receives (the subset of GossipSub's RPC it reads). */
interface ReceivedRpc {
  readonly messages?: readonly { readonly topic?: string }[];
  readonly control?: {
    readonly ihave?: readonly { readonly messageIDs?: readonly unknown[] }[];
    readonly iwant?: readonly { readonly messageIDs?: readonly unknown[] }[];
    readonly idontwant?: readonly { readonly messageIDs?: readonly unknown[] }[];
    readonly graft?: readonly unknown[];
    readonly prune?: readonly unknown[];
  };
}

/**
 * The parts of GossipSub's implementation the benchmark reaches into: the topic mesh (for
 * formation), the RPC handler, wrapped to
 * count every payload copy on the wire (scenario §6), and the outbound streams, whose muxer
 * buffers are the only backpressure signal GossipSub has (scenario §4).
 */
interface GossipsubInternals {
  getMeshPeers(topic: string): string[];
  handleReceivedRpc(from: unknown, rpc: ReceivedRpc): Promise<void>;
  readonly streamsOutbound: Map<string, { readonly rawStream: DrainingStream }>;
}

/** What writable() needs of a libp2p stream: whether it is full, and its 'drain' and 'close' events. */
export interface DrainingStream {
  readonly writableNeedsDrain: boolean;
  addEventListener(type: 'drain' | 'close', listener: () => void): void;
  removeEventListener(type: 'drain' | 'close', listener: () => void): void;
}

/**
 * Resolves at the stream's next 'drain' (or 'close'). Not its onDrain(): that hands back the
 * promise of the stream's first drain, resolved for good, so a stream full a second time was not
 * waited for at all, and the publisher filled Yamux's unbounded buffer (found by a review).
 */
export function nextDrain(stream: DrainingStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.removeEventListener('drain', done);
      stream.removeEventListener('close', done);
      resolve();
    };
    stream.addEventListener('drain', done);
    stream.addEventListener('close', done);
  });
}

const IDS_OF = (entries: readonly { readonly messageIDs?: readonly unknown[] }[] | undefined): number =>
  (entries ?? []).reduce((sum, entry) => sum + (entry.messageIDs?.length ?? 0), 0);

export const LIBP2P_DESCRIPTION =
  'js-libp2p 3.3.11 GossipSub 17.1.1 over TCP+Noise+Yamux, identify; defaults (D=6, heartbeat 1 s, ' +
  'floodPublish, StrictSign Ed25519, scoring) + allowPublishToZeroTopicPeers, emitSelf false, ' +
  'IPColocationFactorWhitelist {127.0.0.1}, raised connection limits, loopback-only gater';

/** js-libp2p GossipSub, configured as the scenario says (shared/notes/bench-scenario.md). */
export function libp2pContender(): Contender {
  return {
    name: 'libp2p',
    description: LIBP2P_DESCRIPTION,
    async prepare() {
      await import('./promise-polyfill.js');
      modules ??= loadModules();
      await modules;
    },
    async createNode(onPayload) {
      await this.prepare();
      return Libp2pBenchNode.create(onPayload);
    },
  };
}

type Libp2pModules = Awaited<ReturnType<typeof loadModules>>;
let modules: Promise<Libp2pModules> | undefined;

async function loadModules() {
  const [libp2p, tcp, noise, yamux, identify, gossipsub, multiaddr] = await Promise.all([
    import('libp2p'),
    import('@libp2p/tcp'),
    import('@libp2p/noise'),
    import('@libp2p/yamux'),
    import('@libp2p/identify'),
    import('@libp2p/gossipsub'),
    import('@multiformats/multiaddr'),
  ]);
  return { libp2p, tcp, noise, yamux, identify, gossipsub, multiaddr };
}

async function build(m: Libp2pModules) {
  return m.libp2p.createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [m.tcp.tcp()],
    connectionEncrypters: [m.noise.noise()],
    streamMuxers: [m.yamux.yamux()],
    connectionGater: {
      denyDialMultiaddr: (address) => !address.toString().startsWith(LOOPBACK_PREFIX),
    },
    connectionManager: {
      maxConnections: CONNECTION_LIMIT,
      maxIncomingPendingConnections: CONNECTION_LIMIT,
      inboundConnectionThreshold: CONNECTION_LIMIT,
      maxParallelDials: CONNECTION_LIMIT,
      maxDialQueueLength: CONNECTION_LIMIT,
      dialTimeout: CONNECTION_SETUP_TIMEOUT_MS,
      addressDialTimeout: CONNECTION_SETUP_TIMEOUT_MS,
      inboundUpgradeTimeout: CONNECTION_SETUP_TIMEOUT_MS,
    },
    services: {
      identify: m.identify.identify(),
      pubsub: m.gossipsub.gossipsub({
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        scoreParams: { IPColocationFactorWhitelist: new Set(['127.0.0.1']) },
      }),
    },
  });
}

type Libp2pNode = Awaited<ReturnType<typeof build>>;

class Libp2pBenchNode implements ContenderNode {
  private readonly traffic: TrafficCounters = {
    copies: 0,
    deliveries: 0,
    control: { ihave: 0, iwant: 0, idontwant: 0, graft: 0, prune: 0 },
  };

  private constructor(
    private readonly node: Libp2pNode,
    private readonly modules: Libp2pModules,
    readonly key: string,
    readonly address: string,
  ) {}

  static async create(onPayload: (payload: Uint8Array) => void): Promise<Libp2pBenchNode> {
    modules ??= loadModules();
    const m = await modules;
    const node = await build(m);
    const address = node.getMultiaddrs()[0];
    if (address === undefined) throw new Error('libp2p node has no listen address');
    const bench = new Libp2pBenchNode(node, m, node.peerId.toString(), address.toString());
    bench.instrument();
    node.services.pubsub.addEventListener('message', (event) => {
      if (event.detail.topic !== TOPIC) return;
      bench.traffic.deliveries++;
      onPayload(event.detail.data);
    });
    node.services.pubsub.subscribe(TOPIC);
    return bench;
  }

  async join(contacts: readonly string[]): Promise<void> {
    const { multiaddr } = this.modules.multiaddr;
    await Promise.all(contacts.map((contact) => this.node.dial(multiaddr(contact))));
  }

  meshSize(): number {
    return this.internals().getMeshPeers(TOPIC).length;
  }

  connectedCount(): number {
    return this.neighbourKeys().length;
  }

  /**
   * From the connections' own peer ids, whose strings are cached: `libp2p.getPeers()` rebuilds
   * every PeerId from its base58 string, and formation polls all N nodes every 10 ms, which at
   * N = 100 took 60% of the process's CPU once the dials were done, starving GossipSub itself.
   */
  neighbourKeys(): string[] {
    return [...new Set(this.node.getConnections().map((connection) => connection.remotePeer.toString()))];
  }

  async publish(payload: Uint8Array): Promise<void> {
    await this.node.services.pubsub.publish(TOPIC, payload);
  }

  /** Waits for every outbound GossipSub stream whose muxer buffer is full to drain. */
  async writable(): Promise<void> {
    const full = [...this.internals().streamsOutbound.values()].filter((s) => s.rawStream.writableNeedsDrain);
    if (full.length > 0) await Promise.all(full.map((s) => nextDrain(s.rawStream)));
  }

  counters(): TrafficCounters {
    return { ...this.traffic, control: { ...this.traffic.control } };
  }

  /** Scenario §5 `abort`: destroy every connection's socket, then stop without waiting. */
  kill(): void {
    for (const connection of this.node.getConnections()) connection.abort(new Error('benchmark kill'));
    Promise.resolve(this.node.stop()).catch(() => undefined);
  }

  async stop(): Promise<void> {
    await this.node.stop();
  }

  private internals(): GossipsubInternals {
    return this.node.services.pubsub as unknown as GossipsubInternals;
  }

  /** Counts every payload copy and control entry before GossipSub decides what to do with it. */
  private instrument(): void {
    const pubsub = this.internals();
    const handle = pubsub.handleReceivedRpc.bind(pubsub);
    const { traffic } = this;
    const control = traffic.control as Record<'ihave' | 'iwant' | 'idontwant' | 'graft' | 'prune', number>;
    pubsub.handleReceivedRpc = (from, rpc) => {
      for (const message of rpc.messages ?? []) if (message.topic === TOPIC) traffic.copies++;
      const c = rpc.control;
      if (c !== undefined) {
        control.ihave += IDS_OF(c.ihave);
        control.iwant += IDS_OF(c.iwant);
        control.idontwant += IDS_OF(c.idontwant);
        control.graft += c.graft?.length ?? 0;
        control.prune += c.prune?.length ?? 0;
      }
      return handle(from, rpc);
    };
  }
}
