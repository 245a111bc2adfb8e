import { BlockList, isIP } from 'node:net';
import type { PeerInfo } from '../core/types.js';
import { parseAddress } from './address.js';

/**
 * Which addresses a peer may name to us second-hand for a peer we do not know yet: the joiner of a
 * ForwardJoin, the origin and entries of a Shuffle, the entries of a ShuffleReply (a peer we know
 * keeps the address we know; see HyParView.secondHand). The membership dials such addresses later
 * (to answer a shuffle, to fill a slot), so without a check any member could make every node it
 * shuffles with connect wherever it likes: to services on the node's own host (127.0.0.1:22), to a
 * multicast address, or to a host name whose answer it controls.
 *
 * Honest nodes only ever pass on addresses they saw on a link: IP literals. A loopback address is
 * passed on honestly only by a node that reached that peer over loopback, so it is in scope only
 * on a loopback link; elsewhere it names the receiver's own host, where the peer is not (nodes on
 * one machine linked through 127.0.0.1 would otherwise leak such addresses to the rest of the LAN).
 * A subnet's directed broadcast address (192.168.1.255) looks like any other and is not caught.
 */

/**
 * The runtime's AddressCheck (src/core/membership/types.ts): `namedBy` is the card of the link the
 * name came over, whose host is the socket's view of the peer.
 */
export function mayDialSecondHand(address: string, namedBy: PeerInfo): boolean {
  return secondHandRefusal(address, parseAddress(namedBy.address)?.host ?? '') === undefined;
}

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
  // 240/4 holds the limited broadcast address; ::/96 and ::ffff:0:0:0/96 embed IPv4 addresses
  // (IPv4-compatible, IPv4-translated) that some hosts route as IPv4, loopback included.
  [
    'reserved or broadcast',
    subnets(['240.0.0.0', 4, 'ipv4'], ['::', 96, 'ipv6'], ['::ffff:0:0:0', 96, 'ipv6']),
  ],
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
