import { NODE_ID_BYTES, type NodeId } from '../core/types.js';
import { DecodeError } from './errors.js';
import { SIGNATURE_BYTES, U32_RANGE, U53_HIGH_RANGE, WIRE_ADDRESS_PATTERN } from './field-limits.js';
import { decodeNodeId } from './node-id-cache.js';

/**
 * Reads fields from untrusted bytes. Every method either returns a value within the field's domain
 * or throws DecodeError; the public entry points turn that into a DecodeResult.
 */
export class ByteReader {
  private offset = 0;
  private readonly buffer: Buffer;

  constructor(bytes: Uint8Array) {
    // A view, not a copy: payloads handed out later may share this memory.
    this.buffer = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  u8(field: string): number {
    this.need(1, field);
    const value = this.buffer.readUInt8(this.offset);
    this.offset += 1;
    return value;
  }

  u16(field: string): number {
    this.need(2, field);
    const value = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  u32(field: string): number {
    this.need(4, field);
    const value = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  /** High then low u32; rejects values that would not be safe integers. */
  u53(field: string): number {
    const high = this.u32(field);
    const low = this.u32(field);
    if (high >= U53_HIGH_RANGE) throw new DecodeError('bad-field', `${field} is not below 2^53`);
    return high * U32_RANGE + low;
  }

  bool(field: string): boolean {
    const value = this.u8(field);
    if (value > 1) throw new DecodeError('bad-field', `${field} must be 0 or 1, got ${value}`);
    return value === 1;
  }

  nodeId(field: string): NodeId {
    this.need(NODE_ID_BYTES, field);
    const id = decodeNodeId(this.buffer, this.offset);
    this.offset += NODE_ID_BYTES;
    return id;
  }

  /** u8 length + ASCII: host:port (WIRE_ADDRESS_PATTERN), anything else is refused. */
  address(field: string): string {
    const length = this.u8(field);
    this.need(length, field);
    const address = this.buffer.toString('latin1', this.offset, this.offset + length);
    this.offset += length;
    if (!WIRE_ADDRESS_PATTERN.test(address)) {
      throw new DecodeError('bad-field', `${field} is not host:port in printable ASCII`);
    }
    return address;
  }

  /**
   * u8 length + bytes: undefined when empty (unsigned), else a view of exactly SIGNATURE_BYTES;
   * any other length is malformed, so a peer cannot smuggle a truncated or padded signature.
   */
  signature(field: string): Uint8Array | undefined {
    const length = this.u8(field);
    if (length === 0) return undefined;
    if (length !== SIGNATURE_BYTES) {
      throw new DecodeError('bad-field', `${field} must be empty or ${SIGNATURE_BYTES} bytes, got ${length}`);
    }
    this.need(length, field);
    const view = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset + this.offset, length);
    this.offset += length;
    return view;
  }

  /** u32 length + bytes, returned as a view into the input (zero copy). */
  payload(field: string): Uint8Array {
    const length = this.u32(field);
    this.need(length, field);
    const view = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset + this.offset, length);
    this.offset += length;
    return view;
  }

  /**
   * A u16 list count, checked against what the remaining bytes can hold so that a forged count
   * cannot make the decoder loop or allocate before it runs out of input.
   */
  count(field: string, minElementBytes: number): number {
    const count = this.u16(field);
    if (count * minElementBytes > this.remaining) {
      throw new DecodeError(
        'truncated',
        `${field} count ${count} needs at least ${count * minElementBytes} bytes, ${this.remaining} left`,
      );
    }
    return count;
  }

  /** The body must end exactly where its last field does. */
  end(what: string): void {
    if (this.remaining !== 0)
      throw new DecodeError('trailing-bytes', `${this.remaining} bytes after ${what}`);
  }

  private need(bytes: number, field: string): void {
    if (bytes > this.remaining) {
      throw new DecodeError('truncated', `${field} needs ${bytes} bytes, ${this.remaining} left`);
    }
  }
}
