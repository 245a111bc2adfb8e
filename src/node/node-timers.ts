import { performance } from 'node:perf_hooks';
import { MAX_TIMER_DELAY_MS } from '../discovery/scheduler.js';
import { HELD_LOOP_THRESHOLD_MS } from '../transport/defaults.js';

/** Where NodeTimers reads the time and arms timers: the process's own, or a test's fake. */
export interface TimerHost {
  now(): number;
  setTimeout(run: () => void, after: number): unknown;
  clearTimeout(handle: unknown): void;
}

const processTimerHost: TimerHost = {
  now: () => performance.now(),
  setTimeout: (run, after) => setTimeout(run, after),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * The timers of one node, all cancelled by clear() when it stops.
 *
 * A timeout here (a Neighbor request's, a Graft's) judges a peer by its silence, but a process whose
 * event loop was held could not hear it: the timer fires late, in the timers phase that comes before
 * the poll phase that would read the answer. With 1,000 nodes in one process, Neighbor requests
 * timed out that way by the thousand; each timeout dropped a live peer and dialled another, and the
 * handshakes held the loop longer still, so the overlay never settled. A timer that fires more than
 * HELD_LOOP_THRESHOLD_MS late therefore waits once more, as long as it was late. Only once: a
 * process that stays saturated still acts on its timers, later.
 */
export class NodeTimers {
  private readonly pending = new Set<unknown>();

  constructor(private readonly host: TimerHost = processTimerHost) {}

  /** Runs `run` after `after` ms, or later if the timer fires late (see the class comment). */
  schedule(after: number, run: () => void): void {
    this.arm(after, run, true);
  }

  /** Cancels every timer not yet run. */
  clear(): void {
    for (const handle of this.pending) this.host.clearTimeout(handle);
    this.pending.clear();
  }

  /** Timers armed and not yet run or cleared. */
  get size(): number {
    return this.pending.size;
  }

  private arm(after: number, run: () => void, mayWaitAgain: boolean): void {
    const due = this.host.now() + after;
    // Node runs a timer set for longer than MAX_TIMER_DELAY_MS (about 24.8 days, a duration the
    // options accept) after 1 ms: a longer wait is taken in pieces.
    const piece = Math.min(after, MAX_TIMER_DELAY_MS);
    const handle = this.host.setTimeout(() => {
      this.pending.delete(handle);
      const now = this.host.now();
      // A piece that fired after the whole wait was due is late as any timer is, from `due`.
      if (piece < after && now < due) this.arm(due - now, run, mayWaitAgain);
      else if (mayWaitAgain && now - due > HELD_LOOP_THRESHOLD_MS) this.arm(now - due, run, false);
      else run();
    }, piece);
    this.pending.add(handle);
  }
}
