import type { ProtocolAction, ProtocolTimer } from '../../src/core/actions.js';
import type { ProtocolMessage } from '../../src/core/messages.js';
import { Protocol, type ProtocolEvent, type ProtocolOptions } from '../../src/core/protocol.js';
import { type Random, randomInt, seededRandom } from '../../src/core/random.js';
import type { NodeId, PeerInfo } from '../../src/core/types.js';
import { KeyedHeap } from '../../src/sim/keyed-heap.js';

/** Room for this many timers before the heap first grows. */
const TIMER_HEAP_ROOM = 1_024;

/**
 * An in-memory network of Protocol instances for tests: zero-latency links, a virtual clock with a
 * timer heap, crashes and graceful leaves. Small and exact rather than fast; the simulator for
 * 10,000+ nodes is a separate program.
 *
 * Link model, close to TCP with the runtime contract of ProtocolEvent:
 * - A `send` with no link to the peer dials: a dead peer yields `dialFailed` for the sender; a live
 *   one gets a link shared by both ends (replacing any older link it still held to the sender).
 * - Each direction between two nodes is one FIFO channel, across successive links.
 * - `disconnect` closes the link: what the closer sent before is still delivered (flush), what the
 *   other end sends on it is lost, and the other end then gets `linkDown` unless it holds a newer
 *   link to the closer by then. The closer gets no `linkDown` for its own close, unless
 *   `reportLocalClose` is set.
 * - A killed node's links close as if it had disconnected them all; messages to it are lost.
 *
 * Delivery order is FIFO overall, or ('random' order) a seeded random interleaving of the
 * channels, each still FIFO.
 */
export interface NetworkOptions {
  readonly seed?: number;
  readonly order?: 'fifo' | 'random';
  readonly protocol?: Partial<ProtocolOptions>;
  /**
   * Also report `linkDown` to the node that closed the link, at once, as src/transport does. The
   * core must ignore it (it only closes links it has no use for); the network throws if it acts.
   */
  readonly reportLocalClose?: boolean;
}

interface Link {
  readonly id: number;
  closedBy?: NodeId;
}

type InFlight =
  | {
      readonly kind: 'message';
      readonly from: NodeId;
      readonly to: NodeId;
      readonly link: Link;
      readonly message: ProtocolMessage;
    }
  /** `to` learns that its link to `from` closed. */
  | { readonly kind: 'linkDown'; readonly from: NodeId; readonly to: NodeId; readonly link: Link }
  /** `to` could not reach `from`. */
  | { readonly kind: 'dialFailed'; readonly from: NodeId; readonly to: NodeId };

export interface Delivery {
  readonly origin: NodeId;
  readonly seq: number;
  readonly hops: number;
  readonly payload: Uint8Array;
}

export interface SimNode {
  readonly info: PeerInfo;
  readonly protocol: Protocol;
  alive: boolean;
  /** Whether the node left gracefully (it is then also not alive). */
  left: boolean;
  readonly links: Map<NodeId, Link>;
  /** Neighbours according to the neighborUp/neighborDown actions seen so far. */
  readonly announcedNeighbours: Set<NodeId>;
  readonly deliveries: Delivery[];
  /** Deliveries per "origin:seq", to check exactly-once. */
  readonly deliveryCounts: Map<string, number>;
}

/** Called after every event a node handled, with the actions it returned. */
export type EventObserver = (node: SimNode, event: ProtocolEvent, actions: readonly ProtocolAction[]) => void;

export function nodeId(index: number): NodeId {
  return index.toString(16).padStart(64, '0');
}

export class TestNetwork {
  now = 0;
  /** Hook for invariant checks after every event. */
  observer: EventObserver | undefined;
  /** Timers for which this returns false are dropped when due (e.g. to stop shuffling). */
  timerFilter: ((timer: ProtocolTimer) => boolean) | undefined;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly queue: InFlight[] = [];
  private readonly timers = new KeyedHeap<{ node: NodeId; timer: ProtocolTimer }>(TIMER_HEAP_ROOM);
  /** Numbers the timers as they are set, so that timers due together fire in that order. */
  private timersSet = 0;
  private readonly random: Random;
  private readonly order: 'fifo' | 'random';
  private readonly seed: number;
  private readonly protocolOptions: Partial<ProtocolOptions>;
  private readonly reportLocalClose: boolean;
  private nextLinkId = 1;

  constructor(options: NetworkOptions = {}) {
    this.seed = options.seed ?? 1;
    this.random = seededRandom(this.seed);
    this.order = options.order ?? 'fifo';
    this.protocolOptions = options.protocol ?? {};
    this.reportLocalClose = options.reportLocalClose ?? false;
  }

  /** Creates a node (not yet started) and returns its address card. */
  addNode(options: Partial<ProtocolOptions> = {}): PeerInfo {
    const index = this.nodes.size;
    const info: PeerInfo = { id: nodeId(index), address: `node-${index}` };
    const random = seededRandom((this.seed * 7919 + index * 104_729) >>> 0);
    this.nodes.set(info.id, {
      info,
      protocol: new Protocol(info, { ...this.protocolOptions, ...options }, random),
      alive: true,
      left: false,
      links: new Map(),
      announcedNeighbours: new Set(),
      deliveries: [],
      deliveryCounts: new Map(),
    });
    return info;
  }

  node(id: NodeId): SimNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  all(): SimNode[] {
    return [...this.nodes.values()];
  }

  live(): SimNode[] {
    return this.all().filter((node) => node.alive);
  }

  get inFlight(): number {
    return this.queue.length;
  }

  /** Feeds one event to a live node and carries out its actions. */
  handle(id: NodeId, event: ProtocolEvent): readonly ProtocolAction[] {
    const node = this.node(id);
    if (!node.alive) return [];
    const actions = node.protocol.handle(event, this.now);
    this.apply(node, actions);
    this.observer?.(node, event, actions);
    return actions;
  }

  start(id: NodeId): void {
    this.handle(id, { type: 'start' });
  }

  join(id: NodeId, contact: NodeId): void {
    this.handle(id, { type: 'join', contact: this.node(contact).info });
  }

  /** A bootstrap address of `id`'s answered late, and was `contact`'s. */
  lateContact(id: NodeId, contact: NodeId): void {
    this.handle(id, { type: 'lateContact', contact: this.node(contact).info });
  }

  /** `id` hears a beacon of `peer`. */
  discover(id: NodeId, peer: NodeId): void {
    this.handle(id, { type: 'discovered', peer: this.node(peer).info });
  }

  /** The origin's actions: whom it pushed the payload to, and whom it will announce it to. */
  broadcast(id: NodeId, payload: Uint8Array = new Uint8Array([1])): readonly ProtocolAction[] {
    return this.handle(id, { type: 'broadcast', payload });
  }

  /** Graceful stop; the process then exits, closing whatever links remain. */
  leave(id: NodeId): void {
    const node = this.node(id);
    if (!node.alive) return;
    this.handle(id, { type: 'leave' });
    node.left = true;
    this.crash(node);
  }

  /** The node's process dies: links break, its timers never fire, messages to it are lost. */
  kill(id: NodeId): void {
    const node = this.node(id);
    if (node.alive) this.crash(node);
  }

  /** Delivers one in-flight item; returns false when nothing is in flight. */
  step(): boolean {
    const item = this.takeNext();
    if (item === undefined) return false;
    const receiver = this.nodes.get(item.to);
    if (receiver === undefined || !receiver.alive) return true;
    switch (item.kind) {
      case 'message':
        // A link the receiver closed is no longer read.
        if (item.link.closedBy === item.to) return true;
        this.handle(item.to, { type: 'message', from: this.node(item.from).info, message: item.message });
        return true;
      case 'linkDown':
        if (receiver.links.get(item.from) !== item.link) return true; // replaced by a newer link
        receiver.links.delete(item.from);
        this.handle(item.to, { type: 'linkDown', peer: item.from });
        return true;
      case 'dialFailed':
        this.handle(item.to, { type: 'dialFailed', peer: item.from });
        return true;
    }
  }

  /** Delivers until nothing is in flight; throws if that takes more than `maxSteps` (a livelock). */
  drain(maxSteps = 1_000_000): number {
    let steps = 0;
    while (this.step()) {
      if (++steps > maxSteps) throw new Error(`network did not drain within ${maxSteps} deliveries`);
    }
    return steps;
  }

  /** Advances the virtual clock by `ms`, firing due timers, draining messages after each. */
  /**
   * `count` new nodes join one by one, each through a random earlier one (`random` picks it and
   * the 0-300 ms before the next), as machines started by hand would; returns their ids in order.
   */
  joinOneByOne(count: number, random: Random): NodeId[] {
    const ids: NodeId[] = [];
    for (let i = 0; i < count; i++) {
      const id = this.addNode().id;
      this.start(id);
      if (ids.length > 0) this.join(id, ids[randomInt(random, ids.length)] as NodeId);
      ids.push(id);
      this.runFor(randomInt(random, 300));
    }
    return ids;
  }

  runFor(ms: number): void {
    this.runUntil(this.now + ms);
  }

  runUntil(time: number): void {
    this.drain();
    for (;;) {
      const at = this.timers.peekTime();
      if (at === undefined || at > time) break;
      const due = this.timers.pop();
      if (due === undefined) break;
      this.now = Math.max(this.now, at);
      const { node, timer } = due;
      if (this.timerFilter === undefined || this.timerFilter(timer)) {
        this.handle(node, { type: 'timer', timer });
        this.drain();
      }
    }
    this.now = Math.max(this.now, time);
  }

  private crash(node: SimNode): void {
    node.alive = false;
    for (const [peer, link] of node.links) {
      link.closedBy = node.info.id;
      this.queue.push({ kind: 'linkDown', from: node.info.id, to: peer, link });
    }
    node.links.clear();
  }

  private apply(node: SimNode, actions: readonly ProtocolAction[]): void {
    const self = node.info.id;
    const localCloses: NodeId[] = [];
    for (const action of actions) {
      switch (action.type) {
        case 'send':
          this.send(node, action.to.id, action.message);
          break;
        case 'disconnect': {
          const link = node.links.get(action.peer.id);
          if (link === undefined) break;
          node.links.delete(action.peer.id);
          link.closedBy = self;
          this.queue.push({ kind: 'linkDown', from: self, to: action.peer.id, link });
          if (this.reportLocalClose) localCloses.push(action.peer.id);
          break;
        }
        case 'setTimer':
          this.timers.push(this.now + action.after, this.timersSet++, { node: self, timer: action.timer });
          break;
        case 'neighborUp':
          node.announcedNeighbours.add(action.peer.id);
          break;
        case 'neighborDown':
          node.announcedNeighbours.delete(action.peer.id);
          break;
        case 'deliver': {
          const key = `${action.origin}:${action.seq}`;
          node.deliveryCounts.set(key, (node.deliveryCounts.get(key) ?? 0) + 1);
          node.deliveries.push({
            origin: action.origin,
            seq: action.seq,
            hops: action.hops,
            payload: action.payload,
          });
          break;
        }
      }
    }
  }

  private send(node: SimNode, to: NodeId, message: ProtocolMessage): void {
    const from = node.info.id;
    let link = node.links.get(to);
    if (link === undefined) {
      const target = this.nodes.get(to);
      if (target === undefined || !target.alive) {
        this.queue.push({ kind: 'dialFailed', from: to, to: from });
        return;
      }
      link = { id: this.nextLinkId++ };
      node.links.set(to, link);
      target.links.set(from, link);
    }
    this.queue.push({ kind: 'message', from, to, link, message });
  }

  private takeNext(): InFlight | undefined {
    if (this.queue.length === 0) return undefined;
    if (this.order === 'fifo') return this.queue.shift();
    // Pick a random channel, then its oldest item: channels interleave, each stays FIFO.
    const pick = this.queue[randomInt(this.random, this.queue.length)] as InFlight;
    const index = this.queue.findIndex((item) => item.from === pick.from && item.to === pick.to);
    return this.queue.splice(index, 1)[0];
  }
}
