import { KeyedHeap } from './keyed-heap.js';

/**
 * A priority queue of simulator events ordered by (time, insertion number). Equal times come out
 * in insertion order, so a run never depends on how ties happen to be broken: the same seed
 * replays the same sequence of events, bit for bit.
 *
 * Two levels, for speed at 100,000 nodes: most queued events are timers seconds ahead, most popped
 * events are messages milliseconds ahead. Events due before `horizon` sit in a binary heap; later
 * ones are appended, unsorted, to a bucket per `bucketWidth` ms of virtual time. When the heap runs
 * empty, the earliest bucket is poured into it. The heap thus stays small (cache-resident) while
 * the order stays exactly that of a single heap, because each event keeps its insertion number.
 */
export class EventQueue<T> {
  private readonly near = new KeyedHeap<T>(NEAR_HEAP_CAPACITY);
  private readonly buckets = new Map<number, Bucket<T>>();
  /** Indices of the non-empty buckets, as a min-heap. */
  private readonly bucketOrder: number[] = [];
  /** Every event due before this is in `near`; every later one is in a bucket. */
  private horizon = 0;
  private count = 0;
  private inserted = 0;

  /**
   * @param bucketWidth virtual ms per bucket: 10 ms holds the messages of a few hops of a flood,
   *   so the heap holds a few thousand events at most while buckets stay few enough to index.
   */
  constructor(private readonly bucketWidth = 10) {}

  get size(): number {
    return this.count;
  }

  push(time: number, item: T): void {
    const order = this.inserted++;
    this.count++;
    if (time < this.horizon) {
      this.near.push(time, order, item);
      return;
    }
    const index = Math.floor(time / this.bucketWidth);
    let bucket = this.buckets.get(index);
    if (bucket === undefined) {
      bucket = { times: [], orders: [], items: [] };
      this.buckets.set(index, bucket);
      pushIndex(this.bucketOrder, index);
    }
    bucket.times.push(time);
    bucket.orders.push(order);
    bucket.items.push(item);
  }

  /** Time of the next event, or undefined when the queue is empty. */
  peekTime(): number | undefined {
    if (this.near.size === 0) this.pourNextBucket();
    return this.near.peekTime();
  }

  /** Removes and returns the earliest event (undefined when empty). Call peekTime() first for its time. */
  pop(): T | undefined {
    if (this.near.size === 0) this.pourNextBucket();
    const item = this.near.pop();
    if (item !== undefined) this.count--;
    return item;
  }

  private pourNextBucket(): void {
    const index = popIndex(this.bucketOrder);
    if (index === undefined) return;
    const bucket = this.buckets.get(index) as Bucket<T>;
    this.buckets.delete(index);
    this.horizon = (index + 1) * this.bucketWidth;
    const { times, orders, items } = bucket;
    for (let i = 0; i < times.length; i++) {
      this.near.push(times[i] as number, orders[i] as number, items[i] as T);
    }
  }
}

interface Bucket<T> {
  readonly times: number[];
  readonly orders: number[];
  readonly items: T[];
}

/** Starting room of the heap: a bucket's worth of events in a mid-sized run; it doubles as needed. */
const NEAR_HEAP_CAPACITY = 4_096;

/** Min-heap of plain numbers (bucket indices; each present once). */
function pushIndex(heap: number[], value: number): void {
  let index = heap.length;
  heap.push(value);
  while (index > 0) {
    const parent = (index - 1) >> 1;
    const parentValue = heap[parent] as number;
    if (parentValue <= value) break;
    heap[index] = parentValue;
    index = parent;
  }
  heap[index] = value;
}

function popIndex(heap: number[]): number | undefined {
  if (heap.length === 0) return undefined;
  const top = heap[0] as number;
  const last = heap.pop() as number;
  const size = heap.length;
  if (size === 0) return top;
  let index = 0;
  for (;;) {
    let child = 2 * index + 1;
    if (child >= size) break;
    const right = child + 1;
    if (right < size && (heap[right] as number) < (heap[child] as number)) child = right;
    if (last <= (heap[child] as number)) break;
    heap[index] = heap[child] as number;
    index = child;
  }
  heap[index] = last;
  return top;
}
