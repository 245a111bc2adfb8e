/**
 * Sequence numbers of the broadcasts this node originates, shared by every strategy. Each is the
 * next in line, or the caller's `minSeq` if that is larger: a runtime that checks freshness passes
 * wall-clock microseconds, so that seq doubles as a send timestamp however long the node has run.
 * Anything but a safe integer as `minSeq` is ignored.
 */
export class SequenceCounter {
  private next: number;

  constructor(initialSeq: number) {
    this.next = initialSeq;
  }

  /** The number for a new broadcast. */
  take(minSeq: number | undefined): number {
    const seq =
      minSeq === undefined || !Number.isSafeInteger(minSeq) ? this.next : Math.max(this.next, minSeq);
    this.next = seq + 1;
    return seq;
  }

  /** The number of the latest broadcast (initialSeq - 1 before the first). */
  get last(): number {
    return this.next - 1;
  }
}
