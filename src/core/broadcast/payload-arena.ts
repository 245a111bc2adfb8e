/**
 * Largest slab the arena allocates (an entry larger than it gets a slab of its own size). A few
 * large allocations instead of one per message: 10,000 cached 1 KiB messages are a few dozen
 * slabs, not 10,000 array buffers with their heap objects, backing-store records and malloc headers, most of
 * which would otherwise survive scavenges and be promoted.
 */
export const PAYLOAD_SLAB_MAX_BYTES = 1024 * 1024;
/** Smallest slab: a node that caches little holds little. */
export const PAYLOAD_SLAB_MIN_BYTES = 16 * 1024;
/**
 * A new slab is this fraction of what the cache holds (within the bounds above): the unused end
 * of the newest slab wastes at most that fraction, and a large cache still takes few slabs.
 */
export const PAYLOAD_SLAB_GROWTH_FRACTION = 0.25;

/**
 * Append-only storage for cached payloads: bytes are copied into the current slab and never
 * overwritten, so a view handed out (to a relay still queued on a socket, say) stays valid as long
 * as it is held, and a slab is freed by the garbage collector once neither the cache nor any view
 * refers to it. New slabs grow with what the cache holds (PAYLOAD_SLAB_GROWTH_FRACTION).
 */
export class PayloadArena {
  private current: Uint8Array | undefined;
  private used = 0;
  /** The slab the last `append` wrote into (read after each call; avoids a result object per call). */
  slab: Uint8Array = new Uint8Array(0);

  /**
   * Copies `head` (if any) and then `tail` next to each other and returns their offset in `slab`.
   * `heldBytes` (what the cache holds now) and `maxBytes` (its budget) size a new slab.
   */
  append(head: Uint8Array | undefined, tail: Uint8Array, heldBytes: number, maxBytes: number): number {
    const length = (head?.byteLength ?? 0) + tail.byteLength;
    let slab = this.current;
    if (slab === undefined || slab.byteLength - this.used < length) {
      const wanted = Math.min(
        PAYLOAD_SLAB_MAX_BYTES,
        maxBytes,
        Math.max(PAYLOAD_SLAB_MIN_BYTES, Math.floor(heldBytes * PAYLOAD_SLAB_GROWTH_FRACTION)),
      );
      slab = new Uint8Array(Math.max(length, wanted));
      this.current = slab;
      this.used = 0;
    }
    const offset = this.used;
    if (head !== undefined) slab.set(head, offset);
    slab.set(tail, offset + (head?.byteLength ?? 0));
    this.used += length;
    this.slab = slab;
    return offset;
  }

  /** Starts a new slab at the next append, so that the old ones are freed with their last entries. */
  retire(): void {
    this.current = undefined;
    this.used = 0;
  }
}
