import type { DeliverySink } from '../cluster/node-host.js';
import type { MessagePhase } from './payload.js';

/**
 * Every delivery of one message family: who got which message when. Waiters are woken by the
 * delivery that completes a message, never by polling.
 */
export class PhaseLog {
  readonly publishedAt: Float64Array;
  /** Distinct nodes that delivered each message (among the counted ones). */
  readonly count: Uint32Array;
  readonly firstAt: Float64Array;
  readonly lastAt: Float64Array;
  /** seen[message * n + node]: node delivered message. */
  readonly seen: Uint8Array;
  /** A node handed the same message to the application twice (exactly-once broken). */
  appDuplicates = 0;
  deliveries = 0;
  /** Messages delivered to `need` nodes. */
  complete = 0;
  lastDeliveryAt = Number.NEGATIVE_INFINITY;
  private readonly waiters = new Map<number, () => void>();
  /** Called on every delivery: one per waitAll() still waiting. */
  private readonly onAny = new Set<() => void>();

  constructor(
    readonly messages: number,
    readonly n: number,
    /** Deliveries that make a message complete. */
    readonly need: number,
    /** Only these nodes' deliveries count (the survivors of a churn); undefined = all. */
    private readonly counted?: ReadonlySet<number>,
  ) {
    this.publishedAt = new Float64Array(messages).fill(Number.NaN);
    this.count = new Uint32Array(messages);
    this.firstAt = new Float64Array(messages).fill(Number.POSITIVE_INFINITY);
    this.lastAt = new Float64Array(messages).fill(Number.NEGATIVE_INFINITY);
    this.seen = new Uint8Array(messages * n);
  }

  record(node: number, index: number, publishedAt: number, at: number): void {
    if (index >= this.messages || node >= this.n) return;
    if (this.counted && !this.counted.has(node)) return;
    const cell = index * this.n + node;
    if (this.seen[cell] === 1) {
      this.appDuplicates++;
      return;
    }
    this.seen[cell] = 1;
    if (Number.isNaN(this.publishedAt[index] as number)) this.publishedAt[index] = publishedAt;
    this.deliveries++;
    // The latest, not the last to come in: other processes' batches arrive in any order.
    if (at > this.lastDeliveryAt) this.lastDeliveryAt = at;
    const count = (this.count[index] as number) + 1;
    this.count[index] = count;
    if (at < (this.firstAt[index] as number)) this.firstAt[index] = at;
    if (at > (this.lastAt[index] as number)) this.lastAt[index] = at;
    if (count === this.need) {
      this.complete++;
      this.waiters.get(index)?.();
    }
    for (const listener of this.onAny) listener();
  }

  isComplete(index: number): boolean {
    return (this.count[index] as number) >= this.need;
  }

  /** Resolves true once `index` is complete, false after `timeoutMs`. */
  waitFor(index: number, timeoutMs: number): Promise<boolean> {
    if (this.isComplete(index)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(index);
        resolve(false);
      }, timeoutMs);
      this.waiters.set(index, () => {
        clearTimeout(timer);
        this.waiters.delete(index);
        resolve(true);
      });
    });
  }

  /**
   * Resolves once every message is complete, or once no delivery has happened for `idleMs` (what
   * is missing then is lost), or at `deadlineMs` at the latest.
   */
  waitAll(idleMs: number, deadlineMs: number): Promise<void> {
    if (this.complete >= this.messages) return Promise.resolve();
    const startedAt = performance.now();
    let lastActivity = startedAt;
    return new Promise((resolve) => {
      const finish = (): void => {
        clearInterval(idleCheck);
        this.onAny.delete(onDelivery);
        resolve();
      };
      const onDelivery = (): void => {
        lastActivity = performance.now();
        if (this.complete >= this.messages) finish();
      };
      this.onAny.add(onDelivery);
      // A timeout check, not a synchronisation: completion itself is signalled by onAny.
      const idleCheck = setInterval(
        () => {
          const t = performance.now();
          if (t - lastActivity >= idleMs || t - startedAt >= deadlineMs) finish();
        },
        Math.max(10, idleMs / 10),
      );
    });
  }

  /** Nodes in `among` that delivered `index`. */
  deliveredAmong(index: number, among: Iterable<number>): number {
    let hits = 0;
    for (const node of among) if (this.seen[index * this.n + node] === 1) hits++;
    return hits;
  }
}

/** Routes each delivery to the log of its message family. */
export class DeliveryTracker {
  private readonly logs = new Map<MessagePhase, PhaseLog>();

  constructor(readonly n: number) {}

  open(phase: MessagePhase, messages: number, need: number, counted?: ReadonlySet<number>): PhaseLog {
    const log = new PhaseLog(messages, this.n, need, counted);
    this.logs.set(phase, log);
    return log;
  }

  readonly sink: DeliverySink = (node, phase, index, publishedAt, deliveredAt) => {
    this.logs.get(phase)?.record(node, index, publishedAt, deliveredAt);
  };
}
