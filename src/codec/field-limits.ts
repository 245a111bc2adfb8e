import { NODE_ID_BYTES } from '../core/types.js';

/** Shared by writer and reader so that what one accepts the other produces. */

/** Largest value of a u8 field (ttl, hops, address length). */
export const U8_MAX = 0xff;
/** Largest value of a u16 field (ports, list counts). */
export const U16_MAX = 0xffff;
/** Largest value of a u32 field (frame and payload lengths). */
export const U32_MAX = 0xffff_ffff;
/** 2^32: a u53 travels as a high and a low u32 so the hot path never touches BigInt. */
export const U32_RANGE = 0x1_0000_0000;
/** High word of a u53 must stay below 2^21 so that high * 2^32 + low < 2^53 (a safe integer). */
export const U53_HIGH_RANGE = 0x20_0000;

/** Largest application payload one gossip message may carry. */
export const MAX_APPLICATION_PAYLOAD_BYTES = 1024 * 1024;

/**
 * Default limit on a frame's length prefix: a 1 MiB application payload plus 1 KiB of headroom for
 * the gossip header (version, type, origin, seq, hops, signature, payload length: 112 bytes today)
 * and any field a later version adds. Anything larger is a broken or hostile peer.
 */
export const DEFAULT_MAX_FRAME_BYTES = MAX_APPLICATION_PAYLOAD_BYTES + 1024;

/** An address is length-prefixed by a u8, so at most 255 bytes. */
export const MAX_ADDRESS_BYTES = U8_MAX;

/**
 * What an address looks like on the wire: "host:port" in printable ASCII without spaces, as the
 * transport writes them (an IPv4 address, a hostname, an IPv6 address bracketed or not). Addresses
 * pass from node to node in joins and shuffles and end up in logs and on chat screens: one holding
 * control characters could rewrite a terminal, so the codec refuses it in both directions.
 */
export const WIRE_ADDRESS_PATTERN = /^[!-~]+:[0-9]{1,5}$/;

/** On the wire: seq as two u32 halves. */
export const SEQ_BYTES = 8;
/** On the wire: id + address length byte; the address itself is at least empty. */
export const MIN_PEER_INFO_BYTES = NODE_ID_BYTES + 1;
/** On the wire: one ihave entry = origin + seq + hops. */
export const IHAVE_ENTRY_BYTES = NODE_ID_BYTES + SEQ_BYTES + 1;

/** What a NodeId looks like in memory (see src/core/types.ts). */
export const NODE_ID_PATTERN = /^[0-9a-f]{64}$/;

/** An Ed25519 signature: the only non-empty length a gossip signature may have on the wire. */
export const SIGNATURE_BYTES = 64;
