import { NODE_ID_BYTES, type NodeId } from '../core/types.js';
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { catchDecodeError, DecodeError, type DecodeResult } from './errors.js';

/** What a node announces on the discovery multicast group. */
export interface Beacon {
  readonly id: NodeId;
  /** TCP port the node accepts links on; the receiver pairs it with the datagram's source address. */
  readonly port: number;
  /** The sender's active view has room: receivers that can spare a link should connect. */
  readonly wantsPeers: boolean;
}

/** 'MCST': lets a receiver drop other applications' datagrams on the same group cheaply. */
export const BEACON_MAGIC = 'MCST';
const MAGIC_BYTES: readonly number[] = [...Buffer.from(BEACON_MAGIC, 'ascii')];

/** Beacon format version, independent of the frame PROTOCOL_VERSION. */
export const BEACON_VERSION = 1;

/** Flag bit 0. The other bits are reserved: zero on encode, ignored on decode for forward compatibility. */
export const BEACON_FLAG_WANTS_PEERS = 0x01;

/**
 * Size of the beacon as defined today: magic 4, version 1, flags 1, node id 32, port 2.
 * Everything after these bytes is rejected as 'trailing-bytes'. Seam for authentication: a signed
 * beacon appends its MAC after BEACON_BYTES and verifies it over buf.subarray(0, BEACON_BYTES).
 */
export const BEACON_BYTES = MAGIC_BYTES.length + 1 + 1 + NODE_ID_BYTES + 2;

export function encodeBeacon(beacon: Beacon): Buffer {
  const writer = new ByteWriter(Buffer.allocUnsafe(BEACON_BYTES));
  for (const byte of MAGIC_BYTES) writer.u8(byte, 'magic');
  writer.u8(BEACON_VERSION, 'version');
  writer.u8(beacon.wantsPeers ? BEACON_FLAG_WANTS_PEERS : 0, 'flags');
  writer.nodeId(beacon.id);
  writer.u16(beacon.port, 'port');
  return writer.finish();
}

/** Decodes one datagram. Never throws on bad input. */
export function decodeBeacon(datagram: Uint8Array): DecodeResult<Beacon> {
  return catchDecodeError(() => decodeOrThrow(datagram));
}

function decodeOrThrow(datagram: Uint8Array): Beacon {
  const reader = new ByteReader(datagram);
  if (reader.remaining < MAGIC_BYTES.length) {
    throw new DecodeError('truncated', `datagram of ${datagram.length} bytes has no magic`);
  }
  for (const expected of MAGIC_BYTES) {
    if (reader.u8('magic') !== expected) throw new DecodeError('bad-magic', 'not a meshcast beacon');
  }
  // Version before length: another version may have another length.
  const version = reader.u8('version');
  if (version !== BEACON_VERSION) {
    throw new DecodeError('bad-version', `beacon version ${version}, this build speaks ${BEACON_VERSION}`);
  }
  const flags = reader.u8('flags');
  const beacon: Beacon = {
    id: reader.nodeId('id'),
    port: reader.u16('port'),
    wantsPeers: (flags & BEACON_FLAG_WANTS_PEERS) !== 0,
  };
  reader.end('beacon');
  return beacon;
}
