import type { ProtocolMessage } from '../core/messages.js';
import type { Millis } from '../core/types.js';

export const LinkState = {
  /** A dial is in flight; messages from either end wait in `queue`. */
  dialing: 0,
  /** Established; each end may still have closed its side (see upA / upB). */
  open: 1,
  /** Gone: no end uses it any more. Messages still in flight on a gracefully closed link arrive. */
  closed: 2,
} as const;

export type LinkState = (typeof LinkState)[keyof typeof LinkState];

/**
 * A simulated TCP connection between nodes `a` < `b`. Each end has its own view of it, as with real
 * sockets: an end that closed (or was told of a close) is down while the other may still be up.
 * Messages queued while dialing are kept as two parallel arrays to avoid a wrapper per message.
 */
export class Link {
  state: LinkState = LinkState.dialing;
  /** The end considers the link established and usable. */
  upA = false;
  upB = false;
  /** The end asked to close while the dial was in flight: flush its queue on open, then close. */
  closeA = false;
  closeB = false;
  /** Set once the link broke abruptly: whatever is still in flight on it is lost. */
  broken = false;
  /**
   * Set when a lost message was due (see SimNetwork's loss): the connection is dead, so nothing
   * more arrives on it, but its ends do not know until their idle timeout breaks it.
   */
  dead = false;
  /** Arrival time of the latest message scheduled in each direction, to keep each one FIFO. */
  lastArrivalAtoB: Millis = 0;
  lastArrivalBtoA: Millis = 0;
  /** When the responder (the end that did not dial) finished its handshake: see HANDSHAKE_LEGS. */
  responderUpAt: Millis = 0;
  queueFrom: number[] | undefined;
  queueMessages: ProtocolMessage[] | undefined;
  /** Positions in each end's list of links (see SimNetwork), for O(1) removal. */
  positionA = -1;
  positionB = -1;

  constructor(
    readonly a: number,
    readonly b: number,
    /** The end that dialled: "out" for it, "in" for the other (the in/out balance figure). */
    readonly dialer: number,
  ) {}

  other(node: number): number {
    return node === this.a ? this.b : this.a;
  }

  isUp(node: number): boolean {
    return node === this.a ? this.upA : this.upB;
  }

  setUp(node: number, up: boolean): void {
    if (node === this.a) this.upA = up;
    else this.upB = up;
  }

  closeRequested(node: number): boolean {
    return node === this.a ? this.closeA : this.closeB;
  }

  requestClose(node: number): void {
    if (node === this.a) this.closeA = true;
    else this.closeB = true;
  }

  enqueue(from: number, message: ProtocolMessage): void {
    if (this.queueFrom === undefined || this.queueMessages === undefined) {
      this.queueFrom = [];
      this.queueMessages = [];
    }
    this.queueFrom.push(from);
    this.queueMessages.push(message);
  }

  /** Whether `node` has messages waiting for the dial. */
  hasQueued(node: number): boolean {
    return this.queueFrom?.includes(node) ?? false;
  }
}
