import { DELIVERY_FIELDS } from './ipc.js';
import type { DeliverySink } from './node-host.js';

/**
 * Collects a worker's deliveries and sends them once per event-loop turn: one IPC message per
 * delivery would cost more CPU than the protocols under test. Each delivery keeps the time it
 * happened, so batching delays only the coordinator's bookkeeping, never a measured latency.
 */
export class DeliveryBatcher {
  private buffer: number[] = [];
  private scheduled = false;

  constructor(private readonly send: (data: Float64Array) => void) {}

  readonly sink: DeliverySink = (node, phase, index, publishedAt, deliveredAt) => {
    this.buffer.push(node, phase, index, publishedAt, deliveredAt);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  };

  flush(): void {
    this.scheduled = false;
    if (this.buffer.length === 0) return;
    const data = Float64Array.from(this.buffer);
    this.buffer = [];
    this.send(data);
  }
}

/** Replays a batch into the coordinator's sink. */
export function replay(data: Float64Array, sink: DeliverySink): void {
  for (let i = 0; i + DELIVERY_FIELDS <= data.length; i += DELIVERY_FIELDS) {
    sink(
      data[i] as number,
      data[i + 1] as Parameters<DeliverySink>[1],
      data[i + 2] as number,
      data[i + 3] as number,
      data[i + 4] as number,
    );
  }
}
