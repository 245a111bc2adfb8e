/**
 * A binary min-heap keyed by (time, order), over parallel typed arrays that only ever grow: no
 * wrapper object per entry, and no garbage as it fills and empties over and over (the simulator's
 * events, the test network's timers). Equal times come out in order of `order`, which callers
 * number.
 */
export class KeyedHeap<T> {
  private times: Float64Array;
  private orders: Float64Array;
  private readonly items: (T | undefined)[] = [];
  private count = 0;

  /** `capacity`: entries it holds before it first grows (it doubles each time). */
  constructor(capacity: number) {
    this.times = new Float64Array(Math.max(1, capacity));
    this.orders = new Float64Array(Math.max(1, capacity));
  }

  get size(): number {
    return this.count;
  }

  /** Empties the heap, keeping its room. */
  clear(): void {
    this.items.length = 0;
    this.count = 0;
  }

  peekTime(): number | undefined {
    return this.count === 0 ? undefined : this.times[0];
  }

  /** The order of the entry pop returns next, or undefined when the heap is empty. */
  peekOrder(): number | undefined {
    return this.count === 0 ? undefined : this.orders[0];
  }

  push(time: number, order: number, item: T): void {
    if (this.count === this.times.length) this.grow();
    const { times, orders, items } = this;
    let index = this.count++;
    // Sift up: move parents down until the new entry's slot is found, then write it once.
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentTime = times[parent] as number;
      if (parentTime < time || (parentTime === time && (orders[parent] as number) < order)) break;
      times[index] = parentTime;
      orders[index] = orders[parent] as number;
      items[index] = items[parent];
      index = parent;
    }
    times[index] = time;
    orders[index] = order;
    items[index] = item;
  }

  pop(): T | undefined {
    const { times, orders, items } = this;
    const count = this.count;
    if (count === 0) return undefined;
    const top = items[0] as T;
    const size = count - 1;
    this.count = size;
    const lastTime = times[size] as number;
    const lastOrder = orders[size] as number;
    const lastItem = items[size];
    // No reference left behind in a free slot: the item may be anything.
    items[size] = undefined;
    if (size === 0) return top;
    // Sift the former last entry down from the root.
    let index = 0;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= size) break;
      let childTime = times[child] as number;
      let childOrder = orders[child] as number;
      const right = child + 1;
      if (right < size) {
        const rightTime = times[right] as number;
        const rightOrder = orders[right] as number;
        if (rightTime < childTime || (rightTime === childTime && rightOrder < childOrder)) {
          child = right;
          childTime = rightTime;
          childOrder = rightOrder;
        }
      }
      if (lastTime < childTime || (lastTime === childTime && lastOrder < childOrder)) break;
      times[index] = childTime;
      orders[index] = childOrder;
      items[index] = items[child];
      index = child;
    }
    times[index] = lastTime;
    orders[index] = lastOrder;
    items[index] = lastItem;
    return top;
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    this.times = times;
    const orders = new Float64Array(this.orders.length * 2);
    orders.set(this.orders);
    this.orders = orders;
  }
}
