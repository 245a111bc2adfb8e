import type { BroadcastTimer } from './broadcast/strategy.js';
import type { MembershipTimer } from './membership/types.js';
import type { ProtocolMessage } from './messages.js';
import type { Millis, NodeId, PeerInfo } from './types.js';

/** Every timer the core arms. The runtime stores it opaquely and hands it back when it fires. */
export type ProtocolTimer = MembershipTimer | BroadcastTimer;

/** What the core asks its runtime to do, in order. */
export type ProtocolAction =
  /** Send `message` to `to`; the transport dials `to.address` if there is no link yet. */
  | { readonly type: 'send'; readonly to: PeerInfo; readonly message: ProtocolMessage }
  /**
   * The core has no further use for the link to `peer`: flush what was queued on it, then close
   * it. A later `send` to the same peer opens a fresh link.
   */
  | { readonly type: 'disconnect'; readonly peer: PeerInfo }
  /** Feed `{ type: 'timer', timer }` back after `after` ms. Timers are never cancelled. */
  | { readonly type: 'setTimer'; readonly after: Millis; readonly timer: ProtocolTimer }
  /** `peer` entered the active view. */
  | { readonly type: 'neighborUp'; readonly peer: PeerInfo }
  /** `peer` left the active view. */
  | { readonly type: 'neighborDown'; readonly peer: PeerInfo }
  /** A broadcast payload for the application; each (origin, seq) is delivered at most once. */
  | {
      readonly type: 'deliver';
      readonly origin: NodeId;
      readonly seq: number;
      /** Links the payload travelled to reach this node: 1 when it came straight from the origin. */
      readonly hops: number;
      readonly payload: Uint8Array;
    };
