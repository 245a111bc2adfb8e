import type { WireMessage } from '../core/messages.js';

/**
 * Frame layout: u32 big-endian length of what follows, then u8 version, u8 message type, body.
 * Bump the version on any incompatible change; peers reject frames of another version.
 * 2: the OverlayTag message, which a version 1 peer would take for a malformed frame.
 */
export const PROTOCOL_VERSION = 2;

/** The u32 length prefix in front of every frame. */
export const LENGTH_PREFIX_BYTES = 4;

/** Version byte + type byte at the start of every frame body. */
export const BODY_HEADER_BYTES = 2;

/**
 * Largest hop count on the wire (u8). Hops only measure distance, so the encoder saturates rather
 * than refusing to forward a message that travelled farther.
 */
export const MAX_HOPS = 0xff;

/** Message type byte for each message. Link-layer 0x0_, membership 0x1_, broadcast 0x2_. */
export const MESSAGE_TYPE_CODES = {
  hello: 0x01,
  ping: 0x02,
  join: 0x10,
  forwardJoin: 0x11,
  neighbor: 0x12,
  neighborReply: 0x13,
  disconnect: 0x14,
  shuffle: 0x15,
  shuffleReply: 0x16,
  overlayTag: 0x17,
  gossip: 0x20,
  ihave: 0x21,
  graft: 0x22,
  prune: 0x23,
  relink: 0x24,
} as const satisfies Record<WireMessage['type'], number>;

export type MessageTypeCode = (typeof MESSAGE_TYPE_CODES)[keyof typeof MESSAGE_TYPE_CODES];

/** Neighbor priority byte (HyParView: high must be accepted). */
export const PRIORITY_CODES = { low: 0, high: 1 } as const;
