import type { NodeId, PeerInfo } from '../core/types.js';

/**
 * Simulated nodes are numbered 0, 1, 2, ... in the order they are created. The number doubles as
 * the transport address, so the simulated network routes a `send` with one parseInt, exactly as
 * the TCP transport dials `peer.address` without looking the id up.
 */

/** Hex digits of the index at the end of every simulated id: room for 2^32 nodes. */
const INDEX_HEX_DIGITS = 8;

/**
 * A 64-hex NodeId for node `index`: 56 pseudo-random hex digits, then the index itself. Unique by
 * construction, identical in every run, and not ordered by index, so nothing in the core that
 * compares ids can accidentally favour old or young nodes.
 */
export function simNodeId(index: number): NodeId {
  let hex = '';
  let state = (index + 1) >>> 0;
  for (let word = 0; word < 7; word++) {
    state = mix32(state + word * 0x9e3779b9);
    hex += state.toString(16).padStart(8, '0');
  }
  return internalized(hex + index.toString(16).padStart(INDEX_HEX_DIGITS, '0'));
}

/**
 * The same string, internalized: every core keys its views and tables by these ids, and a Map
 * compares two internalized strings by address alone, where a built-up string that misses costs a
 * length, hash and sometimes character comparison. A property key is always internalized.
 */
function internalized(text: string): string {
  return Object.keys({ [text]: 0 })[0] as string;
}

/**
 * A simulated node's PeerInfo also carries its index. The cores never build a PeerInfo of their
 * own, they pass on the ones they were given, so the network can route a send by the index without
 * reading the address string: one memory access fewer per message, in a loop bound by them.
 */
export interface SimPeerInfo extends PeerInfo {
  readonly index: number;
}

export function simPeerInfo(index: number): SimPeerInfo {
  return { id: simNodeId(index), address: String(index), index };
}

/** The node `peer` names: its index if it is a simulated node's PeerInfo, else its address parsed. */
export function indexOfPeer(peer: PeerInfo): number {
  const index = (peer as Partial<SimPeerInfo>).index;
  return index !== undefined ? index : indexOfAddress(peer.address);
}

/** The node index an address names, or -1 for anything that is not one of ours. */
export function indexOfAddress(address: string): number {
  const length = address.length;
  // Canonical decimal only: no sign, no leading zero, at most 15 digits (exact in a double).
  if (length === 0 || length > 15 || (length > 1 && address.charCodeAt(0) === 48)) return -1;
  let index = 0;
  for (let i = 0; i < length; i++) {
    const digit = address.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    index = index * 10 + digit;
  }
  return index;
}

/** The node index encoded at the end of a simulated id, or -1. */
export function indexOfId(id: NodeId): number {
  if (id.length !== 64) return -1;
  const index = Number.parseInt(id.slice(64 - INDEX_HEX_DIGITS), 16);
  return Number.isSafeInteger(index) ? index : -1;
}

/** murmur3's 32-bit finaliser: a cheap bijection that scrambles every bit. */
export function mix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
