import type { ProtocolTimer } from '../core/actions.js';
import type { ProtocolMessage } from '../core/messages.js';
import type { Link } from './link.js';

/** What a queued event is; one small number so the event loop is a plain switch. */
export const EventKind = {
  // Network (src/sim/network.ts)
  /** `message` from `peer` arrives at `node` over `link`. */
  deliver: 0,
  /** The dial that created `link` completes. */
  linkOpen: 1,
  /** The dial that created `link` is given up (target dead or unreachable). */
  dialFail: 2,
  /** The FIN `peer` sent when closing `link` arrives at `node`. */
  fin: 3,
  /** `link` breaks abruptly: both live ends notice (loss, partition, silent crash). */
  linkBreak: 4,
  // Nodes (src/sim/simulator.ts)
  /** A timer `node` armed fires. */
  timer: 5,
  /** `node` hears a discovery beacon. */
  beacon: 6,
  // Scenario (src/sim/scenarios.ts): `node` carries the step, `peer` its argument.
  scenario: 7,
  /**
   * A lost message was due on `link` (src/sim/network.ts): from now on nothing more arrives on it,
   * in either direction; its ends find out `idleTimeout` later (a linkBreak).
   */
  linkLoss: 8,
  // With a bandwidth (src/sim/network.ts), what crosses a link first reaches the receiving node's
  // interface, which takes it in after what came before it; then it happens as above.
  /** `message` from `peer` reaches `node`'s interface over `link`; then a deliver. */
  reachDeliver: 9,
  /** The FIN `peer` sent on `link` reaches `node`'s interface; then a fin. */
  reachFin: 10,
  /** A lost message from `peer` was due at `node`'s interface on `link`; then a linkLoss. */
  reachLoss: 11,
} as const;

export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/**
 * One queued event. Every event has the same shape (unused fields undefined or -1), so V8 keeps a
 * single hidden class and the loop stays monomorphic; no event holds a closure.
 */
export interface SimEvent {
  readonly kind: EventKind;
  readonly node: number;
  readonly peer: number;
  readonly link: Link | undefined;
  readonly message: ProtocolMessage | undefined;
  readonly timer: ProtocolTimer | undefined;
}

type MutableEvent = { -readonly [K in keyof SimEvent]: SimEvent[K] };

/**
 * Dispatched events, kept for reuse: millions of events each live for milliseconds to seconds of
 * virtual time, long enough to be promoted out of V8's young generation, which makes garbage
 * collection of fresh objects costly. The pool is bounded; it holds no state between events.
 */
const pool: MutableEvent[] = [];
/**
 * Room for every event queued at once in a large run (10,000 nodes queue a few per node, timers
 * included, plus the messages in flight): an event that finds the pool full is garbage in the old
 * generation, the costly kind. 64 bytes each, so the bound is about 64 MB at the very worst.
 */
const MAX_POOLED_EVENTS = 1 << 20;

export function simEvent(
  kind: EventKind,
  node: number,
  peer = -1,
  link: Link | undefined = undefined,
  message: ProtocolMessage | undefined = undefined,
  timer: ProtocolTimer | undefined = undefined,
): SimEvent {
  const event = pool.pop();
  if (event === undefined) return { kind, node, peer, link, message, timer };
  event.kind = kind;
  event.node = node;
  event.peer = peer;
  event.link = link;
  event.message = message;
  event.timer = timer;
  return event;
}

/** Hands a dispatched event back for reuse. The caller must keep no reference to it. */
export function recycleEvent(event: SimEvent): void {
  if (pool.length >= MAX_POOLED_EVENTS) return;
  const reusable = event as MutableEvent;
  reusable.link = undefined;
  reusable.message = undefined;
  reusable.timer = undefined;
  pool.push(reusable);
}
