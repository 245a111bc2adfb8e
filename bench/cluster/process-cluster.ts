import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { addCounters, emptyCounters, type TrafficCounters } from '../contenders/contender.js';
import type { MessagePhase } from '../scenario/payload.js';
import { settleWithin } from './deadline.js';
import { replay } from './delivery-batcher.js';
import { type HostOp, isWorkerMessage, type WorkerInit, type WorkerRequest } from './ipc.js';
import type { DeliverySink, NodeHost, NodeSnapshot, ProcessUsage } from './node-host.js';

const WORKER_PATH = fileURLToPath(new URL('../worker.js', import.meta.url));

/** How long a worker may take to load its contender's code and say it is ready. */
const WORKER_READY_TIMEOUT_MS = 30_000;

/**
 * How long a closed worker may take to exit by itself before it is killed: long enough to write a
 * CPU profile of a few MB on the way out (--cpu-prof), short enough not to hold up a run.
 */
const WORKER_EXIT_TIMEOUT_MS = 5_000;

type Result<K extends HostOp> = Awaited<ReturnType<NodeHost[K]>>;

/** One worker process and its pending requests. */
class Worker {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<void>;
  /** Settles once the process has exited, by itself or killed. */
  readonly exit: Promise<void>;
  private exited = false;

  constructor(
    private readonly child: ChildProcess,
    readonly indexes: readonly number[],
    sink: DeliverySink,
  ) {
    let markReady: () => void = () => {};
    let failReady: (error: Error) => void = () => {};
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    this.exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const readyDeadline = setTimeout(
      () => failReady(new Error('worker not ready in time')),
      WORKER_READY_TIMEOUT_MS,
    );
    child.on('message', (message: unknown) => {
      if (!isWorkerMessage(message)) return;
      if (message.type === 'ready') {
        clearTimeout(readyDeadline);
        markReady();
      } else if (message.type === 'deliveries') {
        replay(message.data, sink);
      } else {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.ok) waiter?.resolve(message.value);
        else waiter?.reject(new Error(message.error));
      }
    });
    const gone = (error: Error): void => {
      this.exited = true;
      clearTimeout(readyDeadline);
      failReady(error);
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    };
    child.on('exit', (code, signal) => gone(new Error(`worker exited (code ${code}, signal ${signal})`)));
    // A request written to a worker that died meanwhile (EPIPE): the run fails with what it has
    // measured so far, instead of an uncaught error that loses it all. Found by a review.
    child.on('error', (error) => gone(error));
  }

  call<K extends HostOp>(op: K, ...args: Parameters<NodeHost[K]>): Promise<Result<K>> {
    if (this.exited || !this.child.connected) return Promise.reject(new Error('worker has exited'));
    const id = this.nextId++;
    const request: WorkerRequest = { type: 'request', id, op, args };
    return new Promise<Result<K>>((resolve, reject) => {
      this.pending.set(id, { resolve: (v) => resolve(v as Result<K>), reject });
      this.child.send(request, (error) => {
        if (error === null || error === undefined) return;
        this.pending.delete(id);
        reject(error);
      });
    });
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

/**
 * The nodes of a run spread over `procs` worker processes, node i in worker i % procs (scenario
 * `--procs`). Deliveries stream back in batches; everything else is a request to the owner.
 */
export class ProcessCluster implements NodeHost {
  private readonly workers: Worker[] = [];

  constructor(contender: string, n: number, procs: number, rssSampleMs: number, sink: DeliverySink) {
    for (let w = 0; w < procs; w++) {
      const indexes = Array.from({ length: n }, (_, i) => i).filter((i) => i % procs === w);
      const child = fork(WORKER_PATH, [], {
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const init: WorkerInit = { type: 'init', contender, indexes, rssSampleMs };
      child.send(init);
      this.workers.push(new Worker(child, indexes, sink));
    }
  }

  async start(): Promise<Record<number, string>> {
    await Promise.all(this.workers.map((w) => w.ready));
    const parts = await Promise.all(this.workers.map((w) => w.call('start')));
    return Object.assign({}, ...parts);
  }

  async join(contacts: Record<number, string[]>, timeoutMs: number): Promise<Record<number, number | null>> {
    const parts = await Promise.all(
      this.workers.map((w) => w.call('join', pick(contacts, w.indexes), timeoutMs)),
    );
    return Object.assign({}, ...parts);
  }

  async snapshot(): Promise<NodeSnapshot[]> {
    return (await Promise.all(this.workers.map((w) => w.call('snapshot')))).flat();
  }

  publish(node: number, phase: MessagePhase, index: number, bytes: number): Promise<number> {
    return this.owner(node).call('publish', node, phase, index, bytes);
  }

  burst(
    node: number,
    phase: MessagePhase,
    count: number,
    bytes: number,
  ): Promise<{ first: number; last: number }> {
    return this.owner(node).call('burst', node, phase, count, bytes);
  }

  async counters(): Promise<TrafficCounters> {
    const parts = await Promise.all(this.workers.map((w) => w.call('counters')));
    return parts.reduce(addCounters, emptyCounters());
  }

  async usage(): Promise<ProcessUsage> {
    const parts = await Promise.all(this.workers.map((w) => w.call('usage')));
    return parts.reduce((sum, u) => ({
      cpuMicros: sum.cpuMicros + u.cpuMicros,
      rss: sum.rss + u.rss,
      peakRss: sum.peakRss + u.peakRss,
      maxRss: sum.maxRss + u.maxRss,
      baselineRss: sum.baselineRss + u.baselineRss,
      processes: sum.processes + u.processes,
    }));
  }

  async kill(nodes: readonly number[]): Promise<void> {
    await Promise.all(
      this.workers.map((w) =>
        w.call(
          'kill',
          nodes.filter((i) => w.indexes.includes(i)),
        ),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.call('close').catch(() => undefined)));
    // A worker exits by itself once it has replied, writing its CPU profile on the way out if it
    // was asked for one; killed at once, it never would.
    await settleWithin(Promise.all(this.workers.map((w) => w.exit)), WORKER_EXIT_TIMEOUT_MS);
    for (const worker of this.workers) worker.kill();
  }

  /** Ends every worker at once, for a run that failed or timed out. */
  abort(): void {
    for (const worker of this.workers) worker.kill();
  }

  private owner(node: number): Worker {
    const worker = this.workers[node % this.workers.length];
    if (!worker) throw new Error(`no worker for node ${node}`);
    return worker;
  }
}

function pick(contacts: Record<number, string[]>, indexes: readonly number[]): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  for (const index of indexes) out[index] = contacts[index] ?? [];
  return out;
}
