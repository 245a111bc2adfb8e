import fc from 'fast-check';
import type { Beacon } from '../../src/codec/index.js';
import type {
  Disconnect,
  ForwardJoin,
  Gossip,
  Graft,
  Hello,
  IHave,
  Join,
  Neighbor,
  NeighborReply,
  OverlayTag,
  Ping,
  Prune,
  Relink,
  Shuffle,
  ShuffleReply,
  WireMessage,
} from '../../src/core/messages.js';
import { NODE_ID_BYTES, type NodeId, type PeerInfo } from '../../src/core/types.js';

/**
 * fast-check arbitraries for every wire message, shared by the codec tests and any test that needs
 * realistic messages (transport, node). Values stay within what the codec can encode.
 */

export const nodeIdArb: fc.Arbitrary<NodeId> = fc
  .uint8Array({ minLength: NODE_ID_BYTES, maxLength: NODE_ID_BYTES })
  .map((bytes) => Buffer.from(bytes).toString('hex'));

const listenPortArb = fc.integer({ min: 1, max: 65_535 });

/**
 * Any address the codec accepts: host:port in printable ASCII (WIRE_ADDRESS_PATTERN), as IPv4,
 * hostname, bracketed or bare IPv6, any printable ASCII host, and the 255-byte edge.
 */
export const addressArb: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.ipV4(), listenPortArb).map(([host, port]) => `${host}:${port}`),
  fc.tuple(fc.domain(), listenPortArb).map(([host, port]) => `${host}:${port}`),
  fc.tuple(fc.ipV6(), listenPortArb).map(([host, port]) => `[${host}]:${port}`),
  fc.tuple(fc.ipV6(), listenPortArb).map(([host, port]) => `${host}:${port}`),
  fc
    .tuple(fc.stringMatching(/^[!-~]{1,240}$/), fc.stringMatching(/^[0-9]{1,5}$/))
    .map(([host, port]) => `${host}:${port}`),
  fc.constant(`${'h'.repeat(249)}:65535`),
);

export const peerInfoArb: fc.Arbitrary<PeerInfo> = fc.record({ id: nodeIdArb, address: addressArb });
export const peerListArb: fc.Arbitrary<PeerInfo[]> = fc.array(peerInfoArb, { maxLength: 8 });

/** Integers below 2^53, biased towards the edges of the two u32 halves. */
export const seqArb: fc.Arbitrary<number> = fc.oneof(
  fc.nat(),
  fc.maxSafeNat(),
  fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER),
);
export const u8Arb: fc.Arbitrary<number> = fc.integer({ min: 0, max: 255 });
export const portArb: fc.Arbitrary<number> = fc.integer({ min: 0, max: 65_535 });
export const payloadArb: fc.Arbitrary<Uint8Array> = fc.uint8Array({ maxLength: 512 });

export const helloArb: fc.Arbitrary<Hello> = fc.record({
  type: fc.constant('hello'),
  id: nodeIdArb,
  listenPort: portArb,
});
export const pingArb: fc.Arbitrary<Ping> = fc.constant({ type: 'ping' });
export const joinArb: fc.Arbitrary<Join> = fc.constant({ type: 'join' });
export const forwardJoinArb: fc.Arbitrary<ForwardJoin> = fc.record({
  type: fc.constant('forwardJoin'),
  peer: peerInfoArb,
  ttl: u8Arb,
});
export const neighborArb: fc.Arbitrary<Neighbor> = fc.record({
  type: fc.constant('neighbor'),
  priority: fc.constantFrom('high', 'low'),
});
export const neighborReplyArb: fc.Arbitrary<NeighborReply> = fc.record({
  type: fc.constant('neighborReply'),
  accepted: fc.boolean(),
});
export const disconnectArb: fc.Arbitrary<Disconnect> = fc.record({
  type: fc.constant('disconnect'),
  alive: fc.boolean(),
});
export const shuffleArb: fc.Arbitrary<Shuffle> = fc.record({
  type: fc.constant('shuffle'),
  origin: peerInfoArb,
  ttl: u8Arb,
  peers: peerListArb,
});
export const shuffleReplyArb: fc.Arbitrary<ShuffleReply> = fc.record({
  type: fc.constant('shuffleReply'),
  peers: peerListArb,
});
export const overlayTagArb: fc.Arbitrary<OverlayTag> = fc.record({
  type: fc.constant('overlayTag'),
  tag: nodeIdArb,
  probe: fc.boolean(),
});
/** Unsigned gossip has no signature key at all, as the decoder produces it. */
export const gossipArb: fc.Arbitrary<Gossip> = fc.record(
  {
    type: fc.constant('gossip'),
    origin: nodeIdArb,
    seq: seqArb,
    hops: u8Arb,
    signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
    payload: payloadArb,
  },
  { requiredKeys: ['type', 'origin', 'seq', 'hops', 'payload'] },
);
export const ihaveArb: fc.Arbitrary<IHave> = fc.record({
  type: fc.constant('ihave'),
  entries: fc.array(fc.record({ origin: nodeIdArb, seq: seqArb, hops: u8Arb }), { maxLength: 16 }),
});
export const graftArb: fc.Arbitrary<Graft> = fc.record({
  type: fc.constant('graft'),
  origin: nodeIdArb,
  seq: seqArb,
  request: fc.boolean(),
});
export const pruneArb: fc.Arbitrary<Prune> = fc.record({ type: fc.constant('prune'), origin: nodeIdArb });
export const relinkArb: fc.Arbitrary<Relink> = fc.constant({ type: 'relink' });

/** One arbitrary per message type; the mapped type makes forgetting a new message a compile error. */
export const messageArbs: {
  readonly [K in WireMessage['type']]: fc.Arbitrary<Extract<WireMessage, { type: K }>>;
} = {
  hello: helloArb,
  ping: pingArb,
  join: joinArb,
  forwardJoin: forwardJoinArb,
  neighbor: neighborArb,
  neighborReply: neighborReplyArb,
  disconnect: disconnectArb,
  shuffle: shuffleArb,
  shuffleReply: shuffleReplyArb,
  overlayTag: overlayTagArb,
  gossip: gossipArb,
  ihave: ihaveArb,
  graft: graftArb,
  prune: pruneArb,
  relink: relinkArb,
};

export const wireMessageArb: fc.Arbitrary<WireMessage> = fc.oneof(
  ...Object.values(messageArbs).map((arb) => arb as fc.Arbitrary<WireMessage>),
);

export const beaconArb: fc.Arbitrary<Beacon> = fc.record({
  id: nodeIdArb,
  port: portArb,
  wantsPeers: fc.boolean(),
  tag: nodeIdArb,
});
