import type { ProtocolAction, ProtocolTimer } from '../core/actions.js';
import { removeSlots } from '../core/arrays.js';
import type { ProtocolMessage } from '../core/messages.js';
import { Protocol, type ProtocolEvent, type ProtocolOptions } from '../core/protocol.js';
import { jittered, type Random, randomInt } from '../core/random.js';
import type { Millis, PeerInfo } from '../core/types.js';
import { EventKind, recycleEvent, type SimEvent, simEvent } from './event.js';
import { EventQueue } from './event-queue.js';
import { indexOfPeer, simPeerInfo } from './ids.js';
import { type NetworkHost, type NetworkOptions, SimNetwork } from './network.js';

/** What the metrics see of a run; called synchronously from the event loop. */
export interface SimObserver {
  /** A live node sent `message` (counted before the network decides its fate). */
  onSend(node: number, message: ProtocolMessage, now: Millis): void;
  /** A live node received `message`. */
  onReceive(node: number, message: ProtocolMessage, now: Millis): void;
  /** A node handed a broadcast payload to its application. */
  onDeliver(node: number, action: ProtocolAction & { type: 'deliver' }, now: Millis): void;
}

/** Receives the scenario's own events (see EventKind.scenario). */
export type ScenarioHandler = (step: number, argument: number) => void;

export interface SimulatorOptions {
  readonly protocol: Partial<ProtocolOptions>;
  readonly network: NetworkOptions;
  /** Mean time between two discovery beacons a node hears; 0 models no discovery at all. */
  readonly discoveryInterval: Millis;
  /** Seeded streams: one shared by every node's core, one for the network. */
  readonly protocolRandom: Random;
  readonly networkRandom: Random;
}

/** Beacon intervals are spread by ±25%, as the real discovery's (src/discovery/cadence.ts). */
const BEACON_JITTER = 0.25;
/** Draws for a beacon's sender (see hearBeacon): split in halves, 8 miss one beacon in 256. */
const BEACON_DRAWS = 8;

export interface NodeCounters {
  created: number;
  crashed: number;
  left: number;
  neighborUps: number;
  neighborDowns: number;
  beacons: number;
}

/**
 * The discrete-event engine: a virtual clock, one queue of events, and the real Protocol core of
 * every node. Only the transport (SimNetwork) and the clock are simulated; each node's actions are
 * carried out exactly as the runtime (src/node) would, in order.
 */
export class Simulator implements NetworkHost {
  now: Millis = 0;
  events = 0;
  /** Events run, by EventKind. */
  readonly eventsByKind: number[] = Object.values(EventKind).map(() => 0);
  readonly network: SimNetwork;
  readonly nodes: NodeCounters = {
    created: 0,
    crashed: 0,
    left: 0,
    neighborUps: 0,
    neighborDowns: 0,
    beacons: 0,
  };
  private readonly queue = new EventQueue<SimEvent>();
  private readonly protocols: (Protocol | undefined)[] = [];
  private readonly infos: PeerInfo[] = [];
  /** Live node indices in a dense array (O(1) random pick and removal), plus each one's slot. */
  private readonly live: number[] = [];
  private readonly liveSlot: number[] = [];
  private scenario: ScenarioHandler = () => {};
  /** The actions of the event being handled (see handle). */
  private readonly actions: ProtocolAction[] = [];
  private actionsInUse = false;
  /**
   * The event objects handed to the cores for messages and timers, four events in five: one of
   * each serves them all, since a core keeps nothing of an event but its fields. Like `actions`,
   * they are only reused while no other event is being handled.
   */
  private readonly messageEvent: { type: 'message'; from: PeerInfo; message: ProtocolMessage } = {
    type: 'message',
    from: { id: '', address: '' },
    message: { type: 'relink' },
  };
  private readonly timerEvent: { type: 'timer'; timer: ProtocolTimer } = {
    type: 'timer',
    timer: { type: 'ihaveFlush' },
  };

  constructor(
    private readonly options: SimulatorOptions,
    private readonly observer: SimObserver,
  ) {
    this.network = new SimNetwork(this, options.network, options.networkRandom);
  }

  setScenario(handler: ScenarioHandler): void {
    this.scenario = handler;
  }

  // --- NetworkHost --------------------------------------------------------------------------------

  isAlive(node: number): boolean {
    return (this.liveSlot[node] ?? -1) >= 0;
  }

  schedule(time: Millis, event: SimEvent): void {
    this.queue.push(time, event);
  }

  onMessage(to: number, from: number, message: ProtocolMessage): void {
    this.observer.onReceive(to, message, this.now);
    const info = this.infos[from] as PeerInfo;
    if (this.actionsInUse) {
      this.handle(to, { type: 'message', from: info, message });
      return;
    }
    const event = this.messageEvent;
    event.from = info;
    event.message = message;
    this.handle(to, event);
  }

  onLinkDown(node: number, peer: number, silent: boolean): void {
    this.handle(node, { type: 'linkDown', peer: (this.infos[peer] as PeerInfo).id, silent });
  }

  onDialFailed(node: number, peer: number): void {
    this.handle(node, { type: 'dialFailed', peer: (this.infos[peer] as PeerInfo).id });
  }

  // --- Nodes --------------------------------------------------------------------------------------

  get nodeCount(): number {
    return this.protocols.length;
  }

  get liveCount(): number {
    return this.live.length;
  }

  info(node: number): PeerInfo {
    return this.infos[node] as PeerInfo;
  }

  protocol(node: number): Protocol | undefined {
    return this.protocols[node];
  }

  /** A uniformly chosen live node, or -1 if none. */
  randomLiveNode(random: Random): number {
    return this.live.length === 0 ? -1 : (this.live[randomInt(random, this.live.length)] as number);
  }

  liveNodes(): readonly number[] {
    return this.live;
  }

  /** Creates and starts a node; with a contact, it joins the overlay through it. */
  addNode(contact: number): number {
    const node = this.protocols.length;
    const info = simPeerInfo(node);
    this.infos.push(info);
    this.protocols.push(new Protocol(info, this.options.protocol, this.options.protocolRandom));
    this.liveSlot.push(this.live.length);
    this.live.push(node);
    this.network.addNode(node);
    this.nodes.created++;
    this.handle(node, { type: 'start' });
    if (contact >= 0 && this.isAlive(contact)) {
      this.handle(node, { type: 'join', contact: this.infos[contact] as PeerInfo });
    }
    if (this.options.discoveryInterval > 0) this.scheduleBeacon(node);
    return node;
  }

  /** The process dies: its host closes its sockets, or (silent) it just stops answering. */
  crash(node: number, silent: boolean): void {
    if (!this.isAlive(node)) return;
    this.markDead(node);
    this.nodes.crashed++;
    this.network.crash(node, silent);
  }

  /** Graceful stop: the core says goodbye, then the node closes whatever links remain. */
  leave(node: number): void {
    if (!this.isAlive(node)) return;
    this.handle(node, { type: 'leave' });
    this.markDead(node);
    this.nodes.left++;
    this.network.crash(node, false);
  }

  broadcast(node: number, payload: Uint8Array): void {
    this.handle(node, { type: 'broadcast', payload });
  }

  // --- Event loop ---------------------------------------------------------------------------------

  /**
   * Runs every event due at or before `until`, in (time, insertion) order. Calls `progress` every
   * `progressEvery` events; it only observes.
   */
  run(until: Millis, progress?: () => void, progressEvery = 65_536): void {
    const queue = this.queue;
    for (;;) {
      const time = queue.peekTime();
      if (time === undefined || time > until) break;
      const event = queue.pop() as SimEvent;
      this.now = time;
      this.events++;
      this.eventsByKind[event.kind] = (this.eventsByKind[event.kind] as number) + 1;
      if (progress !== undefined && this.events % progressEvery === 0) progress();
      this.dispatch(event);
      recycleEvent(event);
    }
    if (this.now < until) this.now = until;
  }

  private dispatch(event: SimEvent): void {
    switch (event.kind) {
      case EventKind.timer:
        if (event.timer !== undefined) this.fireTimer(event.node, event.timer);
        return;
      case EventKind.beacon:
        this.hearBeacon(event.node);
        return;
      case EventKind.scenario:
        this.scenario(event.node, event.peer);
        return;
      default:
        this.network.handle(event);
    }
  }

  private fireTimer(node: number, timer: ProtocolTimer): void {
    if (this.actionsInUse) {
      this.handle(node, { type: 'timer', timer });
      return;
    }
    const event = this.timerEvent;
    event.timer = timer;
    this.handle(node, event);
  }

  /** Feeds one event to a live node's core and carries out the actions it returns, in order. */
  private handle(node: number, event: ProtocolEvent): void {
    // A dead node's core is dropped (markDead), so a core present means the node is alive.
    const protocol = this.protocols[node];
    if (protocol === undefined) return;
    // Carrying out an action never feeds another event to a core (the network only schedules), so
    // one array serves every event; the check keeps that true should it ever change.
    const actions = this.actionsInUse ? [] : this.actions;
    this.actionsInUse = true;
    protocol.handleInto(event, this.now, actions);
    for (let i = 0; i < actions.length; i++) this.apply(node, actions[i] as ProtocolAction);
    removeSlots(actions, 0, actions.length);
    if (actions === this.actions) this.actionsInUse = false;
  }

  private apply(node: number, action: ProtocolAction): void {
    switch (action.type) {
      case 'send':
        this.observer.onSend(node, action.message, this.now);
        this.network.send(node, action.to, action.message);
        return;
      case 'disconnect': {
        const peer = indexOfPeer(action.peer);
        if (peer >= 0) this.network.disconnect(node, peer);
        return;
      }
      case 'setTimer':
        this.queue.push(
          this.now + action.after,
          simEvent(EventKind.timer, node, -1, undefined, undefined, action.timer),
        );
        return;
      case 'neighborUp':
        this.nodes.neighborUps++;
        return;
      case 'neighborDown':
        this.nodes.neighborDowns++;
        return;
      case 'deliver':
        this.observer.onDeliver(node, action, this.now);
        return;
    }
  }

  private markDead(node: number): void {
    const slot = this.liveSlot[node] as number;
    const last = this.live.pop() as number;
    if (last !== node) {
      this.live[slot] = last;
      this.liveSlot[last] = slot;
    }
    this.liveSlot[node] = -1;
    // The core's state is garbage now; a dead node never comes back (a rejoin is a new node).
    this.protocols[node] = undefined;
  }

  // --- Discovery ----------------------------------------------------------------------------------

  private scheduleBeacon(node: number): void {
    const after = jittered(this.options.protocolRandom, this.options.discoveryInterval, BEACON_JITTER);
    this.queue.push(this.now + after, simEvent(EventKind.beacon, node));
  }

  /**
   * A node hears one beacon from a random live node it can reach. On a real LAN every node hears
   * every beacon; hearing a sample at the same mean rate is what the core can act on anyway (a
   * known peer's beacon only refreshes its address), at a cost the simulator can afford. A draw of
   * itself or of a node across a partition is drawn again, a few times at most: during a partition
   * in halves, one draw alone missed half the time, and so did half the beacons.
   */
  private hearBeacon(node: number): void {
    if (!this.isAlive(node)) return;
    this.scheduleBeacon(node);
    for (let draw = 0; draw < BEACON_DRAWS; draw++) {
      const other = this.randomLiveNode(this.options.protocolRandom);
      if (other < 0) return;
      if (other === node || !this.network.reachable(node, other)) continue;
      this.nodes.beacons++;
      this.handle(node, { type: 'discovered', peer: this.infos[other] as PeerInfo });
      return;
    }
  }
}
