import type { ProtocolMessage } from '../../src/core/messages.js';
import { seededRandom } from '../../src/core/random.js';
import type { Millis, PeerInfo } from '../../src/core/types.js';
import type { SimEvent } from '../../src/sim/event.js';
import { EventQueue } from '../../src/sim/event-queue.js';
import { simPeerInfo } from '../../src/sim/ids.js';
import {
  DEFAULT_NETWORK_OPTIONS,
  type NetworkHost,
  type NetworkOptions,
  SimNetwork,
} from '../../src/sim/network.js';

export type Observed =
  | {
      readonly kind: 'message';
      readonly at: Millis;
      readonly to: number;
      readonly from: number;
      readonly message: ProtocolMessage;
    }
  | { readonly kind: 'linkDown'; readonly at: Millis; readonly node: number; readonly peer: number }
  | { readonly kind: 'dialFailed'; readonly at: Millis; readonly node: number; readonly peer: number };

/** Drives a SimNetwork alone: no protocol, every callback recorded with its virtual time. */
export class NetworkHarness implements NetworkHost {
  now: Millis = 0;
  readonly network: SimNetwork;
  readonly observed: Observed[] = [];
  /** Whether each linkDown, in order, was silent (found by the idle timeout) rather than a FIN. */
  readonly silent: boolean[] = [];
  private readonly queue = new EventQueue<SimEvent>();
  private readonly alive = new Set<number>();

  /** The network's options, which a test may change between sends (e.g. `loss`). */
  readonly options: { -readonly [K in keyof NetworkOptions]: NetworkOptions[K] };

  constructor(nodes: number, options: Partial<NetworkOptions> = {}, seed = 1) {
    this.options = { ...DEFAULT_NETWORK_OPTIONS, ...options };
    this.network = new SimNetwork(this, this.options, seededRandom(seed));
    for (let node = 0; node < nodes; node++) {
      this.network.addNode(node);
      this.alive.add(node);
    }
  }

  isAlive(node: number): boolean {
    return this.alive.has(node);
  }

  schedule(time: Millis, event: SimEvent): void {
    this.queue.push(time, event);
  }

  onMessage(to: number, from: number, message: ProtocolMessage): void {
    this.observed.push({ kind: 'message', at: this.now, to, from, message });
  }

  onLinkDown(node: number, peer: number, silent: boolean): void {
    this.observed.push({ kind: 'linkDown', at: this.now, node, peer });
    this.silent.push(silent);
  }

  onDialFailed(node: number, peer: number): void {
    this.observed.push({ kind: 'dialFailed', at: this.now, node, peer });
  }

  peer(node: number): PeerInfo {
    return simPeerInfo(node);
  }

  send(from: number, to: number, message: ProtocolMessage): void {
    this.network.send(from, simPeerInfo(to), message);
  }

  kill(node: number, silent: boolean): void {
    this.alive.delete(node);
    this.network.crash(node, silent);
  }

  /** Runs every event due by `until` (all of them by default). */
  run(until: Millis = Number.POSITIVE_INFINITY): void {
    for (;;) {
      const time = this.queue.peekTime();
      if (time === undefined || time > until) break;
      const event = this.queue.pop() as SimEvent;
      this.now = time;
      this.network.handle(event);
    }
    if (until !== Number.POSITIVE_INFINITY) this.now = until;
  }

  messagesTo(node: number): Observed[] {
    return this.observed.filter((o) => o.kind === 'message' && o.to === node);
  }

  events(kind: Observed['kind']): Observed[] {
    return this.observed.filter((o) => o.kind === kind);
  }
}

/** A gossip message tagged with `n`, to follow ordering. */
export function numbered(n: number): ProtocolMessage {
  return { type: 'gossip', origin: simPeerInfo(0).id, seq: n, hops: 0, payload: new Uint8Array(0) };
}

export function seqOf(observed: Observed): number {
  return observed.kind === 'message' && observed.message.type === 'gossip' ? observed.message.seq : -1;
}
