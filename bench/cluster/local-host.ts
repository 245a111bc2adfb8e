import { setImmediate as yieldToLoop } from 'node:timers/promises';
import {
  addCounters,
  type Contender,
  type ContenderNode,
  emptyCounters,
  type TrafficCounters,
} from '../contenders/contender.js';
import { type MessagePhase, makePayload, now, readHeader } from '../scenario/payload.js';
import { settleWithin } from './deadline.js';
import type { DeliverySink, NodeHost, NodeSnapshot, ProcessUsage } from './node-host.js';

/** The nodes with the given global indexes, in this process. */
export class LocalHost implements NodeHost {
  private readonly nodes = new Map<number, ContenderNode>();
  private readonly dead = new Set<number>();
  private readonly baselineRss = process.memoryUsage.rss();
  private peakRss = this.baselineRss;
  private readonly sampler: NodeJS.Timeout;

  /** Loads the contender's code first, so that the baseline RSS includes it. */
  static async create(
    contender: Contender,
    indexes: readonly number[],
    sink: DeliverySink,
    rssSampleMs: number,
  ): Promise<LocalHost> {
    await contender.prepare();
    return new LocalHost(contender, indexes, sink, rssSampleMs);
  }

  private constructor(
    private readonly contender: Contender,
    private readonly indexes: readonly number[],
    private readonly sink: DeliverySink,
    rssSampleMs: number,
  ) {
    this.sampler = setInterval(() => this.sampleRss(), rssSampleMs);
    this.sampler.unref();
  }

  async start(): Promise<Record<number, string>> {
    const addresses: Record<number, string> = {};
    for (const index of this.indexes) {
      const node = await this.contender.createNode((payload) => this.delivered(index, payload));
      this.nodes.set(index, node);
      addresses[index] = node.address;
    }
    return addresses;
  }

  async join(contacts: Record<number, string[]>, timeoutMs: number): Promise<Record<number, number | null>> {
    const finished: Record<number, number | null> = {};
    const joins: Promise<void>[] = [];
    for (const index of this.indexes) {
      finished[index] = null;
      const node = this.node(index);
      joins.push(
        node.join(contacts[index] ?? []).then(
          () => {
            finished[index] = now();
          },
          () => undefined, // a failed dial leaves null: the node never finished dialling
        ),
      );
    }
    await settleWithin(Promise.all(joins), timeoutMs);
    return finished;
  }

  async snapshot(): Promise<NodeSnapshot[]> {
    const out: NodeSnapshot[] = [];
    for (const [index, node] of this.nodes) {
      if (this.dead.has(index)) continue;
      out.push({
        index,
        key: node.key,
        mesh: node.meshSize(),
        connected: node.connectedCount(),
        neighbours: node.neighbourKeys(),
      });
    }
    return out;
  }

  async publish(index: number, phase: MessagePhase, message: number, bytes: number): Promise<number> {
    const payload = makePayload(phase, message, bytes);
    const publishedAt = readHeader(payload)?.publishedAt ?? now();
    await this.node(index).publish(payload);
    return publishedAt;
  }

  async burst(
    index: number,
    phase: MessagePhase,
    count: number,
    bytes: number,
  ): Promise<{ first: number; last: number }> {
    const node = this.node(index);
    let first = Number.NaN;
    let last = Number.NaN;
    for (let message = 0; message < count; message++) {
      const payload = makePayload(phase, message, bytes);
      last = readHeader(payload)?.publishedAt ?? now();
      if (message === 0) first = last;
      await node.publish(payload);
      await node.writable();
      await yieldToLoop();
    }
    return { first, last };
  }

  async counters(): Promise<TrafficCounters> {
    const total = emptyCounters();
    for (const node of this.nodes.values()) addCounters(total, node.counters());
    return total;
  }

  async usage(): Promise<ProcessUsage> {
    this.sampleRss();
    const cpu = process.cpuUsage();
    return {
      cpuMicros: cpu.user + cpu.system,
      rss: process.memoryUsage.rss(),
      peakRss: this.peakRss,
      maxRss: process.resourceUsage().maxRSS * 1024,
      baselineRss: this.baselineRss,
      processes: 1,
    };
  }

  async kill(indexes: readonly number[]): Promise<void> {
    for (const index of indexes) {
      if (!this.nodes.has(index) || this.dead.has(index)) continue;
      this.dead.add(index);
      this.node(index).kill();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sampler);
    await Promise.all(
      [...this.nodes]
        .filter(([index]) => !this.dead.has(index))
        .map(([, node]) => node.stop().catch(() => {})),
    );
  }

  private delivered(index: number, payload: Uint8Array): void {
    const at = now();
    if (this.dead.has(index)) return; // a crashed node's late events are not deliveries
    const header = readHeader(payload);
    if (header) this.sink(index, header.phase, header.index, header.publishedAt, at);
  }

  private node(index: number): ContenderNode {
    const node = this.nodes.get(index);
    if (!node) throw new Error(`node ${index} is not hosted here`);
    return node;
  }

  private sampleRss(): void {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
  }
}
