import type { ProtocolAction } from '../../src/core/actions.js';
import type { ProtocolMessage } from '../../src/core/messages.js';
import {
  type AddressCheck,
  type MessageAuthenticator,
  Protocol,
  type ProtocolOptions,
} from '../../src/core/protocol.js';
import { seededRandom } from '../../src/core/random.js';
import type { NodeId, PeerInfo } from '../../src/core/types.js';
import { nodeId } from './network.js';

/** The address card of test peer `index`. */
export function peer(index: number): PeerInfo {
  return { id: nodeId(index), address: `node-${index}` };
}

/** Peer 0, driven by hand, at time 0 unless `at` says otherwise. */
export class Harness {
  readonly protocol: Protocol;
  now = 0;

  /** `self` is node 0 unless given. */
  constructor(
    options: Partial<ProtocolOptions> = {},
    seed = 1,
    authenticator?: MessageAuthenticator,
    readonly self: PeerInfo = peer(0),
    addressCheck?: AddressCheck,
  ) {
    this.protocol = new Protocol(this.self, options, seededRandom(seed), authenticator, addressCheck);
  }

  receive(from: number | PeerInfo, message: ProtocolMessage): ProtocolAction[] {
    const sender = typeof from === 'number' ? peer(from) : from;
    return this.protocol.handle({ type: 'message', from: sender, message }, this.now);
  }

  /** Makes each peer an active neighbour through a Neighbor{high} it sends us. */
  withNeighbours(...indices: number[]): this {
    for (const index of indices) this.receive(index, { type: 'neighbor', priority: 'high' });
    return this;
  }

  /** Fills the passive view through discovery beacons (a ShuffleReply is taken only after our Shuffle). */
  withPassive(...indices: number[]): ProtocolAction[] {
    const actions: ProtocolAction[] = [];
    for (const index of indices) {
      for (const action of this.protocol.handle({ type: 'discovered', peer: peer(index) }, this.now))
        actions.push(action);
    }
    return actions;
  }

  active(): NodeId[] {
    return this.protocol.activeView().map((p) => p.id);
  }

  passive(): NodeId[] {
    return this.protocol.passiveView().map((p) => p.id);
  }
}

/** The OverlayTag a node sends a new neighbour, after whatever made it one. */
export function greeting(to: PeerInfo, tag: NodeId): ProtocolAction {
  return { type: 'send', to, message: { type: 'overlayTag', tag, probe: false } };
}

export interface Sent {
  readonly to: PeerInfo;
  readonly message: ProtocolMessage;
}

/** The sends among `actions`, optionally only of one message type. */
export function sends(actions: readonly ProtocolAction[], type?: ProtocolMessage['type']): Sent[] {
  const result: Sent[] = [];
  for (const action of actions) {
    if (action.type === 'send' && (type === undefined || action.message.type === type)) result.push(action);
  }
  return result;
}

export function actionsOf<T extends ProtocolAction['type']>(
  actions: readonly ProtocolAction[],
  type: T,
): Extract<ProtocolAction, { type: T }>[] {
  return actions.filter((action): action is Extract<ProtocolAction, { type: T }> => action.type === type);
}

export function ids(peers: readonly PeerInfo[]): NodeId[] {
  return peers.map((p) => p.id);
}

/** The Neighbor requests among `actions`: to whom, and with which priority. */
export function neighborRequests(actions: readonly ProtocolAction[]): { to: string; priority: string }[] {
  return sends(actions, 'neighbor').map((s) => ({
    to: s.to.id,
    priority: s.message.type === 'neighbor' ? s.message.priority : '',
  }));
}
