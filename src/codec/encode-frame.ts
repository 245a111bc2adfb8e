import type { IHave, WireMessage } from '../core/messages.js';
import { NODE_ID_BYTES, type PeerInfo } from '../core/types.js';
import { addressWireBytes, ByteWriter } from './byte-writer.js';
import { IHAVE_ENTRY_BYTES, SEQ_BYTES } from './field-limits.js';
import {
  BODY_HEADER_BYTES,
  LENGTH_PREFIX_BYTES,
  MAX_HOPS,
  MESSAGE_TYPE_CODES,
  PRIORITY_CODES,
  PROTOCOL_VERSION,
} from './wire-format.js';

/**
 * A whole frame, length prefix included, ready for socket.write. The payload of a gossip message
 * is copied once into the frame. Throws RangeError/TypeError only for messages this process should
 * never have built (malformed id, ttl above 255, address over 255 bytes, more than 65535 peers).
 */
export function encodeFrame(message: WireMessage): Buffer {
  return encodeFrameWith(message, Buffer.allocUnsafe);
}

/**
 * encodeFrame() into the buffer `allocate` returns for the frame's exact length: a sender that
 * consumes the frame at once (seals it) can hand out reusable memory instead of a new buffer.
 */
export function encodeFrameWith(message: WireMessage, allocate: (bytes: number) => Buffer): Buffer {
  const bodyBytes = frameBodyBytes(message);
  const writer = new ByteWriter(allocate(LENGTH_PREFIX_BYTES + bodyBytes));
  writer.u32(bodyBytes, 'frame length');
  writer.u8(PROTOCOL_VERSION, 'version');
  writer.u8(MESSAGE_TYPE_CODES[message.type], 'type');
  writeFields(writer, message);
  return writer.finish();
}

/**
 * Length of the frame body (what follows the length prefix): what the transport seals into one
 * record, and what the simulator charges a link's bandwidth for. `addressBytes` sizes an address
 * field (length byte included); the simulator, whose addresses are node numbers, passes the size
 * of a real one.
 */
export function frameBodyBytes(
  message: WireMessage,
  addressBytes: (address: string) => number = addressWireBytes,
): number {
  return BODY_HEADER_BYTES + fieldBytes(message, addressBytes);
}

/** What a gossip frame's body holds besides its payload, a 64-byte signature included. */
export const GOSSIP_OVERHEAD_BYTES = frameBodyBytes({
  type: 'gossip',
  origin: '0'.repeat(64),
  seq: 0,
  hops: 0,
  signature: new Uint8Array(64),
  payload: new Uint8Array(0),
});

/** Size of everything after the type byte; computed first so that a frame is one allocation. */
function fieldBytes(message: WireMessage, addressBytes: (address: string) => number): number {
  switch (message.type) {
    case 'hello':
      return NODE_ID_BYTES + 2;
    case 'ping':
    case 'join':
    case 'relink':
      return 0;
    case 'prune':
      return NODE_ID_BYTES;
    case 'overlayTag':
      return NODE_ID_BYTES + 1;
    case 'forwardJoin':
      return peerInfoBytes(message.peer, addressBytes) + 1;
    case 'neighbor':
    case 'neighborReply':
    case 'disconnect':
      return 1;
    case 'shuffle':
      return peerInfoBytes(message.origin, addressBytes) + 1 + peerListBytes(message.peers, addressBytes);
    case 'shuffleReply':
      return peerListBytes(message.peers, addressBytes);
    case 'gossip':
      return (
        NODE_ID_BYTES + SEQ_BYTES + 1 + 1 + (message.signature?.length ?? 0) + 4 + message.payload.length
      );
    case 'ihave':
      return 2 + message.entries.length * IHAVE_ENTRY_BYTES;
    case 'graft':
      return NODE_ID_BYTES + SEQ_BYTES + 1;
  }
}

function writeFields(writer: ByteWriter, message: WireMessage): void {
  switch (message.type) {
    case 'hello':
      writer.nodeId(message.id);
      writer.u16(message.listenPort, 'listenPort');
      return;
    case 'ping':
    case 'join':
    case 'relink':
      return;
    case 'prune':
      writer.nodeId(message.origin);
      return;
    case 'forwardJoin':
      writePeerInfo(writer, message.peer);
      writer.u8(message.ttl, 'ttl');
      return;
    case 'neighbor':
      writer.u8(PRIORITY_CODES[message.priority], 'priority');
      return;
    case 'neighborReply':
      writer.bool(message.accepted);
      return;
    case 'disconnect':
      writer.bool(message.alive);
      return;
    case 'shuffle':
      writePeerInfo(writer, message.origin);
      writer.u8(message.ttl, 'ttl');
      writePeerList(writer, message.peers);
      return;
    case 'shuffleReply':
      writePeerList(writer, message.peers);
      return;
    case 'overlayTag':
      writer.nodeId(message.tag);
      writer.bool(message.probe);
      return;
    case 'gossip':
      writer.nodeId(message.origin);
      writer.u53(message.seq, 'seq');
      writer.u8(saturateHops(message.hops), 'hops');
      writer.signature(message.signature);
      writer.payload(message.payload);
      return;
    case 'ihave':
      writer.u16(message.entries.length, 'ihave count');
      // An index loop: heap profiles showed for-of here allocating an iterator and a result per entry.
      for (let i = 0; i < message.entries.length; i++) {
        const entry = message.entries[i] as IHave['entries'][number];
        writer.nodeId(entry.origin);
        writer.u53(entry.seq, 'seq');
        writer.u8(saturateHops(entry.hops), 'hops');
      }
      return;
    case 'graft':
      writer.nodeId(message.origin);
      writer.u53(message.seq, 'seq');
      writer.bool(message.request);
      return;
  }
}

function peerInfoBytes(peer: PeerInfo, addressBytes: (address: string) => number): number {
  return NODE_ID_BYTES + addressBytes(peer.address);
}

function peerListBytes(peers: readonly PeerInfo[], addressBytes: (address: string) => number): number {
  let total = 2;
  for (const peer of peers) total += peerInfoBytes(peer, addressBytes);
  return total;
}

function writePeerInfo(writer: ByteWriter, peer: PeerInfo): void {
  writer.nodeId(peer.id);
  writer.address(peer.address);
}

function writePeerList(writer: ByteWriter, peers: readonly PeerInfo[]): void {
  writer.u16(peers.length, 'peer count');
  for (const peer of peers) writePeerInfo(writer, peer);
}

/** Negative or fractional hops are still a bug (the u8 check throws); only the top end saturates. */
function saturateHops(hops: number): number {
  return Math.min(hops, MAX_HOPS);
}
