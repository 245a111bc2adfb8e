import { createHmac, timingSafeEqual } from 'node:crypto';
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
  /**
   * The sender's overlay tag (see OverlayTag in src/core/messages.ts): a receiver with another tag
   * is in an overlay that formed apart from the sender's.
   */
  readonly tag: NodeId;
}

/** 'MCST': lets a receiver drop other applications' datagrams on the same group cheaply. */
export const BEACON_MAGIC = 'MCST';
const MAGIC_BYTES: readonly number[] = [...Buffer.from(BEACON_MAGIC, 'ascii')];

/** Beacon format version, independent of the frame PROTOCOL_VERSION. 2: the overlay tag. */
export const BEACON_VERSION = 2;

/** Flag bit 0. The other bits are reserved: zero on encode, ignored on decode for forward compatibility. */
export const BEACON_FLAG_WANTS_PEERS = 0x01;

/**
 * Size of the beacon of the open network: magic 4, version 1, flags 1, node id 32, port 2, overlay
 * tag 32. Everything after these bytes is rejected as 'trailing-bytes' by decodeBeacon.
 */
export const BEACON_BYTES = MAGIC_BYTES.length + 1 + 1 + NODE_ID_BYTES + 2 + NODE_ID_BYTES;

/** In a private network: when the beacon was sent, u53 milliseconds since the Unix epoch. */
export const BEACON_TIME_BYTES = 8;

/**
 * HMAC-SHA256 truncated to 128 bits: a forger's chance per try is 2^-128, far below any rate a LAN
 * carries (truncation as allowed by RFC 2104 section 5 and NIST SP 800-107 section 5.3.3).
 */
export const BEACON_MAC_BYTES = 16;

/** A private network's beacon: the open beacon, its send time, and a MAC over both. */
export const AUTHENTICATED_BEACON_BYTES = BEACON_BYTES + BEACON_TIME_BYTES + BEACON_MAC_BYTES;

/** A beacon that verified under the network's beacon key. */
export interface AuthenticatedBeacon extends Beacon {
  /** Sender's clock when it sent the beacon, ms since the epoch: receivers refuse stale or repeated ones. */
  readonly sentAt: number;
}

/** The open network's beacon. */
export function encodeBeacon(beacon: Beacon): Buffer {
  const writer = new ByteWriter(Buffer.allocUnsafe(BEACON_BYTES));
  writeBeacon(writer, beacon);
  return writer.finish();
}

/** A private network's beacon, MAC'd under `key` (the network's beacon key). */
export function encodeAuthenticatedBeacon(beacon: AuthenticatedBeacon, key: Uint8Array): Buffer {
  const buffer = Buffer.allocUnsafe(AUTHENTICATED_BEACON_BYTES);
  const writer = new ByteWriter(buffer.subarray(0, BEACON_BYTES + BEACON_TIME_BYTES));
  writeBeacon(writer, beacon);
  writer.u53(beacon.sentAt, 'sentAt');
  writer.finish();
  beaconMac(key, buffer).copy(buffer, BEACON_BYTES + BEACON_TIME_BYTES);
  return buffer;
}

/** Decodes one open-network datagram. Never throws on bad input. */
export function decodeBeacon(datagram: Uint8Array): DecodeResult<Beacon> {
  return catchDecodeError(() => {
    const reader = new ByteReader(datagram);
    const beacon = readBeacon(reader, datagram.length);
    reader.end('beacon');
    return beacon;
  });
}

/**
 * Decodes a private network's datagram and verifies its MAC under `key`: a 'bad-field' error on
 * 'mac' means the sender does not hold the key (or forged the beacon). Freshness is the caller's
 * business: it knows the clock and what it has seen. Never throws on bad input.
 */
export function decodeAuthenticatedBeacon(
  datagram: Uint8Array,
  key: Uint8Array,
): DecodeResult<AuthenticatedBeacon> {
  return catchDecodeError(() => {
    const reader = new ByteReader(datagram);
    const beacon = readBeacon(reader, datagram.length);
    const sentAt = reader.u53('sentAt');
    if (reader.remaining < BEACON_MAC_BYTES) {
      throw new DecodeError('truncated', `mac needs ${BEACON_MAC_BYTES} bytes, ${reader.remaining} left`);
    }
    if (reader.remaining > BEACON_MAC_BYTES) {
      throw new DecodeError('trailing-bytes', `${reader.remaining - BEACON_MAC_BYTES} bytes after the mac`);
    }
    const bytes = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
    const mac = bytes.subarray(BEACON_BYTES + BEACON_TIME_BYTES);
    if (!timingSafeEqual(mac, beaconMac(key, bytes))) {
      throw new DecodeError('bad-field', 'mac does not verify under this network key');
    }
    return { ...beacon, sentAt };
  });
}

/** HMAC-SHA256 of the beacon and its time, truncated to BEACON_MAC_BYTES. */
function beaconMac(key: Uint8Array, datagram: Buffer): Buffer {
  return createHmac('sha256', key)
    .update(datagram.subarray(0, BEACON_BYTES + BEACON_TIME_BYTES))
    .digest()
    .subarray(0, BEACON_MAC_BYTES);
}

function writeBeacon(writer: ByteWriter, beacon: Beacon): void {
  for (const byte of MAGIC_BYTES) writer.u8(byte, 'magic');
  writer.u8(BEACON_VERSION, 'version');
  writer.u8(beacon.wantsPeers ? BEACON_FLAG_WANTS_PEERS : 0, 'flags');
  writer.nodeId(beacon.id);
  writer.u16(beacon.port, 'port');
  writer.nodeId(beacon.tag);
}

function readBeacon(reader: ByteReader, length: number): Beacon {
  if (reader.remaining < MAGIC_BYTES.length) {
    throw new DecodeError('truncated', `datagram of ${length} bytes has no magic`);
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
  return {
    id: reader.nodeId('id'),
    port: reader.u16('port'),
    wantsPeers: (flags & BEACON_FLAG_WANTS_PEERS) !== 0,
    tag: reader.nodeId('tag'),
  };
}
