import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { hostIdleCores, type IdleCoresProbe } from './idle-cores.js';
import { lowerPriorityOfNewThread, threadIds } from './thread-priority.js';
import {
  VERIFY_BATCH_MAX_BYTES,
  VERIFY_RECORD_HEADER_BYTES,
  VERIFY_WORKER_SOURCE,
} from './verify-worker-source.js';

/**
 * Called with libsodium's verdict on one signature, or with undefined when the caller had better
 * check it itself: the pool handed a quiet turn's checks back (see INLINE_TURN_MAX_CHECKS), or the
 * worker could not give a verdict (it failed, or libsodium did not answer).
 */
export type VerifyCallback = (valid: boolean | undefined) => void;

/**
 * Ed25519 verification is most of a signed node's work per message (about 100 µs of a 1 KiB
 * message's ~250 µs on the development machine of November 2026, see docs/benchmarks-history.md),
 * and the event loop can use only one core. The spare cores check signatures; one is left for the
 * event loop itself, and two checkers already outpace one event loop feeding them.
 */
export const DEFAULT_VERIFY_THREADS = Math.min(2, Math.max(0, availableParallelism() - 1));

/**
 * Checks waiting for a worker beyond which the caller checks inline instead, so that the event
 * loop and the workers share the load once the workers fall behind. Small, because a wait here
 * delays the message at every hop: 128 checks of ~50 µs, and as many in flight, are ~13 ms, far
 * below Plumtree's graft timer (250 ms); a queue of a thousand made slow hops look like lost
 * messages, and the Grafts they drew sent duplicate copies (throughput RMR 0.2-0.6 at N = 10).
 * Since a full queue goes to a worker that has finished (collectFinished), this is also the size
 * of a busy turn's batches: 128 rather than 64 gave at N = 100 127.0 against 99.5 messages a
 * second (higher in 4 of 5 alternating pairs) and 104.8 against 94.6 (2 of 4 higher, 2 level),
 * RMR 0 and no Graft in either; at N = 10, 1,066 against 1,073 (eight pairs), p99 the same.
 */
export const VERIFY_QUEUE_LIMIT = 128;

/**
 * Checks per second, by all the nodes of the process, from which the workers start. Only the
 * checks of busy turns count: turns of the event loop with more than INLINE_TURN_MAX_CHECKS, whose
 * checks a worker would take (a quieter turn's are checked inline all the same). A worker thread
 * costs about 11 MB of memory, which a node seeing a few messages a second should not pay; its
 * start costs ~100 ms of a core besides, and slows the traffic it lands in. A steady hundred a
 * second in busy turns says the traffic is more than occasional.
 *
 * Counting every check started the worker in the benchmark's latency phase (one message at a time
 * through ten nodes of a process: turns of 1 to 6 checks), among its slowest messages, where it
 * then took hardly any check; now it starts with the throughput phase (turns of 7 and 11).
 * Alternating runs, N = 10, `--phases latency,throughput`, means of eight seeds, twice: node 0's
 * last-delivery p99 7.81 and 8.45 ms before, 5.16 and 5.76 ms after (lower in all 16 pairs), and
 * with the start in it, the 0.7 s throughput phase of 1,000 messages lost 16% and 12% of its
 * messages a second; with 5,000 messages, 4% (four seeds; p99 6.57 and 4.79 ms).
 */
export const VERIFY_THREADS_START_RATE = 100;

/** The window over which the check rate is counted. */
const START_RATE_WINDOW_MS = 1_000;

/**
 * Idle cores, on average since the window's first check (or the last refusal), below which the
 * workers do not start: a worker needs a free core, and without one it only adds a thread for the
 * busy cores to share. Measured with ten meshcast processes on two cores (the benchmark's one
 * process per node, where the host has no idle core): see docs/benchmarks-history.md. A node alone
 * on its host keeps one core busy at most and leaves the others idle.
 */
export const VERIFY_THREADS_MIN_IDLE_CORES = 0.5;

/** The shortest time over which idle cores are measured: a few of the kernel's 10 ms ticks. */
const IDLE_SAMPLE_MIN_MS = 100;

/**
 * A turn of the event loop that staged at most this many checks while every worker is idle gets
 * them back to do inline. The event loop would otherwise only wait for the answer, and a handoff
 * is two thread wake-ups, on a virtual machine the waking of an idle vCPU, whose cost varies:
 * with every check handed off, last-delivery p99 at N = 10 was 8.5-12.5 ms; with this rule,
 * 3.1-9.0 ms (benchmark latency phase, three alternating runs). A busier turn, or one while a
 * worker is checking, goes to the workers, which is where throughput comes from.
 */
export const INLINE_TURN_MAX_CHECKS = 8;

/**
 * How long a worker may take to answer a batch before the batch goes back to the event loop, to be
 * checked inline, and the worker gets no more until it answers. A batch is at most
 * VERIFY_QUEUE_LIMIT checks, 6 to 10 ms of a core; a worker that has not answered for this long is
 * not getting one (a host busy with other work: at VERIFY_THREAD_NICENESS, beside one busy thread
 * on its core, a batch of 64 took 52 ms), and the messages of the batch wait on it. A check waits
 * at most about twice this (behind a batch in flight that answers just in time, then in its own):
 * under Plumtree's graft timer (250 ms), so that a message a worker holds is not fetched again
 * from another peer. At 25 ms, the benchmark's throughput phase (N = 10, two vCPUs) sent a batch
 * back about once a run.
 */
export const VERIFY_BATCH_DEADLINE_MS = 100;

/** How a pool starts and shares its work; every field defaults to the constant named beside it. */
export interface VerifyPoolTuning {
  /**
   * Checks per second, in turns of more than inlineTurnMax checks, from which the workers start;
   * 0 for at once (VERIFY_THREADS_START_RATE).
   */
  readonly startRate?: number;
  /** Checks a quiet turn hands back to be done inline, 0 for none (INLINE_TURN_MAX_CHECKS). */
  readonly inlineTurnMax?: number;
  /** Milliseconds a worker may take over a batch before it goes back inline (VERIFY_BATCH_DEADLINE_MS). */
  readonly batchDeadlineMs?: number;
  /** The host's idle cores, asked before a start at the start rate (hostIdleCores()). */
  readonly idleCores?: IdleCoresProbe;
  /** Milliseconds, for the start rate's window and the batch deadline (performance.now). */
  readonly clock?: () => number;
}

/**
 * The workers' scheduling niceness (Linux): they are help for the event loop, and where the two
 * compete for a core the event loop should run, since every message waits on it. A worker starts
 * under load (VERIFY_THREADS_START_RATE), and its start, ~100 ms of a core, fell among the
 * benchmark's latency messages. Alternating runs (N = 10 on two vCPUs, `--phases
 * latency,throughput --tput-messages 1000`, means): node 0's last-delivery p99 8.6 ms without,
 * 7.8 ms at this niceness and 7.7 ms at 19 (eight seeds); in ten pairs at 19, 8.2 and 7.0 ms
 * (lower in 8 of them); the throughput the same within its noise. Not 19, the lowest: beside one
 * busy thread on its core such a worker gets ~1.5% of it (CFS weight 15 against 1,024), ~10% at
 * 10 (weight 110). Measured on one core beside one busy process, a batch of 64 checks took 9 ms at
 * niceness 0 and 52 ms at 10; at 19 the worker did not finish loading within 5 s. A batch late
 * past VERIFY_BATCH_DEADLINE_MS goes back to the event loop.
 */
export const VERIFY_THREAD_NICENESS = 10;

/**
 * Longest close() waits for its workers to exit. A worker stops at its next JavaScript instruction
 * once terminated, after at most one libsodium check (64 KiB at the largest: well under a
 * millisecond); closing took 14 to 39 ms when measured. The bound keeps a node's stop() within what
 * it promises (its sockets get CLOSE_DEADLINE_MS, as long) should a thread fail to exit.
 */
export const WORKER_EXIT_DEADLINE_MS = 1_000;

/**
 * Where the shared memory keeps the worker's count of batches finished: a 32-bit word after the
 * records (VERIFY_BATCH_MAX_BYTES) and their verdicts (one byte each, VERIFY_QUEUE_LIMIT at most).
 */
const FINISHED_OFFSET = Math.ceil((VERIFY_BATCH_MAX_BYTES + VERIFY_QUEUE_LIMIT) / 4) * 4;

/** The worker's young generation; V8's default (16 MiB and up) is for programs that allocate. */
const WORKER_YOUNG_GENERATION_MB = 1;

interface Checker {
  readonly worker: Worker;
  /**
   * Memory shared with the worker: a batch's records, one verdict byte per record, and the count
   * of batches it has finished (at FINISHED_OFFSET).
   */
  readonly shared: Buffer;
  /** The worker's count of batches finished, read with Atomics. */
  readonly finished: Int32Array;
  /** Batches handed to it, as a 32-bit count that wraps as `finished` does. */
  sent: number;
  /** Callbacks of the batch it is checking, in record order; undefined while idle. */
  inFlight: VerifyCallback[] | undefined;
  /** When its batch went out (the pool's clock). */
  sentAt: number;
  /**
   * Its batch passed the deadline and went back inline (inFlight is then empty): it takes nothing
   * until it answers, since the shared memory is still its own.
   */
  late: boolean;
  /**
   * It has loaded libsodium. Until then checks stay with the caller: a worker's start takes tens of
   * milliseconds (85 ms in one benchmark run), and checks handed to it at once waited all of that.
   */
  ready: boolean;
}

/**
 * Worker threads that check Ed25519 signatures for every node of this process. Checks submitted
 * within one turn of the event loop go to an idle worker as one batch at the end of the turn
 * (unless they are few, see INLINE_TURN_MAX_CHECKS); while every worker is busy they gather into
 * the next batch, so batches grow with the load. Once that batch is full, a worker that has
 * finished meanwhile gets it at once (collectFinished). Callbacks run on the event loop in
 * submission order per batch.
 */
export class VerifyPool {
  private readonly checkers: Checker[] = [];
  /** Records waiting for an idle worker, copied into its shared memory when one is free. */
  private readonly staging = Buffer.allocUnsafe(VERIFY_BATCH_MAX_BYTES);
  private stagedBytes = 0;
  private staged: VerifyCallback[] = [];
  /** Checks submitted in this turn of the event loop, and whether its end (endTurn) is scheduled. */
  private turnChecks = 0;
  private turnEndScheduled = false;
  private readonly sodiumPath = createRequire(import.meta.url).resolve('sodium-native');
  /**
   * Workers to run once started. A worker that dies is not replaced on its own: only the next node
   * that asks for workers (grow) starts them again, up to its number.
   */
  private wanted = 0;
  private started = false;
  /** Checks asked for in the current window, while the workers have not started. */
  private demand = 0;
  private demandSince = Number.NEGATIVE_INFINITY;
  /** When the idle cores' baseline was taken: as the window opened, then at each refusal. */
  private idleSince = Number.NEGATIVE_INFINITY;
  private readyWaiters: ((ready: boolean) => void)[] = [];

  /**
   * `threads` workers, started once checks come at `startRate` per second (0: at once). Until
   * then submit() refuses every check, which the caller does inline.
   */
  private readonly startRate: number;
  private readonly inlineTurnMax: number;
  private readonly batchDeadlineMs: number;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private readonly idleCores: IdleCoresProbe;
  private readonly clock: () => number;

  constructor(threads: number, tuning: VerifyPoolTuning = {}) {
    this.startRate = tuning.startRate ?? VERIFY_THREADS_START_RATE;
    this.inlineTurnMax = tuning.inlineTurnMax ?? INLINE_TURN_MAX_CHECKS;
    this.batchDeadlineMs = tuning.batchDeadlineMs ?? VERIFY_BATCH_DEADLINE_MS;
    this.idleCores = tuning.idleCores ?? hostIdleCores();
    this.clock = tuning.clock ?? (() => performance.now());
    this.grow(threads);
  }

  /** Workers running. */
  get threads(): number {
    return this.checkers.length;
  }

  /** Resolves once a worker takes checks: true, or false if the pool has none coming. */
  ready(): Promise<boolean> {
    if (this.readyCheckers > 0) return Promise.resolve(true);
    if (this.checkers.length === 0) return Promise.resolve(false);
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Workers that have loaded libsodium and take checks (none past the deadline with a batch). */
  private get readyCheckers(): number {
    // An index loop: read per check submitted, and for-of allocated an iterator each time.
    let ready = 0;
    for (let i = 0; i < this.checkers.length; i++) {
      const checker = this.checkers[i] as Checker;
      if (checker.ready && !checker.late) ready++;
    }
    return ready;
  }

  /** Raises the number of workers to `threads`, starting them now if the pool has started. */
  grow(threads: number): void {
    this.wanted = Math.max(this.wanted, threads);
    if (this.startRate === 0) this.started = true;
    if (this.started) while (this.checkers.length < this.wanted) this.checkers.push(this.spawn());
  }

  /**
   * Queues a check of `signature` by `key` over `message` (copied: the caller may reuse it at once).
   * Returns false, queueing nothing, when no worker is ready or the queue is full (see
   * VERIFY_QUEUE_LIMIT and VERIFY_BATCH_MAX_BYTES).
   */
  submit(signature: Uint8Array, key: Uint8Array, message: Uint8Array, done: VerifyCallback): boolean {
    this.turnChecks++;
    if (!this.turnEndScheduled) {
      this.turnEndScheduled = true;
      setImmediate(this.endTurn);
    }
    if (!this.started && this.wanted > 0 && this.noteDemand() && this.hostHasIdleCore()) {
      this.started = true;
      this.grow(this.wanted);
    }
    if (!this.hasRoomFor(message.length)) this.collectFinished();
    if (this.readyCheckers === 0 || !this.hasRoomFor(message.length)) return false;
    let offset = this.staging.writeUInt32BE(message.length, this.stagedBytes);
    this.staging.set(signature, offset);
    offset += signature.length;
    this.staging.set(key, offset);
    offset += key.length;
    this.staging.set(message, offset);
    this.stagedBytes = offset + message.length;
    this.staged.push(done);
    return true;
  }

  /** Whether the batch being staged takes one more record, of a `length`-byte message. */
  private hasRoomFor(length: number): boolean {
    return (
      this.staged.length < VERIFY_QUEUE_LIMIT &&
      this.stagedBytes + VERIFY_RECORD_HEADER_BYTES + length <= VERIFY_BATCH_MAX_BYTES
    );
  }

  /**
   * Counts a check asked for before the start if its turn is busy (with the turn's earlier ones,
   * when this one makes it busy); true once they come at startRate per second. A quiet check opens
   * a window too, so that the idle cores are measured from there: a burst after quiet traffic
   * then starts the workers without waiting IDLE_SAMPLE_MIN_MS more.
   */
  private noteDemand(): boolean {
    const now = this.clock();
    if (now - this.demandSince >= START_RATE_WINDOW_MS) {
      this.demandSince = now;
      this.demand = 0;
      // The baseline of the idle time that hostHasIdleCore measures.
      this.idleSince = now;
      this.idleCores();
    }
    if (this.turnChecks <= this.inlineTurnMax) return false;
    // The check that makes a turn busy brings the turn's earlier ones: all would go to a worker.
    this.demand += this.turnChecks === this.inlineTurnMax + 1 ? this.turnChecks : 1;
    return this.demand >= this.startRate;
  }

  /**
   * Whether the host kept VERIFY_THREADS_MIN_IDLE_CORES idle since the baseline, once
   * IDLE_SAMPLE_MIN_MS have passed (until then, no). A host that does not say starts. A refusal is
   * the next baseline: the host is asked again over the next IDLE_SAMPLE_MIN_MS, rather than in the
   * next window (up to a second later). In the benchmark (N = 10, two vCPUs) the window opens in the
   * latency phase and the start comes with the throughput burst; 14 runs measured 0.50 to 0.68
   * cores idle there, at the threshold, and in one the start came 540 ms into the burst, as a
   * refusal and the next window would have it.
   */
  private hostHasIdleCore(): boolean {
    const now = this.clock();
    if (now - this.idleSince < IDLE_SAMPLE_MIN_MS) return false;
    const idle = this.idleCores();
    if (idle === undefined || idle >= VERIFY_THREADS_MIN_IDLE_CORES) return true;
    this.idleSince = now;
    return false;
  }

  /**
   * Stops every worker. Checks in flight are answered with undefined at once; resolves once every
   * worker's thread has exited (terminate() only asks it to), so that none outlives a node's stop(),
   * or after WORKER_EXIT_DEADLINE_MS at the latest.
   */
  close(): Promise<void> {
    this.wanted = 0;
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.settleReadyWaiters(false);
    const exits: Promise<unknown>[] = [];
    for (const checker of this.checkers.splice(0)) {
      exits.push(checker.worker.terminate());
      this.fail(checker);
    }
    this.handBack();
    if (exits.length === 0) return Promise.resolve();
    let deadline: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      deadline = setTimeout(resolve, WORKER_EXIT_DEADLINE_MS);
      deadline.unref();
    });
    return Promise.race([Promise.allSettled(exits), timedOut]).then(() => clearTimeout(deadline));
  }

  /**
   * Runs once the event loop has handled this turn's I/O (setImmediate), so that the turn's checks
   * are counted together (the next turn counts from 0): a few while every worker is idle go back to
   * be done inline (see INLINE_TURN_MAX_CHECKS); more go to a worker while the event loop relays.
   */
  private readonly endTurn = (): void => {
    this.turnEndScheduled = false;
    this.turnChecks = 0;
    if (this.staged.length === 0) return;
    const busy = this.checkers.some((checker) => checker.inFlight !== undefined);
    if (!busy && this.staged.length <= this.inlineTurnMax) this.handBack();
    else this.flush();
  };

  /**
   * For a full queue: takes the verdicts of every batch a worker has finished but whose message the
   * event loop has not read yet, hands the staged checks to an idle worker (one just collected, or
   * one idle since its message was read earlier in the turn), and answers the finished batches in
   * a microtask, once the caller's I/O callback has returned. A worker's message waits for the end
   * of the event loop's turn, and so did the next batch, while a turn of a busy process reads many
   * sockets: the worker sat idle through the rest of it while every check past the full queue was
   * done inline. At N = 100 in one process that was over half of the throughput phase's checks,
   * with the worker busy a quarter of the time. The benchmark's throughput phase, alternating runs:
   * at N = 100, 18% and 13% more messages a second (higher in 5 of 6 and 8 of 10 pairs); at N = 10,
   * 5% and 4% (6 of 8, 4 of 6); handing a full queue to an idle worker as well, 27% more at N = 100
   * (4 of 5).
   */
  private collectFinished(): void {
    for (const checker of this.checkers) {
      const batch = this.collect(checker);
      if (batch !== undefined) queueMicrotask(() => answer(batch));
    }
    this.flush();
  }

  /**
   * The finished batch of `checker`, which is idle again; undefined while it has none. A worker
   * past the deadline is ready again once its batch is finished (its callbacks went back inline).
   */
  private collect(checker: Checker): FinishedBatch | undefined {
    if (checker.inFlight === undefined || Atomics.load(checker.finished, 0) !== checker.sent)
      return undefined;
    const callbacks = checker.inFlight;
    checker.inFlight = undefined;
    if (checker.late) {
      checker.late = false;
      this.settleReadyWaiters(true);
    }
    // Read before the next batch can be written over them.
    const verdicts = Uint8Array.from(
      checker.shared.subarray(VERIFY_BATCH_MAX_BYTES, VERIFY_BATCH_MAX_BYTES + callbacks.length),
    );
    return { callbacks, verdicts };
  }

  /** Every staged check goes back to its caller undecided, to be done inline. */
  private handBack(): void {
    const staged = this.staged;
    this.staged = [];
    this.stagedBytes = 0;
    for (const done of staged) done(undefined);
  }

  /** Hands what is staged to an idle worker, if there is one; else it waits for the first to finish. */
  private readonly flush = (): void => {
    if (this.staged.length === 0) return;
    const idle = this.checkers.find((checker) => checker.ready && checker.inFlight === undefined);
    if (idle === undefined) return;
    this.staging.copy(idle.shared, 0, 0, this.stagedBytes);
    // Wraps past 2^31 - 1 as the worker's Int32 count does (Atomics.add), or the two never match again.
    idle.sent = (idle.sent + 1) | 0;
    idle.worker.postMessage(this.stagedBytes);
    idle.inFlight = this.staged;
    idle.sentAt = this.clock();
    this.armDeadline(this.batchDeadlineMs);
    this.staged = [];
    this.stagedBytes = 0;
  };

  private armDeadline(afterMs: number): void {
    if (this.deadlineTimer !== undefined) return;
    this.deadlineTimer = setTimeout(this.checkDeadlines, Math.max(1, afterMs));
    this.deadlineTimer.unref();
  }

  /**
   * Batches past the deadline go back inline, unless the worker has finished one and only its
   * message is unread: an event loop held past the deadline runs this timer before it reads that
   * message, and would check the whole batch again. The timer comes again for the next one due.
   */
  private readonly checkDeadlines = (): void => {
    this.deadlineTimer = undefined;
    const now = this.clock();
    let nextDue = Number.POSITIVE_INFINITY;
    const finished: FinishedBatch[] = [];
    for (const checker of this.checkers) {
      if (checker.inFlight === undefined || checker.late) continue;
      const due = checker.sentAt + this.batchDeadlineMs;
      if (due > now) {
        nextDue = Math.min(nextDue, due);
        continue;
      }
      const batch = this.collect(checker);
      if (batch !== undefined) {
        finished.push(batch);
        continue;
      }
      const callbacks = checker.inFlight;
      checker.inFlight = [];
      checker.late = true;
      for (const done of callbacks) done(undefined);
    }
    // Checks staged for a worker now wait for none that is coming soon.
    if (this.readyCheckers === 0) this.handBack();
    // Before flush(): a batch still out is due sooner than the one flush() sends, and the timer is
    // armed once, for the first to come.
    if (nextDue !== Number.POSITIVE_INFINITY) this.armDeadline(nextDue - now);
    // As on a worker's message: the next batch goes out before these callbacks run.
    if (finished.length > 0) this.flush();
    for (const batch of finished) answer(batch);
  };

  private spawn(): Checker {
    const shared = Buffer.from(new SharedArrayBuffer(FINISHED_OFFSET + Int32Array.BYTES_PER_ELEMENT));
    const threadsBefore = threadIds();
    const worker = new Worker(VERIFY_WORKER_SOURCE, {
      eval: true,
      workerData: {
        sodiumPath: this.sodiumPath,
        shared: shared.buffer,
        verdictsOffset: VERIFY_BATCH_MAX_BYTES,
        finishedOffset: FINISHED_OFFSET,
      },
      // The worker allocates next to nothing: a small young generation keeps its heap small.
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    lowerPriorityOfNewThread(threadsBefore, VERIFY_THREAD_NICENESS);
    const checker: Checker = {
      worker,
      shared,
      finished: new Int32Array(shared.buffer, FINISHED_OFFSET, 1),
      sent: 0,
      inFlight: undefined,
      sentAt: 0,
      late: false,
      ready: false,
    };
    worker.on('message', (message: 'ready' | 'finished') => {
      if (message === 'ready') {
        checker.ready = true;
        this.settleReadyWaiters(true);
        // Checks may be waiting already: for a worker that died while this one loaded, say.
        this.flush();
        return;
      }
      // Nothing to collect if collectFinished() took the batch already.
      const batch = this.collect(checker);
      // The next batch goes out before these callbacks run, so the worker checks while we relay.
      this.flush();
      if (batch !== undefined) answer(batch);
    });
    worker.on('error', () => this.retire(checker));
    worker.on('exit', () => this.retire(checker));
    // The nodes' sockets keep the process alive while there is work; a checker never should. After
    // the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    return checker;
  }

  /** A worker died (it failed to load, or was terminated): its checks go back to their callers. */
  private retire(checker: Checker): void {
    const index = this.checkers.indexOf(checker);
    if (index !== -1) this.checkers.splice(index, 1);
    this.wanted = this.checkers.length;
    this.fail(checker);
    if (this.checkers.length === 0) this.settleReadyWaiters(false);
    // With no worker ready (the others still load, or none is left), the staged checks are done
    // inline rather than wait for one.
    if (this.readyCheckers === 0) this.handBack();
    else this.flush();
  }

  private settleReadyWaiters(ready: boolean): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const resolve of waiters) resolve(ready);
  }

  private fail(checker: Checker): void {
    const callbacks = checker.inFlight ?? [];
    checker.inFlight = undefined;
    for (const done of callbacks) done(undefined);
  }
}

/** A worker's verdicts on a batch, one byte per callback (see VERIFY_WORKER_SOURCE). */
interface FinishedBatch {
  readonly callbacks: readonly VerifyCallback[];
  readonly verdicts: Uint8Array;
}

function answer({ callbacks, verdicts }: FinishedBatch): void {
  for (let i = 0; i < callbacks.length; i++) {
    const verdict = verdicts[i];
    (callbacks[i] as VerifyCallback)(verdict === 1 ? true : verdict === 0 ? false : undefined);
  }
}

let shared: VerifyPool | undefined;
let users = 0;

/**
 * The process's pool, with at least `threads` workers, for one more user; every acquire() is
 * matched by a release(). `tuning` applies if this call creates the pool. Nodes share it: ten nodes in one process need not ten sets of threads.
 */
export function acquireVerifyPool(threads: number, tuning: VerifyPoolTuning = {}): VerifyPool {
  users++;
  if (shared === undefined) shared = new VerifyPool(threads, tuning);
  else shared.grow(threads);
  return shared;
}

/** The last user's release stops the workers; resolves once they have exited (see close()). */
export function releaseVerifyPool(): Promise<void> {
  if (users === 0) return Promise.resolve();
  users--;
  if (users > 0 || shared === undefined) return Promise.resolve();
  const closing = shared.close();
  shared = undefined;
  return closing;
}
