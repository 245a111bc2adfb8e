import { NODE_ID_BYTES, type NodeId } from '../core/types.js';
import { NODE_ID_PATTERN } from './field-limits.js';

/**
 * Slots of the decoded-id cache. A LAN mesh has far fewer active origins and neighbours than this;
 * a full cache (256 ids with their bytes, about 50 KiB for the whole process) costs only misses.
 */
export const NODE_ID_CACHE_SLOTS = 256;

interface Slot {
  readonly bytes: Buffer;
  readonly id: NodeId;
}

/**
 * Ids recently decoded, shared by every decoder in the process. A node id is the hex of 32 bytes;
 * every gossip message carries its origin's, so without the cache each received message made a new
 * 64-character string, which the broadcast layer then keeps for the life of its cache entries.
 * With it, an origin's id is one string however many messages carry it. Direct-mapped on the
 * first byte (ids are public keys, so uniform); a hit is an exact comparison of all 32 bytes, so a
 * crafted collision only costs a miss.
 */
const slots: (Slot | undefined)[] = new Array(NODE_ID_CACHE_SLOTS);

/** The lower-case hex id of the NODE_ID_BYTES at `offset` of `buffer`; the caller checked the length. */
export function decodeNodeId(buffer: Buffer, offset: number): NodeId {
  const end = offset + NODE_ID_BYTES;
  const index = (buffer[offset] as number) % NODE_ID_CACHE_SLOTS;
  const slot = slots[index];
  if (slot !== undefined && sameBytes(slot.bytes, buffer, offset)) return slot.id;
  const id = buffer.toString('hex', offset, end);
  slots[index] = { bytes: Buffer.from(buffer.subarray(offset, end)), id };
  return id;
}

/** Whether `buffer` holds `id` at `offset`. A plain loop: Buffer.compare's argument checks cost more for 32 bytes. */
function sameBytes(id: Buffer, buffer: Buffer, offset: number): boolean {
  for (let i = 0; i < NODE_ID_BYTES; i++) if (id[i] !== buffer[offset + i]) return false;
  return true;
}

/**
 * Writes `id` (lower-case hex) as its NODE_ID_BYTES at `offset` of `buffer`, which has room. The
 * ids sent most (the origins of relayed gossip) are the ones decoded lately, so a hit copies their
 * cached bytes instead of checking the pattern and parsing 64 hex digits. Throws TypeError for a
 * string that is not a node id: Buffer.write would stop silently at the first bad digit.
 */
export function encodeNodeId(id: NodeId, buffer: Buffer, offset: number): void {
  const slot = slots[firstByteOfHex(id) % NODE_ID_CACHE_SLOTS];
  if (slot !== undefined && slot.id === id) {
    buffer.set(slot.bytes, offset);
    return;
  }
  if (!NODE_ID_PATTERN.test(id)) {
    throw new TypeError(
      `node id must be ${NODE_ID_BYTES * 2} lower-case hex digits, got ${JSON.stringify(id)}`,
    );
  }
  buffer.write(id, offset, NODE_ID_BYTES, 'hex');
}

/** The byte value of the first two hex digits; any value for a string that is no id (it then misses). */
function firstByteOfHex(id: string): number {
  return (hexDigit(id.charCodeAt(0)) << 4) | hexDigit(id.charCodeAt(1));
}

function hexDigit(code: number): number {
  // '0'-'9' are 48-57, 'a'-'f' 97-102; anything else maps somewhere harmless in 0-15.
  return (code <= 57 ? code - 48 : code - 87) & 0xf;
}
