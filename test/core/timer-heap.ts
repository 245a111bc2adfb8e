/** A binary min-heap of entries ordered by (at, insertion order), for the test network's clock. */
export class TimerHeap<T> {
  private readonly entries: { at: number; order: number; value: T }[] = [];
  private nextOrder = 0;

  get size(): number {
    return this.entries.length;
  }

  push(at: number, value: T): void {
    const entries = this.entries;
    entries.push({ at, order: this.nextOrder++, value });
    let i = entries.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  peekTime(): number | undefined {
    return this.entries[0]?.at;
  }

  pop(): { at: number; value: T } | undefined {
    const entries = this.entries;
    const top = entries[0];
    if (top === undefined) return undefined;
    const last = entries.pop() as (typeof entries)[number];
    if (entries.length > 0) {
      entries[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < entries.length && this.less(left, smallest)) smallest = left;
        if (right < entries.length && this.less(right, smallest)) smallest = right;
        if (smallest === i) break;
        this.swap(i, smallest);
        i = smallest;
      }
    }
    return { at: top.at, value: top.value };
  }

  private less(a: number, b: number): boolean {
    const x = this.entries[a] as (typeof this.entries)[number];
    const y = this.entries[b] as (typeof this.entries)[number];
    return x.at < y.at || (x.at === y.at && x.order < y.order);
  }

  private swap(a: number, b: number): void {
    const entries = this.entries;
    const tmp = entries[a] as (typeof entries)[number];
    entries[a] = entries[b] as (typeof entries)[number];
    entries[b] = tmp;
  }
}
