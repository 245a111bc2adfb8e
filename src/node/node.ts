import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import { performance } from 'node:perf_hooks';
import { GOSSIP_OVERHEAD_BYTES, MAX_APPLICATION_PAYLOAD_BYTES } from '../codec/index.js';
import type { ProtocolAction } from '../core/actions.js';
import { DEFAULT_SEEN_CACHE_MAX_AGE } from '../core/broadcast/flood.js';
import { type MessageKey, messageKey } from '../core/broadcast/message-id.js';
import { Protocol, type ProtocolEvent, type ProtocolStats } from '../core/protocol.js';
import { systemRandom } from '../core/random.js';
import type { NodeId, PeerInfo } from '../core/types.js';
import { normalizeAddress } from '../discovery/bootstrap.js';
import { MulticastDiscovery } from '../discovery/multicast.js';
import {
  type MulticastDiscoveryOptions,
  validateOptions as validateDiscoveryOptions,
} from '../discovery/multicast-options.js';
import {
  ED25519_SEED_BYTES,
  generateIdentity,
  type Identity,
  identityFromSeed,
} from '../identity/identity.js';
import { loadOrCreateIdentity } from '../identity/identity-file.js';
import { lockIdentityFile, type ReleaseIdentity } from '../identity/identity-lock.js';
import {
  isNetworkKey,
  loadNetworkKey,
  type NetworkKey,
  networkKeyFromSecret,
} from '../identity/network-key.js';
import { type Logger, silentLogger } from '../log/logger.js';
import { type LinkInfo, LinkManager, SelfDialError } from '../transport/link-manager.js';
import { mayDialSecondHand } from '../transport/second-hand.js';
import { freshnessWindow, GossipSigner, minSeqNow } from './gossip-signer.js';
import { NodeTimers } from './node-timers.js';
import {
  BOOTSTRAP_RETRY_MS,
  DEFAULT_PORT_RANGE,
  GOODBYE_GRACE_MS,
  MAX_VERIFY_THREADS,
  type NodeOptions,
} from './options.js';
import { PendingChecks } from './pending-checks.js';
import { acquireVerifyPool, DEFAULT_VERIFY_THREADS, releaseVerifyPool } from './verify-pool.js';

/** What broadcast() returns: the message's network-wide id, and whether to slow down. */
export interface BroadcastReceipt {
  readonly origin: NodeId;
  readonly seq: number;
  /**
   * True when some neighbour's send queue is above the high-water mark (transport option
   * sendHighWaterBytes, 1 MiB by default). The message was still sent; before sending more, await
   * drained(). A sender that ignores this keeps queueing, and a neighbour whose queue reaches
   * maxSendQueueBytes (8 MiB) is disconnected as one that stopped reading, as is one that takes
   * none of its queue for six idle timeouts (30 s; SEND_WAIT_MAX_IDLE_TIMEOUTS), pings or not.
   */
  readonly backlogged: boolean;
}

/** A broadcast as the application receives it. */
export interface MeshMessage {
  /** Id of the node that broadcast it. */
  readonly origin: NodeId;
  /** The origin's sequence number: (origin, seq) is unique network-wide. */
  readonly seq: number;
  /** Links it travelled to reach this node. */
  readonly hops: number;
  /**
   * The payload as received: a view into the bytes read from the socket (decrypted in place), not
   * a copy. It stays valid, but keeping it keeps that read buffer alive too: copy it (`slice()`) to
   * keep a small message for long.
   */
  readonly data: Uint8Array;
}

export interface NodeEvents {
  message: [message: MeshMessage];
  /**
   * A new neighbour (a member of the active view). The protocol takes a peer in only on a message
   * that peer sent over its own link, so its link is up: a peer merely named by another (a
   * ForwardJoin's joiner, a shuffled card) is asked first and becomes a neighbour when it answers.
   */
  'peer:up': [peer: PeerInfo];
  /** A neighbour is gone: it left, its link broke, or it was replaced. */
  'peer:down': [peer: PeerInfo];
  /**
   * Another node, at this address (host:port), announces this node's id: it runs with the same
   * identity (a copied or shared key file). The two can never link, each taking the other for
   * itself; give each node its own identity. Reported once per address while it keeps being heard
   * (the 4,096 most recently heard are remembered). In the open network anyone can forge a beacon
   * with any id, so this may also be someone else's doing; in a private network only a key holder can.
   */
  'identity:conflict': [address: string];
  /** The node stopped, by stop() or by its AbortSignal. */
  stopped: [];
}

export interface NodeStats {
  readonly protocol: ProtocolStats;
  readonly transport: ReturnType<LinkManager['stats']>;
  readonly discovery: ReturnType<MulticastDiscovery['stats']> | undefined;
}

export interface StopOptions {
  /**
   * Send DISCONNECT to every neighbour before closing (default true). False vanishes as a crashed
   * process would, which tests and the demo use to exercise self-healing; 'peer:down' is emitted
   * for each neighbour either way.
   */
  readonly goodbye?: boolean;
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Stands for the TCP port, not bound yet, when createNode() checks the discovery options. */
const DISCOVERY_CHECK_LISTEN_PORT = 1;

/**
 * The runtime: owns the sockets and the timers, feeds what happens to the pure protocol core, and
 * carries out the actions the core returns. All protocol decisions live in src/core.
 */
export class MeshNode extends EventEmitter<NodeEvents> {
  readonly id: NodeId;
  /** The network key's fingerprint in a private network, undefined in the open network. */
  readonly network: string | undefined;
  private readonly networkKey: NetworkKey | undefined;
  private readonly identity: Identity;
  private readonly logger: Logger;
  private readonly transport: LinkManager;
  private discovery: MulticastDiscovery | undefined;
  private protocol: Protocol | undefined;
  private signer: GossipSigner | undefined;
  private holdsVerifyPool = false;
  private releaseIdentity: ReleaseIdentity = () => {};
  private readonly timers = new NodeTimers();
  private readonly pendingChecks = new PendingChecks<ProtocolEvent>();
  private state: State = 'new';
  private listening: { host: string; port: number } | undefined;
  /** options.bootstrap in the form the dialer takes (see normalizeAddress). */
  private readonly bootstrapAddresses: readonly string[];
  /** Bootstrap addresses that answered at the start, joined through (see lateBootstrap). */
  private readonly answeredBootstrap = new Set<string>();
  /** Bootstrap addresses that answered late, with their node's id (see lateBootstrap). */
  private readonly lateAnswers = new Map<string, NodeId>();
  /** Bootstrap addresses that turned out to be this node's own, never dialled again. */
  private readonly ownBootstrap = new Set<string>();
  /** Bootstrap addresses being dialled now: one dial at a time each. */
  private readonly dialingBootstrap = new Set<string>();
  /** When lateBootstrap may next dial (once per mergeInterval). */
  private nextLateBootstrapAt = 0;
  private stopping: Promise<void> | undefined;
  /** The most a broadcast may carry: 1 MiB, or what this node's transport.maxFrameBytes leaves. */
  readonly maxPayloadBytes: number;
  private readonly removeAbortListener: () => void;

  constructor(private readonly options: NodeOptions = {}) {
    super();
    // Mistakes in the options fail here, before anything is bound or dialled.
    this.bootstrapAddresses = (options.bootstrap ?? []).map(normalizeAddress);
    const threads = options.verifyThreads;
    if (
      threads !== undefined &&
      !(Number.isInteger(threads) && threads >= 0 && threads <= MAX_VERIFY_THREADS)
    ) {
      // A string's value would read as a number: '2' printed as 2.
      const got =
        typeof threads === 'number'
          ? String(threads)
          : `${describeValue(threads)} ${JSON.stringify(threads)}`;
      throw new RangeError(`verifyThreads must be an integer in [0, ${MAX_VERIFY_THREADS}], got ${got}`);
    }
    const identity = resolveIdentity(options);
    this.identity = identity;
    this.id = identity.id;
    // The core, the signer and discovery are made only by start(), after the TCP port is bound:
    // their options are checked now, as they will be then (initialSeq is drawn at start).
    Protocol.checkOptions({ initialSeq: 0, ...options.protocol });
    if (options.signatures ?? true)
      freshnessWindow(options.protocol?.seenCacheMaxAge ?? DEFAULT_SEEN_CACHE_MAX_AGE);
    if (options.discovery ?? true) {
      const discovery = validateDiscoveryOptions(this.discoveryOptions(DISCOVERY_CHECK_LISTEN_PORT));
      if (discovery instanceof Error) throw new RangeError(discovery.message, { cause: discovery });
    }
    const host = listenHost(options);
    this.networkKey = resolveNetworkKey(options);
    this.network = this.networkKey?.fingerprint;
    this.logger = (options.logger ?? silentLogger()).child({ node: this.id.slice(0, 8) });
    this.transport = new LinkManager({
      ...options.transport,
      identity,
      networkKey: this.networkKey,
      host,
      port: options.port ?? DEFAULT_PORT_RANGE,
      logger: this.logger,
    });
    // A payload the node's own frames cannot carry would be dropped at every link, unseen.
    this.maxPayloadBytes = Math.min(
      MAX_APPLICATION_PAYLOAD_BYTES,
      this.transport.maxFrameBytes - GOSSIP_OVERHEAD_BYTES,
    );
    if (this.maxPayloadBytes < 0) {
      throw new RangeError(
        `transport.maxFrameBytes of ${this.transport.maxFrameBytes} cannot carry a broadcast (${GOSSIP_OVERHEAD_BYTES} bytes before its payload)`,
      );
    }
    this.transport.on('message', (from, message) => {
      const event: ProtocolEvent = { type: 'message', from, message };
      // A new broadcast's signature is checked on a worker thread first; the core then finds the
      // verdict ready (GossipSigner.verify). Copies it has seen are handed in at once.
      if (message.type === 'gossip' && this.signer !== undefined && this.protocol?.isUnseen(message)) {
        const key = messageKey(message.origin, message.seq);
        if (this.signer.checkAhead(message, () => this.handleChecked(event, key))) {
          // Its verdict comes in a later turn, never inside checkAhead.
          this.pendingChecks.begin(key);
          return;
        }
      }
      if (message.type === 'ihave' && this.pendingChecks.holdIfNamed(message, event)) return;
      this.handle(event);
    });
    this.transport.on('linkDown', (peer, reason) => {
      // A link we closed ourselves was closed on the core's word: it already knows.
      if (reason !== 'local') this.handle({ type: 'linkDown', peer: peer.id, silent: reason === 'timeout' });
    });
    this.transport.on('dialFailed', (peer) => this.handle({ type: 'dialFailed', peer: peer.id }));

    const onAbort = (): void => {
      this.stop().catch((error: unknown) =>
        this.logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          'a listener failed while stopping',
        ),
      );
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.removeAbortListener = () => options.signal?.removeEventListener('abort', onAbort);
  }

  /** Listen for links, start discovery and bootstrap. Resolves once this node can be reached. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`start() called on a node that is ${this.state}`);
    if (this.options.signal?.aborted) throw new Error('start() called with an already aborted signal');
    this.state = 'starting';
    try {
      // Refuses (IdentityInUseError) while another node runs with this identity file.
      if (this.options.identity === undefined && this.options.identityFile !== undefined) {
        this.releaseIdentity = lockIdentityFile(this.options.identityFile);
      }
      this.listening = await this.transport.listen();
      this.throwIfStopped();
      const address = `${advertisedHost(this.listening.host)}:${this.listening.port}`;
      const protocolOptions = { initialSeq: minSeqNow(), ...this.options.protocol };
      if (this.options.signatures ?? true) {
        const threads = this.options.verifyThreads ?? DEFAULT_VERIFY_THREADS;
        this.holdsVerifyPool = threads > 0;
        this.signer = new GossipSigner(
          this.identity,
          protocolOptions.seenCacheMaxAge ?? DEFAULT_SEEN_CACHE_MAX_AGE,
          Date.now,
          threads > 0 ? acquireVerifyPool(threads) : undefined,
        );
      }
      this.protocol = new Protocol(
        { id: this.id, address },
        protocolOptions,
        this.options.random ?? systemRandom(),
        this.signer,
        mayDialSecondHand,
      );
      if (this.options.discovery ?? true) await this.startDiscovery(this.listening.port);
      this.throwIfStopped();
    } catch (error) {
      // Closing the sockets under a start() makes its steps fail in their own words.
      const interrupted = this.state !== 'starting';
      // A later abort must not stop, nor announce as stopped, a node that never ran.
      this.removeAbortListener();
      await this.teardown();
      this.state = 'stopped';
      throw interrupted ? interruptedStart(error) : error;
    }
    this.state = 'running';
    this.handle({ type: 'start' });
    this.bootstrap();
    this.logger.info({ port: this.listening.port }, 'node started');
  }

  /** stop() or the AbortSignal came while start() awaited: it must not go on starting. */
  private throwIfStopped(): void {
    if (this.state !== 'starting') throw interruptedStart(undefined);
  }

  /**
   * Send data (at most MAX_APPLICATION_PAYLOAD_BYTES, 1 MiB) to every other node of the mesh.
   * Returns the message's network-wide id and whether to wait for drained() before the next one.
   * Throws if the node is not running, or the payload is too large or not bytes nor a string: all
   * are the caller's mistake.
   */
  broadcast(data: Uint8Array | string): BroadcastReceipt {
    if (this.state !== 'running' || !this.protocol)
      throw new Error(`broadcast() on a node that is ${this.state}`);
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    // Untyped callers: a number or an object would otherwise go out as an empty or garbled message.
    if (!(payload instanceof Uint8Array)) {
      throw new TypeError(`broadcast() takes a Uint8Array or a string, got ${describeValue(data)}`);
    }
    if (payload.length > this.maxPayloadBytes) {
      throw new RangeError(`broadcast() payload of ${payload.length} bytes, limit ${this.maxPayloadBytes}`);
    }
    // seq doubles as the send time, which receivers check against replays (see GossipSigner).
    const actions = this.protocol.handle(
      { type: 'broadcast', payload, minSeq: minSeqNow() },
      performance.now(),
    );
    this.apply(actions);
    const sent = actions.find((a) => a.type === 'send' && a.message.type === 'gossip');
    const seq =
      sent?.type === 'send' && sent.message.type === 'gossip' ? sent.message.seq : this.protocol.lastSeq();
    return { origin: this.id, seq, backlogged: this.transport.backlogged() };
  }

  /**
   * Resolves once no neighbour's send queue is above the high-water mark (at once if none is), or
   * when the node stops. A neighbour that reads nothing is dropped within six idle timeouts (30 s),
   * which ends the wait; one that reads slowly makes it as long as it needs. A fast sender awaits it whenever broadcast() reports `backlogged`.
   */
  drained(): Promise<void> {
    // The usual answer for a sender that keeps up: no promise machinery, no listeners.
    if (!this.transport.backlogged()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.transport.backlogged() && this.state !== 'stopping' && this.state !== 'stopped') return;
        this.transport.off('drain', check);
        this.off('stopped', check);
        resolve();
      };
      this.transport.on('drain', check);
      this.on('stopped', check);
      check();
    });
  }

  /** Current neighbours (active view, one TCP link each) and reserve peers (passive view). */
  peers(): { active: PeerInfo[]; passive: PeerInfo[] } {
    return { active: this.protocol?.activeView() ?? [], passive: this.protocol?.passiveView() ?? [] };
  }

  /** Open TCP links and who dialed each ('out': this node did), to see that no node only serves or only takes. */
  links(): LinkInfo[] {
    return this.transport.links();
  }

  /** The address links are accepted on, once started. */
  address(): { host: string; port: number } | undefined {
    return this.listening;
  }

  stats(): NodeStats {
    return {
      protocol: this.protocol?.stats() ?? Protocol.emptyStats(),
      transport: this.transport.stats(),
      discovery: this.discovery?.stats(),
    };
  }

  /**
   * Leave the mesh: say goodbye to the neighbours, close every socket and timer. Resolves within
   * 1.25 s (GOODBYE_GRACE_MS for the goodbyes, then at most CLOSE_DEADLINE_MS for the sockets, and
   * meanwhile WORKER_EXIT_DEADLINE_MS, as long, for the verify pool's threads if it was their last
   * user); rejects only with an error that a listener threw during the goodbye, once all is closed.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    // Set before the shutdown starts: its goodbye emits 'peer:down' at once, and a listener that
    // calls stop() then must wait for this shutdown rather than start a second one.
    let stopped!: () => void;
    this.stopping = new Promise<void>((resolve) => {
      stopped = resolve;
    });
    const shutdown = this.shutdown(options.goodbye ?? true);
    // A listener's error goes to the first caller only; the node is stopped all the same.
    shutdown.then(stopped, stopped);
    return shutdown;
  }

  private async shutdown(goodbye: boolean): Promise<void> {
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    this.removeAbortListener();
    // Leaving emits 'peer:down' for each neighbour: an error a listener throws reaches the caller,
    // once every goodbye is sent and the sockets, timers and identity lock are closed.
    let listenerFailure: { readonly error: unknown } | undefined;
    try {
      if (wasRunning && this.protocol) {
        const leaving = this.protocol.handle({ type: 'leave' }, performance.now());
        // Without a goodbye nothing goes on the wire, as from a crashed process, but this node's
        // own views and listeners still learn that every neighbour is gone.
        const actions = goodbye
          ? leaving
          : leaving.filter((a) => a.type !== 'send' && a.type !== 'disconnect');
        this.apply(actions, (error) => {
          listenerFailure ??= { error };
        });
        if (goodbye) await this.transport.settle(GOODBYE_GRACE_MS);
      }
    } finally {
      await this.teardown();
      this.state = 'stopped';
      this.logger.info('node stopped');
      this.emit('stopped');
    }
    if (listenerFailure !== undefined) throw listenerFailure.error;
  }

  private async teardown(): Promise<void> {
    this.timers.clear();
    // The last node of the process to release the pool waits for its worker threads to exit.
    const workersExited = this.holdsVerifyPool ? releaseVerifyPool() : undefined;
    this.holdsVerifyPool = false;
    await Promise.all([this.transport.close(), this.discovery?.stop(), workersExited]);
    this.releaseIdentity();
  }

  private discoveryOptions(listenPort: number): MulticastDiscoveryOptions {
    return {
      self: this.id,
      beaconKey: this.networkKey?.beaconKey,
      listenPort,
      group: this.options.group,
      port: this.options.discoveryPort,
      interfaceAddress: this.options.interface,
      logger: this.logger,
      overlayTag: () => this.protocol?.overlayTag() ?? this.id,
    };
  }

  private async startDiscovery(listenPort: number): Promise<void> {
    const discovery = new MulticastDiscovery(this.discoveryOptions(listenPort));
    discovery.on('peer', (peer) =>
      this.handle({
        type: 'discovered',
        peer: { id: peer.id, address: peer.address },
        wantsPeers: peer.wantsPeers,
        tag: peer.tag,
      }),
    );
    discovery.on('conflict', (address) => this.emit('identity:conflict', address));
    this.discovery = discovery;
    await discovery.start();
    discovery.setWantsPeers(true);
  }

  /**
   * Dial each bootstrap address, then look again every BOOTSTRAP_RETRY_MS for as long as the node
   * runs: while it has no neighbour (at the start, or after every neighbour left or a restarted
   * contact came back with a new identity), every address is dialled again; otherwise see
   * lateBootstrap.
   */
  private bootstrap(): void {
    const addresses = this.bootstrapAddresses;
    if (addresses.length === 0) return;
    for (const address of addresses) this.dialBootstrap(address, 'join');
    this.nextLateBootstrapAt = performance.now() + (this.protocol?.options.mergeInterval ?? 0);
    const tick = (): void => {
      // stop() empties the active view before it clears the timers: the state, not the empty
      // view, is what keeps this from dialling on the way out.
      if (this.state !== 'running') return;
      if (this.peers().active.length === 0) {
        for (const address of addresses)
          if (!this.ownBootstrap.has(address)) this.dialBootstrap(address, 'join');
      } else {
        this.lateBootstrap();
      }
      this.timers.schedule(BOOTSTRAP_RETRY_MS, tick);
    };
    this.timers.schedule(BOOTSTRAP_RETRY_MS, tick);
  }

  /**
   * A node that found its neighbours without some bootstrap address (by multicast, or through
   * another address) dials that address again once per mergeInterval until it answers. Its node
   * may lead to an overlay that formed without this one, and the core then joins the two (see
   * HyParView.lateContact). An address whose node answered is dialled again only while the core
   * has not settled it (its probe or Join was lost): once it is known to be in our overlay, or a
   * neighbour, it is not.
   */
  private lateBootstrap(): void {
    const protocol = this.protocol;
    if (protocol === undefined || performance.now() < this.nextLateBootstrapAt) return;
    this.nextLateBootstrapAt = performance.now() + protocol.options.mergeInterval;
    for (const address of this.bootstrapAddresses) {
      if (this.answeredBootstrap.has(address) || this.ownBootstrap.has(address)) continue;
      const id = this.lateAnswers.get(address);
      if (id === undefined || !protocol.contactSettled(id)) this.dialBootstrap(address, 'lateContact');
    }
  }

  private dialBootstrap(address: string, as: 'join' | 'lateContact'): void {
    if (this.dialingBootstrap.has(address)) return;
    this.dialingBootstrap.add(address);
    this.transport.dialAddress(address).then(
      (contact) => {
        this.dialingBootstrap.delete(address);
        if (as === 'join') this.answeredBootstrap.add(address);
        else this.lateAnswers.set(address, contact.id);
        this.handle({ type: as, contact });
      },
      (error: Error) => {
        this.dialingBootstrap.delete(address);
        // A list shared by every node names this one too: nothing to join, and nothing to retry.
        if (error instanceof SelfDialError) {
          this.ownBootstrap.add(address);
          return;
        }
        // Worth a warning while it leaves this node alone; routine once it has neighbours.
        const level = as === 'join' ? 'warn' : 'debug';
        this.logger[level]({ address, err: error.message }, 'bootstrap address unreachable');
      },
    );
  }

  /** Hands in a broadcast whose check is done, then the announcements held for it (see PendingChecks). */
  private handleChecked(event: ProtocolEvent, key: MessageKey): void {
    this.handle(event);
    for (const held of this.pendingChecks.end(key)) this.handle(held);
  }

  private handle(event: ProtocolEvent): void {
    if (this.state !== 'running' || !this.protocol) return;
    this.apply(this.protocol.handle(event, performance.now()));
  }

  /**
   * Carries out the core's actions, every one of them: an application listener that throws must
   * not leave the core believing in messages that were never sent, nor cut short the socket read
   * that brought the event (its other frames would be lost). The listener's error is thrown again
   * on its own, as Node does with a listener's error: an uncaught exception unless
   * `onListenerError` takes it.
   */
  private apply(actions: readonly ProtocolAction[], onListenerError = throwOnItsOwn): void {
    for (const action of actions) {
      try {
        this.applyOne(action);
      } catch (error) {
        onListenerError(error);
      }
    }
  }

  private applyOne(action: ProtocolAction): void {
    switch (action.type) {
      case 'send':
        this.transport.send(action.to, action.message);
        break;
      case 'disconnect':
        this.transport.disconnect(action.peer.id);
        break;
      case 'setTimer': {
        const { timer } = action;
        this.timers.schedule(action.after, () => this.handle({ type: 'timer', timer }));
        break;
      }
      case 'neighborUp':
        this.logger.debug({ peer: action.peer.address }, 'neighbour up');
        this.updateDiscoveryCadence();
        this.emit('peer:up', action.peer);
        break;
      case 'neighborDown':
        this.logger.debug({ peer: action.peer.address }, 'neighbour down');
        this.updateDiscoveryCadence();
        this.emit('peer:down', action.peer);
        break;
      case 'deliver':
        this.emit('message', {
          origin: action.origin,
          seq: action.seq,
          hops: action.hops,
          data: action.payload,
        });
        break;
    }
  }

  /** Beacons go out more often while this node has fewer neighbours than it wants. */
  private updateDiscoveryCadence(): void {
    if (!this.discovery || !this.protocol) return;
    this.discovery.setWantsPeers(this.protocol.activeView().length < this.protocol.options.activeViewSize);
  }
}

function interruptedStart(cause: unknown): Error {
  return new Error('start() interrupted: the node was stopped while starting', { cause });
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return typeof value;
}

/** Throws `error` from a fresh tick, away from the socket or timer callback it arose in. */
function throwOnItsOwn(error: unknown): void {
  process.nextTick(() => {
    throw error;
  });
}

/**
 * The address to listen on: `host`, else the interface's address, else all. Checked here, as with
 * discovery off nothing else checks the interface: a resolver reads a dotted number with a leading
 * zero as octal (127.0.0.010 is 127.0.0.8), and would bind an address other than the one meant.
 */
function listenHost(options: NodeOptions): string {
  if (options.interface !== undefined && !isIPv4(options.interface)) {
    throw new RangeError(
      `interface must be an IPv4 address such as 192.168.1.20, got ${JSON.stringify(options.interface)}`,
    );
  }
  const host = options.host ?? options.interface ?? '0.0.0.0';
  if (/^[0-9.]+$/.test(host) && !isIPv4(host)) {
    throw new RangeError(`host ${JSON.stringify(host)} is not an IPv4 address (nor a hostname)`);
  }
  return host;
}

/** The key pair the options name, loading or creating its file; else a fresh ephemeral one. */
function resolveIdentity(options: NodeOptions): Identity {
  if (options.identity !== undefined) return checkedIdentity(options.identity);
  if (options.identityFile !== undefined) return loadOrCreateIdentity(options.identityFile).identity;
  return generateIdentity();
}

/**
 * `identity` if its id and keys belong together. A hand-made one that does not would start and
 * sign with a key its id does not name: every peer would refuse its broadcasts as forged.
 */
function checkedIdentity(identity: Identity): Identity {
  if (!keysMatchId(identity)) {
    throw new TypeError(
      `identity must be a key pair with its id, as generateIdentity() makes, got ${describeValue(identity)}`,
    );
  }
  return identity;
}

function keysMatchId(identity: Identity): boolean {
  const { id, publicKey, secretKey } = (identity ?? {}) as Partial<Identity>;
  if (!(secretKey instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false;
  if (secretKey.length < ED25519_SEED_BYTES) return false;
  const derived = identityFromSeed(secretKey.subarray(0, ED25519_SEED_BYTES));
  return derived.id === id && derived.publicKey.equals(publicKey) && derived.secretKey.equals(secretKey);
}

function resolveNetworkKey(options: NodeOptions): NetworkKey | undefined {
  const { networkKey, networkKeyFile } = options;
  if (networkKey !== undefined) {
    if (networkKey instanceof Uint8Array) return networkKeyFromSecret(networkKey);
    if (isNetworkKey(networkKey)) return networkKey;
    throw new TypeError(
      'networkKey must be the 32-byte secret (a Uint8Array) or a key from networkKeyFromSecret(), ' +
        `got ${describeValue(networkKey)}; networkKeyFile takes a key file's path`,
    );
  }
  return networkKeyFile === undefined ? undefined : loadNetworkKey(networkKeyFile);
}

/** A wildcard listen address cannot be dialled; peers substitute the address they see us at. */
function advertisedHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '0.0.0.0' : host;
}

/** Create a node; call start() on it to join the mesh. */
export function createNode(options: NodeOptions = {}): MeshNode {
  return new MeshNode(options);
}
