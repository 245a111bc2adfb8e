import { NODE_ID_BYTES, type NodeId } from '../core/types.js';
import {
  MAX_ADDRESS_BYTES,
  SIGNATURE_BYTES,
  U8_MAX,
  U16_MAX,
  U32_MAX,
  U32_RANGE,
  WIRE_ADDRESS_PATTERN,
} from './field-limits.js';
import { encodeNodeId } from './node-id-cache.js';

/**
 * Writes fields into a buffer whose exact size the caller computed beforehand (one allocation per
 * frame). Out-of-range values are programming errors in this process, not bad input, so they throw.
 */
export class ByteWriter {
  private offset = 0;

  constructor(readonly buffer: Buffer) {}

  u8(value: number, field: string): void {
    checkUint(value, U8_MAX, field);
    this.offset = this.buffer.writeUInt8(value, this.offset);
  }

  u16(value: number, field: string): void {
    checkUint(value, U16_MAX, field);
    this.offset = this.buffer.writeUInt16BE(value, this.offset);
  }

  u32(value: number, field: string): void {
    checkUint(value, U32_MAX, field);
    this.offset = this.buffer.writeUInt32BE(value, this.offset);
  }

  /** A non-negative safe integer as high then low u32, big-endian overall. */
  u53(value: number, field: string): void {
    checkUint(value, Number.MAX_SAFE_INTEGER, field);
    this.offset = this.buffer.writeUInt32BE(Math.floor(value / U32_RANGE), this.offset);
    this.offset = this.buffer.writeUInt32BE(value % U32_RANGE, this.offset);
  }

  bool(value: boolean): void {
    this.offset = this.buffer.writeUInt8(value ? 1 : 0, this.offset);
  }

  nodeId(id: NodeId): void {
    encodeNodeId(id, this.buffer, this.offset);
    this.offset += NODE_ID_BYTES;
  }

  /** u8 length + ASCII. */
  address(address: string): void {
    const byteLength = addressWireBytes(address) - 1;
    this.offset = this.buffer.writeUInt8(byteLength, this.offset);
    this.offset += this.buffer.write(address, this.offset, byteLength, 'latin1');
  }

  /** u32 length + raw bytes. */
  payload(bytes: Uint8Array): void {
    this.u32(bytes.length, 'payload length');
    this.buffer.set(bytes, this.offset);
    this.offset += bytes.length;
  }

  /** u8 length + raw bytes: a gossip signature, empty when unsigned. */
  signature(bytes: Uint8Array | undefined): void {
    const length = bytes?.length ?? 0;
    if (length !== 0 && length !== SIGNATURE_BYTES) {
      throw new RangeError(`signature must be empty or ${SIGNATURE_BYTES} bytes, got ${length}`);
    }
    this.offset = this.buffer.writeUInt8(length, this.offset);
    if (bytes !== undefined) this.buffer.set(bytes, this.offset);
    this.offset += length;
  }

  /** Guards the size computation: a mismatch is a codec bug, never silently sent. */
  finish(): Buffer {
    if (this.offset !== this.buffer.length) {
      throw new Error(`codec bug: wrote ${this.offset} bytes into a ${this.buffer.length}-byte frame`);
    }
    return this.buffer;
  }
}

function checkUint(value: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${field} must be an integer in [0, ${max}], got ${value}`);
  }
}

/**
 * Bytes an address takes on the wire, length byte included. Throws if it is not host:port in
 * printable ASCII (WIRE_ADDRESS_PATTERN) or cannot fit a u8 length.
 */
export function addressWireBytes(address: string): number {
  if (!WIRE_ADDRESS_PATTERN.test(address)) {
    throw new RangeError(`address must be host:port in printable ASCII, got ${JSON.stringify(address)}`);
  }
  if (address.length > MAX_ADDRESS_BYTES) {
    throw new RangeError(`address must be at most ${MAX_ADDRESS_BYTES} bytes, got ${address.length}`);
  }
  return 1 + address.length;
}
