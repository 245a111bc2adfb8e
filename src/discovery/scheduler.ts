import { performance } from 'node:perf_hooks';
import type { Millis } from '../core/types.js';

/**
 * The longest delay setTimeout keeps (2^31 - 1 ms, about 24.8 days): Node runs a longer one after
 * 1 ms instead, with only a warning.
 */
export const MAX_TIMER_DELAY_MS: Millis = 2_147_483_647;

/** Cancels a scheduled callback; calling it twice, or after the callback ran, does nothing. */
export type Cancel = () => void;

/**
 * How the discovery service waits. Injected so that tests can record the delays it asks for
 * instead of measuring wall-clock time.
 */
export interface Scheduler {
  schedule(callback: () => void, delayMs: Millis): Cancel;
  /** Milliseconds on a clock that only moves forward, for the time between two beacons. */
  now(): Millis;
}

/**
 * Real timers, unref'd: a pending beacon must never be what keeps a process alive. While the
 * service runs, its socket keeps the process alive; once stopped, nothing of it does.
 */
export const realScheduler: Scheduler = {
  schedule(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
  now: () => performance.now(),
};
