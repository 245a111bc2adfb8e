import { BlockList, isIP } from 'node:net';
import type { ProtocolMessage } from '../core/messages.js';
import type { PeerInfo } from '../core/types.js';
import { parseAddress } from './address.js';

/**
 * Which addresses a peer may name to us second-hand: the joiner of a ForwardJoin, the origin and
 * entries of a Shuffle, the entries of a ShuffleReply. The membership dials such addresses later
 * (to answer a shuffle, to fill a slot), so without a check any member could make every node it
 * shuffles with connect wherever it likes: to services on the node's own host (127.0.0.1:22), to a
 * multicast or broadcast address, or to a host name whose answer it controls.
 *
 * Honest nodes only ever pass on addresses they saw on a link: IP literals. A loopback address is
 * passed on honestly only by a node that reached that peer over loopback, so it is in scope only
 * on a loopback link; elsewhere it names the receiver's own host, where the peer is not (nodes on
 * one machine linked through 127.0.0.1 would otherwise leak such addresses to the rest of the LAN).
 */

/** Why `address`, named by a peer whose link comes from `linkHost`, must not be dialled; undefined if it may. */
export function secondHandRefusal(address: string, linkHost: string): string | undefined {
  const parsed = parseAddress(address);
  if (parsed === undefined) return 'not host:port';
  const scope = scopeOf(parsed.host);
  if (scope === 'loopback')
    return scopeOf(linkHost) === 'loopback' ? undefined : 'loopback, named by a peer not on loopback';
  return scope === 'unicast' ? undefined : scope;
}

type Scope =
  | 'unicast'
  | 'loopback'
  | 'unspecified'
  | 'multicast'
  | 'reserved or broadcast'
  | 'not an IP address';

/** [scope, subnets]; BlockList also matches IPv4 rules against IPv4-mapped IPv6 ("::ffff:7f00:1"). */
const SCOPES: readonly (readonly [Scope, BlockList])[] = [
  ['loopback', subnets(['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6'])],
  ['unspecified', subnets(['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6'])],
  ['multicast', subnets(['224.0.0.0', 4, 'ipv4'], ['ff00::', 8, 'ipv6'])],
  ['reserved or broadcast', subnets(['240.0.0.0', 4, 'ipv4'])],
];

function subnets(...rules: readonly (readonly [string, number, 'ipv4' | 'ipv6'])[]): BlockList {
  const list = new BlockList();
  for (const [net, prefix, family] of rules) list.addSubnet(net, prefix, family);
  return list;
}

function scopeOf(host: string): Scope {
  const family = isIP(host);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [scope, list] of SCOPES) if (list.check(host, type)) return scope;
  return 'unicast';
}

/** The message without the peers it must not name, and what was left out. */
export interface ScopedMessage {
  /** Undefined when the peer the message is about (a ForwardJoin's joiner, a Shuffle's origin) is out of scope. */
  readonly message: ProtocolMessage | undefined;
  /** Peers left out; 0 when the message is returned unchanged. */
  readonly refused: number;
  /** The first refused address and why, for the log. */
  readonly detail: string | undefined;
}

/**
 * `message` as received from `sender` over a link from `linkHost`, keeping only the peers it may
 * name (secondHandRefusal). The sender itself is exempt: a node names itself by the address it
 * listens on (0.0.0.0 when on every interface), and the membership uses the link's address for a
 * neighbour instead.
 */
export function withinScope(message: ProtocolMessage, sender: PeerInfo, linkHost: string): ScopedMessage {
  const check = new ScopeCheck(sender, linkHost);
  switch (message.type) {
    case 'forwardJoin':
      return check.allows(message.peer) ? check.result(message) : check.result(undefined);
    case 'shuffle': {
      if (!check.allows(message.origin)) return check.result(undefined);
      const peers = check.filter(message.peers);
      return check.result(peers === message.peers ? message : { ...message, peers });
    }
    case 'shuffleReply': {
      const peers = check.filter(message.peers);
      return check.result(peers === message.peers ? message : { ...message, peers });
    }
    default:
      return check.result(message);
  }
}

class ScopeCheck {
  private refused = 0;
  private detail: string | undefined;

  constructor(
    private readonly sender: PeerInfo,
    private readonly linkHost: string,
  ) {}

  allows(peer: PeerInfo): boolean {
    if (peer.id === this.sender.id) return true;
    const why = secondHandRefusal(peer.address, this.linkHost);
    if (why === undefined) return true;
    this.refused++;
    this.detail ??= `${JSON.stringify(peer.address)}: ${why}`;
    return false;
  }

  /** `peers` itself when all are allowed, so that the common case allocates nothing. */
  filter(peers: readonly PeerInfo[]): readonly PeerInfo[] {
    const before = this.refused;
    const kept = peers.filter((peer) => this.allows(peer));
    return this.refused === before ? peers : kept;
  }

  result(message: ProtocolMessage | undefined): ScopedMessage {
    return { message, refused: this.refused, detail: this.detail };
  }
}
