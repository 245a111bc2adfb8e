import { SIGNATURE_BYTES } from '../codec/field-limits.js';
import { frameBodyBytes } from '../codec/index.js';
import type { ProtocolMessage } from '../core/messages.js';
import type { Random } from '../core/random.js';
import type { Millis, PeerInfo } from '../core/types.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS } from '../transport/defaults.js';
import { sealedRecordBytes } from '../transport/sealed-record.js';
import { EventKind, type SimEvent, simEvent } from './event.js';
import { indexOfPeer, mix32 } from './ids.js';
import { DEFAULT_LATENCY, type LatencyModel, sampleLatency } from './latency.js';
import { Link, LinkState } from './link.js';

export interface NetworkOptions {
  readonly latency: LatencyModel;
  /**
   * False (default): every message draws its own latency, so copies race along different paths.
   * True: each pair of nodes draws one latency, kept for every message between them, as a LAN path
   * whose delay is a property of the route; then the fastest path between two nodes is stable.
   */
  readonly latencyPerLink: boolean;
  /**
   * Probability that a message breaks its link. TCP never loses a message on a live link: it
   * retransmits, and when it cannot get through the connection dies. So "loss" here is the
   * unrecoverable kind: the message and everything due after it on that link, in both directions,
   * are lost, and both ends see `linkDown` `idleTimeout` after the lost message was due (the
   * transport notices a dead connection only by its silence). Off (0) by default.
   */
  readonly loss: number;
  /**
   * A dial to a peer that does not answer at all (silently crashed, or across a partition) is given
   * up after this long: the real transport's handshake deadline, which includes the connect.
   */
  readonly connectTimeout: Millis;
  /**
   * A link whose peer went silent (silent crash, partition) is declared dead after this long:
   * the real transport's idle timeout, nothing received although the peer pings every second.
   */
  readonly idleTimeout: Millis;
  /**
   * Bytes per second each node's own link to the LAN (its network interface) carries in each
   * direction, 0 (default) for no limit. A message a node sends waits for its outgoing direction
   * to send what was queued before it, then takes its size over this rate to leave; it crosses the
   * LAN in the latency; at the receiver it waits for what reached the incoming direction before it,
   * then takes its size over the rate again to come in. A relay to five neighbours thus takes five
   * times as long to leave as one message, and five copies arriving together five times as long to
   * come in, as on a switched LAN. Sizes are records as the TCP runtime writes them by default
   * (frame body, length prefix and seal, gossip signed: see wireBytes); TCP/IP headers and the
   * handshakes are not counted. Queues have no bound: the runtime drops a link whose send queue
   * passes maxSendQueueBytes, the simulator lets it grow.
   */
  readonly bandwidth: number;
}

/**
 * One-way latencies from the start of a dial until the dialer's link is up, as in the TCP runtime
 * (src/transport/link-manager.ts, secure-channel.ts). With the dial at 0: SYN reaches the target at
 * 1, SYN-ACK the dialer at 2 (connected), Noise XX message 1 (e) reaches the target at 3, message 2
 * (e, ee, s, es) the dialer at 4, which is then secured and sends message 3 (s, se) and its sealed
 * Hello, reaching the target at 5: the responder is established and sends its own Hello, reaching
 * the dialer at 6, when the dialer is established. So the dialer's first data arrives at about 7
 * one-way latencies, the responder's at about 6. Each leg draws its own latency like any message.
 */
export const HANDSHAKE_LEGS = 6;

/**
 * A simulated address is the node's number; on the wire it would be "host:port". Sized as the
 * longest IPv4 one ("255.255.255.255:65535", 21 bytes, plus its length byte): membership messages,
 * which carry addresses, take at least their time on an IPv4 LAN.
 */
const MAX_IPV4_ADDRESS_WIRE_BYTES = 1 + 21;
const ipv4AddressBytes = (): number => MAX_IPV4_ADDRESS_WIRE_BYTES;

/** Mbit/s (10^6 bits per second) in the bytes per second of NetworkOptions.bandwidth. */
export const BYTES_PER_SECOND_PER_MBIT = 1_000_000 / 8;

/**
 * Bytes `message` takes on the wire as the TCP runtime sends it by default: one sealed record, and
 * a gossip signed by its origin (the simulated cores do not sign, so the signature is added).
 */
export function wireBytes(message: ProtocolMessage): number {
  const unsignedGossip = message.type === 'gossip' && message.signature === undefined;
  return sealedRecordBytes(
    frameBodyBytes(message, ipv4AddressBytes) + (unsignedGossip ? SIGNATURE_BYTES : 0),
  );
}

export const DEFAULT_NETWORK_OPTIONS: NetworkOptions = {
  latency: DEFAULT_LATENCY,
  latencyPerLink: false,
  loss: 0,
  connectTimeout: DEFAULT_HANDSHAKE_TIMEOUT_MS,
  idleTimeout: DEFAULT_IDLE_TIMEOUT_MS,
  bandwidth: 0,
};

/** What the network needs from the simulator that drives it. */
export interface NetworkHost {
  readonly now: Millis;
  isAlive(node: number): boolean;
  schedule(time: Millis, event: SimEvent): void;
  onMessage(to: number, from: number, message: ProtocolMessage): void;
  /**
   * `node`'s link to `peer` closed or broke (never reported for `node`'s own disconnect); `silent`:
   * it broke without a FIN (loss, partition, silent crash), found by the idle timeout.
   */
  onLinkDown(node: number, peer: number, silent: boolean): void;
  onDialFailed(node: number, peer: number): void;
}

export interface NetworkCounters {
  dials: number;
  dialFailures: number;
  messagesSent: number;
  messagesDelivered: number;
  /** Arrived at a node that had crashed or left. */
  droppedAtDeadNode: number;
  /** On a link that broke (loss, partition, silent crash) before they arrived. */
  droppedOnBrokenLink: number;
  /** Would have crossed a partition. */
  droppedByPartition: number;
  /** Messages that broke their link (the `loss` option). */
  lossEvents: number;
  linkDowns: number;
  /** Sends to an address that names no simulated node, or to the sender itself. */
  unroutable: number;
}

/**
 * A simulated transport with the semantics of the TCP LinkManager, as the Protocol sees them:
 * - a `send` without a link dials: TCP's connect, then the Noise handshake and a Hello each way
 *   (HANDSHAKE_LEGS, six one-way latencies), then the link is up at both ends and the queued
 *   messages go out, the dialer's arriving about seven latencies after the dial started, the
 *   responder's (sent when its own handshake ended, a leg earlier) about six;
 *   a dial to a dead or unreachable node fails with `dialFailed` after one round trip (refused: the
 *   process is gone, its host answers) or `connectTimeout` (silent crash, partition);
 * - each direction of a link is FIFO: a message arrives at max(now + latency, previous arrival);
 *   with a `bandwidth`, it also waits its turn on the sender's and then the receiver's interface;
 * - `disconnect` closes this end at once (no event for it) and sends a FIN after what is in flight;
 *   the other end gets `linkDown` when the FIN arrives, unless it has a newer link to us by then.
 *   Like the real transport, an end that closed keeps reading until the peer's FIN: what the other
 *   end sent before learning of the close is still delivered;
 * - a crashed node's links get a FIN (its host closes the sockets), or with a silent crash they
 *   break `idleTimeout` later; messages to a dead node are lost;
 * - across a partition nothing arrives and dials fail; links across it break after `idleTimeout`.
 */
export class SimNetwork {
  readonly counters: NetworkCounters = {
    dials: 0,
    dialFailures: 0,
    messagesSent: 0,
    messagesDelivered: 0,
    droppedAtDeadNode: 0,
    droppedOnBrokenLink: 0,
    droppedByPartition: 0,
    lossEvents: 0,
    linkDowns: 0,
    unroutable: 0,
  };
  /**
   * The current link of each pair (the one a new send uses), in the lists of both ends as (other
   * end, link) pairs. A node has a handful of links, so a scan of its list is one memory access
   * where a Map look-up is three (map, table, entry): every send looks one up. A sender's own list
   * serves all its sends of an event (a relay to every neighbour, a flush of announcements): one
   * cache miss for them all, where a list per pair's lower end is one per peer.
   */
  private readonly current: (number | Link)[][] = [];
  /** Every link not yet closed, per node: current ones and older ones still closing. */
  private readonly nodeLinks: Link[][] = [];
  private readonly silentlyDead = new Set<number>();
  /** With a bandwidth: until when each node's interface is busy sending, and receiving. */
  private readonly outgoingBusyUntil: Millis[] = [];
  private readonly incomingBusyUntil: Millis[] = [];
  private sides: Uint8Array | undefined;
  private liveLinks = 0;
  /** Per-link latencies: a hash of the pair salted once from the seed, fed to the distribution. */
  private readonly pairSalt: number;
  private readonly pairDraw = {
    value: 0,
    next(): number {
      return this.value;
    },
  };

  constructor(
    private readonly host: NetworkHost,
    private readonly options: NetworkOptions,
    private readonly random: Random,
  ) {
    this.pairSalt = options.latencyPerLink ? Math.floor(random.next() * 4294967296) : 0;
  }

  addNode(node: number): void {
    this.outgoingBusyUntil[node] = 0;
    this.incomingBusyUntil[node] = 0;
    this.nodeLinks[node] = [];
    this.current[node] = [];
  }

  /** Links not yet closed, dialing ones included. */
  get linkCount(): number {
    return this.liveLinks;
  }

  /** The link a send between `x` and `y` would use now, if any. */
  currentLink(x: number, y: number): Link | undefined {
    const list = this.current[x];
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i += 2) if (list[i] === y) return list[i + 1] as Link;
    return undefined;
  }

  private setCurrent(link: Link): void {
    setPair(this.current[link.a] as (number | Link)[], link.b, link);
    setPair(this.current[link.b] as (number | Link)[], link.a, link);
  }

  private clearCurrent(link: Link): void {
    clearPair(this.current[link.a] as (number | Link)[], link.b, link);
    clearPair(this.current[link.b] as (number | Link)[], link.a, link);
  }

  /** Every link not yet closed, each once. */
  *allLinks(): IterableIterator<Link> {
    for (let node = 0; node < this.nodeLinks.length; node++) {
      for (const link of this.nodeLinks[node] ?? []) if (link.a === node) yield link;
    }
  }

  reachable(x: number, y: number): boolean {
    const sides = this.sides;
    return sides === undefined || (sides[x] ?? 0) === (sides[y] ?? 0);
  }

  /** Which side of the current partition `node` is on (0 without a partition). */
  sideOf(node: number): number {
    return this.sides?.[node] ?? 0;
  }

  get partitioned(): boolean {
    return this.sides !== undefined;
  }

  send(from: number, to: PeerInfo, message: ProtocolMessage): void {
    const target = indexOfPeer(to);
    if (target < 0 || target === from || target >= this.nodeLinks.length) {
      this.counters.unroutable++;
      return;
    }
    let link = this.currentLink(from, target);
    if (link !== undefined && !link.broken) {
      if (link.state === LinkState.open && link.isUp(from)) {
        this.transmit(link, from, target, message);
        return;
      }
      if (link.state === LinkState.dialing && !link.closeRequested(from)) {
        link.enqueue(from, message);
        return;
      }
    }
    link = this.dial(from, target);
    link.enqueue(from, message);
  }

  /** `from` has no further use for its links to `peer`: flush, then close. No event for `from`. */
  disconnect(from: number, peer: number): void {
    const links = this.nodeLinks[from];
    if (links === undefined) return;
    // Usually one link; an older one may still be closing. Backwards, because closing may
    // swap-remove the link from this very list (an entry already visited takes its place).
    for (let i = links.length - 1; i >= 0; i--) {
      const link = links[i] as Link;
      if (link.other(from) !== peer || link.broken) continue;
      if (link.state === LinkState.dialing) link.requestClose(from);
      else if (link.state === LinkState.open && link.isUp(from)) this.closeEnd(link, from);
    }
  }

  /** `node` is gone: its host closes its sockets (FIN), or with `silent` its links just go quiet. */
  crash(node: number, silent: boolean): void {
    if (silent) this.silentlyDead.add(node);
    for (const link of (this.nodeLinks[node] ?? []).slice()) {
      if (link.state !== LinkState.open || link.broken || !link.isUp(node)) continue;
      if (silent) {
        link.setUp(node, false);
        this.host.schedule(
          this.host.now + this.options.idleTimeout,
          simEvent(EventKind.linkBreak, -1, -1, link),
        );
      } else {
        this.closeEnd(link, node);
      }
    }
  }

  /** Cuts the network: nodes with different `sides` entries can no longer reach each other. */
  partition(sides: Uint8Array): void {
    this.sides = sides;
    const breakAt = this.host.now + this.options.idleTimeout;
    for (let node = 0; node < this.nodeLinks.length; node++) {
      for (const link of this.nodeLinks[node] ?? []) {
        if (link.a !== node || link.state !== LinkState.open || link.broken) continue;
        if (!this.reachable(link.a, link.b)) {
          this.host.schedule(breakAt, simEvent(EventKind.linkBreak, -1, -1, link));
        }
      }
    }
  }

  /**
   * Heals the partition. Links across it broke (or will, `idleTimeout` after the cut: a partition
   * shorter than that still costs them, a simplification); new dials across it succeed again.
   */
  repair(): void {
    this.sides = undefined;
  }

  /** Handles the network's own events; returns false for an event of another kind. */
  handle(event: SimEvent): boolean {
    const link = event.link as Link;
    switch (event.kind) {
      case EventKind.deliver:
        this.arrive(link, event.peer, event.node, event.message as ProtocolMessage);
        return true;
      case EventKind.linkOpen:
        this.open(link);
        return true;
      case EventKind.dialFail:
        if (link.state === LinkState.dialing) this.failDial(link);
        return true;
      case EventKind.fin:
        this.finArrives(link, event.peer, event.node);
        return true;
      case EventKind.linkBreak:
        this.breakLink(link);
        return true;
      case EventKind.linkLoss:
        this.loseLink(link);
        return true;
      case EventKind.reachDeliver:
        this.reachInterface(link, event.peer, event.node, event.message as ProtocolMessage);
        return true;
      case EventKind.reachFin:
        this.takeIn(event.node, 0, simEvent(EventKind.fin, event.node, event.peer, link));
        return true;
      case EventKind.reachLoss:
        this.takeIn(event.node, 0, simEvent(EventKind.linkLoss, -1, -1, link));
        return true;
      default:
        return false;
    }
  }

  // --- Dialing ------------------------------------------------------------------------------------

  private dial(from: number, target: number): Link {
    const link = new Link(Math.min(from, target), Math.max(from, target), from);
    // An older link of the pair may still be closing: it keeps its own events and dies on its own.
    this.setCurrent(link);
    this.attach(link);
    this.counters.dials++;
    const now = this.host.now;
    if (this.host.isAlive(target) && this.reachable(from, target)) {
      // The responder is established one leg before the dialer (see HANDSHAKE_LEGS).
      let responderUp = now;
      for (let leg = 1; leg < HANDSHAKE_LEGS; leg++) responderUp += this.latency(from, target);
      link.responderUpAt = responderUp;
      const dialerUp = responderUp + this.latency(from, target);
      this.host.schedule(dialerUp, simEvent(EventKind.linkOpen, -1, -1, link));
    } else {
      const delay = this.dialFailureDelay(from, target);
      this.host.schedule(now + delay, simEvent(EventKind.dialFail, -1, -1, link));
    }
    return link;
  }

  /** How long a dial from `from` to `target`, which cannot be reached, takes to fail. */
  private dialFailureDelay(from: number, target: number): Millis {
    const refused = !this.host.isAlive(target) && !this.silentlyDead.has(target);
    // A dead process on a live host: the connect is refused after one round trip.
    return refused ? this.latency(from, target) + this.latency(target, from) : this.options.connectTimeout;
  }

  private open(link: Link): void {
    if (link.state !== LinkState.dialing) return;
    const { a, b, dialer } = link;
    if (!this.host.isAlive(dialer)) {
      this.failDial(link);
      return;
    }
    const target = link.other(dialer);
    if (!this.host.isAlive(target) || !this.reachable(a, b)) {
      // The target died or was cut off while the dial was in flight.
      const delay = this.dialFailureDelay(dialer, target);
      this.host.schedule(this.host.now + delay, simEvent(EventKind.dialFail, -1, -1, link));
      return;
    }
    link.state = LinkState.open;
    link.upA = true;
    link.upB = true;
    const from = link.queueFrom;
    const messages = link.queueMessages;
    link.queueFrom = undefined;
    link.queueMessages = undefined;
    if (from !== undefined && messages !== undefined) {
      for (let i = 0; i < from.length; i++) {
        const sender = from[i] as number;
        // The responder was up a leg earlier: what it queued left then, behind its Hello, which
        // arrives now.
        const sentAt = sender === dialer ? this.host.now : link.responderUpAt;
        this.transmit(link, sender, link.other(sender), messages[i] as ProtocolMessage, sentAt);
      }
    }
    // An end that disconnected during the dial: its messages went out, now it closes.
    if (link.closeA) this.closeEnd(link, a);
    if (link.closeB) this.closeEnd(link, b);
  }

  private failDial(link: Link): void {
    this.counters.dialFailures++;
    this.retire(link);
    for (const end of [link.a, link.b]) {
      const wanted = end === link.dialer || link.hasQueued(end);
      if (wanted && !link.closeRequested(end) && this.host.isAlive(end)) {
        this.host.onDialFailed(end, link.other(end));
      }
    }
    link.queueFrom = undefined;
    link.queueMessages = undefined;
  }

  // --- Messages -----------------------------------------------------------------------------------

  private transmit(
    link: Link,
    from: number,
    to: number,
    message: ProtocolMessage,
    sentAt: Millis = this.host.now,
  ): void {
    this.counters.messagesSent++;
    const limited = this.options.bandwidth > 0;
    const arrival = this.nextArrival(link, from, limited ? this.leave(from, message, sentAt) : sentAt);
    if (this.options.loss > 0 && this.random.next() < this.options.loss) {
      this.counters.lossEvents++;
      // Queued behind what was sent before it (events at one time run in order), so those arrive.
      if (limited) this.host.schedule(arrival, simEvent(EventKind.reachLoss, to, from, link));
      else this.host.schedule(arrival, simEvent(EventKind.linkLoss, -1, -1, link));
      return;
    }
    const kind = limited ? EventKind.reachDeliver : EventKind.deliver;
    this.host.schedule(arrival, simEvent(kind, to, from, link, message));
  }

  /** With a bandwidth: when `message`, handed over by `from` at `sentAt`, has left its interface. */
  private leave(from: number, message: ProtocolMessage, sentAt: Millis): Millis {
    const left = Math.max(sentAt, this.outgoingBusyUntil[from] as number) + this.wireMs(message);
    this.outgoingBusyUntil[from] = left;
    return left;
  }

  /**
   * With a bandwidth: `message` reached `to`'s interface, which takes it in after what came before
   * it. One that cannot arrive (lost link, dead node, partition) is dropped here, taking no time.
   */
  private reachInterface(link: Link, from: number, to: number, message: ProtocolMessage): void {
    if (link.broken || link.dead || !this.host.isAlive(to) || !this.reachable(from, to)) {
      this.arrive(link, from, to, message);
      return;
    }
    this.takeIn(to, this.wireMs(message), simEvent(EventKind.deliver, to, from, link, message));
  }

  /** `then` happens once `to`'s interface has taken in what reached it before, and `wireMs` more. */
  private takeIn(to: number, wireMs: Millis, then: SimEvent): void {
    const done = Math.max(this.host.now, this.incomingBusyUntil[to] as number) + wireMs;
    this.incomingBusyUntil[to] = done;
    this.host.schedule(done, then);
  }

  private wireMs(message: ProtocolMessage): Millis {
    return (wireBytes(message) * 1000) / this.options.bandwidth;
  }

  /**
   * Arrival time (at the receiver's interface, with a bandwidth) of the next message from `from` on
   * `link`, which left at `sentAt`: FIFO per direction.
   */
  private nextArrival(link: Link, from: number, sentAt: Millis = this.host.now): Millis {
    // Never before now: a message sent earlier (see open) still arrives no sooner than its link's
    // last handshake message, which arrives now.
    let arrival = Math.max(sentAt + this.latency(link.a, link.b), this.host.now);
    if (from === link.a) {
      if (arrival < link.lastArrivalAtoB) arrival = link.lastArrivalAtoB;
      link.lastArrivalAtoB = arrival;
    } else {
      if (arrival < link.lastArrivalBtoA) arrival = link.lastArrivalBtoA;
      link.lastArrivalBtoA = arrival;
    }
    return arrival;
  }

  private arrive(link: Link, from: number, to: number, message: ProtocolMessage): void {
    if (link.broken || link.dead) {
      this.counters.droppedOnBrokenLink++;
    } else if (!this.host.isAlive(to)) {
      this.counters.droppedAtDeadNode++;
    } else if (!this.reachable(from, to)) {
      this.counters.droppedByPartition++;
    } else {
      this.counters.messagesDelivered++;
      this.host.onMessage(to, from, message);
    }
  }

  // --- Closing ------------------------------------------------------------------------------------

  /** `end` closes its side: its FIN follows whatever it already sent. */
  private closeEnd(link: Link, end: number): void {
    link.setUp(end, false);
    const other = link.other(end);
    const arrival = this.nextArrival(link, end);
    const kind = this.options.bandwidth > 0 ? EventKind.reachFin : EventKind.fin;
    this.host.schedule(arrival, simEvent(kind, other, end, link));
    if (!link.upA && !link.upB) this.retire(link);
  }

  private finArrives(link: Link, from: number, to: number): void {
    // Across a partition the FIN is lost like everything else; the link breaks on its own.
    if (link.broken || link.dead || !link.isUp(to) || !this.reachable(from, to)) return;
    link.setUp(to, false);
    if (!link.upA && !link.upB) this.retire(link);
    this.notifyLinkDown(link, to, false);
  }

  /**
   * A lost message was due: the connection is dead from here on, both ways. Its ends keep it (and
   * keep sending into it) until their idle timeout, as the transport has no other way to tell.
   */
  private loseLink(link: Link): void {
    if (link.dead || link.broken) return;
    link.dead = true;
    this.host.schedule(this.host.now + this.options.idleTimeout, simEvent(EventKind.linkBreak, -1, -1, link));
  }

  private breakLink(link: Link): void {
    if (link.broken) return;
    // Even if both ends already closed it: whatever is still in flight on it is lost.
    link.broken = true;
    if (link.state === LinkState.closed) return;
    const wasUpA = link.upA;
    const wasUpB = link.upB;
    link.upA = false;
    link.upB = false;
    this.retire(link);
    if (wasUpA) this.notifyLinkDown(link, link.a, true);
    if (wasUpB) this.notifyLinkDown(link, link.b, true);
  }

  /** Tells `node` its link is gone, unless it is dead or already uses a newer link to that peer. */
  private notifyLinkDown(link: Link, node: number, silent: boolean): void {
    if (!this.host.isAlive(node)) return;
    const peer = link.other(node);
    const newer = this.currentLink(node, peer);
    if (newer !== undefined && newer !== link && newer.state === LinkState.open && newer.isUp(node)) return;
    this.counters.linkDowns++;
    this.host.onLinkDown(node, peer, silent);
  }

  // --- Bookkeeping --------------------------------------------------------------------------------

  private attach(link: Link): void {
    const listA = this.nodeLinks[link.a] as Link[];
    const listB = this.nodeLinks[link.b] as Link[];
    link.positionA = listA.length;
    listA.push(link);
    link.positionB = listB.length;
    listB.push(link);
    this.liveLinks++;
  }

  /** The link is finished: no end uses it. Messages in flight on it still arrive unless it broke. */
  private retire(link: Link): void {
    if (link.state === LinkState.closed) return;
    link.state = LinkState.closed;
    this.clearCurrent(link);
    this.detachFrom(link.a, link.positionA);
    this.detachFrom(link.b, link.positionB);
    this.liveLinks--;
  }

  /** Swap-removes the entry at `position` of `owner`'s list and fixes the moved link's position. */
  private detachFrom(owner: number, position: number): void {
    const list = this.nodeLinks[owner] as Link[];
    const last = list.pop() as Link;
    if (position >= list.length) return; // it was the last one
    list[position] = last;
    if (last.a === owner) last.positionA = position;
    else last.positionB = position;
  }

  private latency(x: number, y: number): Millis {
    if (!this.options.latencyPerLink) return sampleLatency(this.options.latency, this.random);
    const low = Math.min(x, y);
    const high = Math.max(x, y);
    this.pairDraw.value = mix32(mix32((low ^ this.pairSalt) >>> 0) ^ high) / 4294967296;
    return sampleLatency(this.options.latency, this.pairDraw);
  }
}

/** Makes `link` the one for `peer` in a node's list of current links. */
function setPair(list: (number | Link)[], peer: number, link: Link): void {
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] !== peer) continue;
    list[i + 1] = link;
    return;
  }
  list.push(peer, link);
}

/** Removes `peer`'s entry from a node's list of current links, if it is `link`. */
function clearPair(list: (number | Link)[], peer: number, link: Link): void {
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] !== peer) continue;
    if (list[i + 1] !== link) return;
    // Swap-remove: the order of the pairs carries no meaning.
    const lastLink = list.pop() as Link;
    const lastPeer = list.pop() as number;
    if (i < list.length) {
      list[i] = lastPeer;
      list[i + 1] = lastLink;
    }
    return;
  }
}
