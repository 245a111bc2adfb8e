import { NODE_ID_BYTES, type NodeId } from '../core/types.js';

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
