/**
 * Reusable memory for bytes that are used up before the next use: a frame that is sealed at once,
 * a sealed record that the socket hands to the kernel during write(). Without it every frame sent
 * allocated two buffers that lived until the next scavenge, which at a few thousand frames a second
 * is megabytes of garbage between collections.
 *
 * A view from take() is valid until the next take(). A caller that lets a view escape (a socket
 * that queues it rather than writing it at once) calls surrender(), and the next take() uses new
 * memory. The buffer grows to the largest length asked for, in steps of SCRATCH_GROWTH_BYTES, up
 * to `maxBytes`; longer requests get a buffer of their own, so a rare large frame pins nothing.
 */
export class ScratchBuffer {
  private memory: Buffer | undefined;
  /** The last view take() gave of `memory`: the next take() of the same length hands it out again. */
  private view: Buffer | undefined;
  private taken = 0;

  constructor(private readonly maxBytes: number) {}

  /**
   * Counts take() calls: a view taken at generation g still holds its bytes while generation is g
   * (and surrender() was not needed for it).
   */
  get generation(): number {
    return this.taken;
  }

  /** `length` bytes, contents undefined: scratch memory if it fits, else a buffer of their own. */
  take(length: number): Buffer {
    this.taken++;
    if (length > this.maxBytes) return Buffer.allocUnsafe(length);
    if (this.memory === undefined || this.memory.length < length) {
      const size = Math.min(this.maxBytes, Math.ceil(length / SCRATCH_GROWTH_BYTES) * SCRATCH_GROWTH_BYTES);
      this.memory = Buffer.allocUnsafeSlow(size);
      this.view = undefined;
    }
    // Frames are mostly of a few lengths: a new view per frame was ~1.5% of what a node allocated
    // per broadcast (a 10-node benchmark).
    if (this.view === undefined || this.view.length !== length) this.view = this.memory.subarray(0, length);
    return this.view;
  }

  /** Whether `view` lies in the scratch memory (and so must be copied or surrendered to be kept). */
  holds(view: Uint8Array): boolean {
    return this.memory !== undefined && view.buffer === this.memory.buffer;
  }

  /** The last view taken is kept by someone else: stop reusing its memory. */
  surrender(): void {
    this.memory = undefined;
  }
}

/** Growth step of a ScratchBuffer: a 1 KiB payload's frame and its sealed record fit in the first. */
export const SCRATCH_GROWTH_BYTES = 2 * 1024;
