import type { ProtocolAction } from '../core/actions.js';
import { PROTOCOL_MESSAGE_TYPES, type ProtocolMessage } from '../core/messages.js';
import type { Millis } from '../core/types.js';
import type { SimObserver } from './simulator.js';

/** Every protocol message type, in the order the figures list them. */
export const MESSAGE_TYPES = PROTOCOL_MESSAGE_TYPES;

export type MessageType = (typeof MESSAGE_TYPES)[number];
export type MessageCounts = Record<MessageType, number>;

const TYPE_INDEX: Readonly<Record<string, number>> = Object.fromEntries(
  MESSAGE_TYPES.map((type, i) => [type, i]),
);
const GOSSIP = TYPE_INDEX.gossip as number;

/** The figures of one broadcast, computed when its window closes. */
export interface BroadcastResult {
  /** Number of the broadcast in the run, from 0. */
  readonly index: number;
  readonly phase: string;
  /** Virtual time it was sent, ms. */
  readonly time: Millis;
  readonly origin: number;
  /** Its origin's first broadcast of the run: with Plumtree it follows the shared tree, later ones the origin's own. */
  readonly originFirst: boolean;
  /**
   * Nodes that should have delivered it: alive from before it was sent until its window closed
   * (and, during a partition, on the origin's side). The origin counts, as having delivered it.
   */
  readonly live: number;
  /** Of those, how many delivered it (origin included). */
  readonly delivered: number;
  /** delivered / live. */
  readonly reliability: number;
  /**
   * Payload copies (gossip messages) received during its window by the nodes counted in `live`,
   * duplicates included; copies received by others (nodes that died during the window, or joined
   * after it was sent) are left out, as they are of `delivered`.
   */
  readonly payloadsReceived: number;
  /**
   * Relative message redundancy (Plumtree paper, §5): payloadsReceived / (delivered - 1) - 1, so
   * 0 for a perfect spanning tree. Null when nobody but the origin delivered.
   */
  readonly rmr: number | null;
  /** Last delivery hop: most links a copy travelled to a counted node (as for reliability). */
  readonly ldh: number;
  /**
   * The fewest hops to the live node farthest from the origin over the active views when it was
   * sent (overlay.ts, eccentricity): the least `ldh` a broadcast that reaches everyone can have.
   */
  readonly originEccentricity: number;
  /** From sending to the last delivery to a counted node, ms. */
  readonly latency: Millis;
  /** Nodes that delivered it twice or more (must stay 0: delivery is exactly-once). */
  readonly duplicateDeliveries: number;
  /** Non-payload messages sent by all nodes during its window, by type. */
  readonly control: Partial<MessageCounts>;
  readonly controlTotal: number;
}

interface OpenBroadcast {
  readonly index: number;
  readonly phase: string;
  readonly time: Millis;
  readonly origin: number;
  readonly originFirst: boolean;
  readonly originEccentricity: number;
  /** Nodes that existed when it was sent: only they can count. */
  readonly population: number;
  readonly reached: Uint8Array;
  /** Payload copies received by each node that existed when it was sent. */
  readonly copies: Uint32Array;
  readonly sentAtStart: number[];
  /** The hops of each node's delivery, and when: finish() reads them for the nodes it counts. */
  readonly hops: Uint16Array;
  readonly deliveredAt: Float64Array;
  duplicateDeliveries: number;
}

/** Bytes of a broadcast's index, at the front of its payload. */
export const BROADCAST_INDEX_BYTES = 4;

/**
 * Follows every broadcast of a run through the observer hooks. A payload is `payloadBytes` long
 * and starts with the broadcast's index (4 bytes), which is all a copy needs to be attributed to
 * its broadcast; the rest is zeros, there only to take its time on links with a bandwidth.
 */
export class BroadcastTracker implements SimObserver {
  /**
   * A delivery this long after its broadcast counts as slow. The run passes the graft timeout: a
   * slow delivery waited for a repair (or, for a node that joined later, for an announcement).
   */
  constructor(
    private readonly slowAfter: Millis,
    private readonly payloadBytes: number = BROADCAST_INDEX_BYTES,
  ) {}

  /** Messages sent by live nodes during the whole run, by type (index as MESSAGE_TYPES). */
  readonly sent: number[] = MESSAGE_TYPES.map(() => 0);
  readonly results: BroadcastResult[] = [];
  /**
   * Deliveries of a broadcast after its window had closed (each once). Copies due after the run's
   * end are never simulated, so a late delivery of the last broadcast is not seen.
   */
  lateDeliveries = 0;
  /** Payload copies (duplicates included) received after their broadcast's window had closed. */
  lateCopies = 0;
  /** Deliveries, late ones included, more than `slowAfter` after their broadcast was sent. */
  slowDeliveries = 0;
  /** The longest time from a broadcast to one of its deliveries, late ones included. */
  slowestDelivery: Millis = 0;
  private readonly open = new Map<number, OpenBroadcast>();
  /** When each broadcast was sent, by index: late deliveries are timed too. */
  private readonly sentAt: Millis[] = [];
  private readonly origins = new Set<number>();

  /** Opens broadcast `index` and returns the payload the origin must send. */
  begin(
    index: number,
    phase: string,
    origin: number,
    originEccentricity: number,
    time: Millis,
    population: number,
  ): Uint8Array {
    const reached = new Uint8Array(population);
    reached[origin] = 1;
    const originFirst = !this.origins.has(origin);
    this.sentAt[index] = time;
    this.origins.add(origin);
    this.open.set(index, {
      index,
      phase,
      time,
      origin,
      originFirst,
      originEccentricity,
      population,
      reached,
      copies: new Uint32Array(population),
      sentAtStart: this.sent.slice(),
      hops: new Uint16Array(population),
      deliveredAt: new Float64Array(population),
      duplicateDeliveries: 0,
    });
    const payload = new Uint8Array(this.payloadBytes);
    new DataView(payload.buffer).setUint32(0, index);
    return payload;
  }

  /**
   * Closes broadcast `index`. `counts(node, origin)` tells whether a node that existed when it was
   * sent should have delivered it (alive throughout; on the origin's side of a partition).
   */
  finish(index: number, counts: (node: number, origin: number) => boolean): BroadcastResult | undefined {
    const open = this.open.get(index);
    if (open === undefined) return undefined;
    this.open.delete(index);
    let live = 0;
    let delivered = 0;
    let payloadsReceived = 0;
    // Over the nodes counted: one that left during the window counts for no figure (ldh and
    // latency included), however late or far its copy came.
    let ldh = 0;
    let lastDelivery = open.time;
    for (let node = 0; node < open.population; node++) {
      if (node !== open.origin && !counts(node, open.origin)) continue;
      live++;
      payloadsReceived += open.copies[node] as number;
      if (open.reached[node] !== 1) continue;
      delivered++;
      if (node === open.origin) continue;
      ldh = Math.max(ldh, open.hops[node] as number);
      lastDelivery = Math.max(lastDelivery, open.deliveredAt[node] as number);
    }
    const control: Partial<MessageCounts> = {};
    let controlTotal = 0;
    MESSAGE_TYPES.forEach((type, i) => {
      if (i === GOSSIP) return;
      const count = (this.sent[i] as number) - (open.sentAtStart[i] as number);
      control[type] = count;
      controlTotal += count;
    });
    const result: BroadcastResult = {
      index,
      phase: open.phase,
      time: open.time,
      origin: open.origin,
      originFirst: open.originFirst,
      live,
      delivered,
      reliability: live === 0 ? 1 : delivered / live,
      payloadsReceived,
      rmr: delivered > 1 ? payloadsReceived / (delivered - 1) - 1 : null,
      ldh,
      originEccentricity: open.originEccentricity,
      latency: lastDelivery - open.time,
      duplicateDeliveries: open.duplicateDeliveries,
      control,
      controlTotal,
    };
    this.results.push(result);
    return result;
  }

  onSend(_node: number, message: ProtocolMessage): void {
    const index = TYPE_INDEX[message.type];
    if (index !== undefined) this.sent[index] = (this.sent[index] as number) + 1;
  }

  onReceive(node: number, message: ProtocolMessage): void {
    if (message.type !== 'gossip') return;
    const open = this.open.get(this.broadcastIndex(message.payload));
    if (open === undefined) this.lateCopies++;
    else if (node < open.population) open.copies[node] = (open.copies[node] as number) + 1;
  }

  onDeliver(node: number, action: ProtocolAction & { type: 'deliver' }, now: Millis): void {
    const index = this.broadcastIndex(action.payload);
    const sentAt = this.sentAt[index];
    if (sentAt !== undefined) {
      const delay = now - sentAt;
      if (delay > this.slowAfter) this.slowDeliveries++;
      if (delay > this.slowestDelivery) this.slowestDelivery = delay;
    }
    const open = this.open.get(index);
    if (open === undefined) {
      this.lateDeliveries++;
      return;
    }
    // Joined after it was sent: not counted either way. The origin counts as reached from the start.
    if (node >= open.population || node === open.origin) return;
    if (open.reached[node] === 1) {
      open.duplicateDeliveries++;
      return;
    }
    open.reached[node] = 1;
    open.hops[node] = action.hops;
    open.deliveredAt[node] = now;
  }

  /** Reads the big-endian index begin() wrote; -1 for a payload that is not ours. */
  private broadcastIndex(payload: Uint8Array): number {
    if (payload.length !== this.payloadBytes) return -1;
    return (
      (((payload[0] as number) << 24) |
        ((payload[1] as number) << 16) |
        ((payload[2] as number) << 8) |
        (payload[3] as number)) >>>
      0
    );
  }

  sentByType(): MessageCounts {
    return Object.fromEntries(MESSAGE_TYPES.map((type, i) => [type, this.sent[i]])) as MessageCounts;
  }
}
