import { describe, expect, it } from 'vitest';
import { MAX_TIMER_DELAY_MS } from '../../src/discovery/scheduler.js';
import { NodeTimers, type TimerHost } from '../../src/node/node-timers.js';
import { HELD_LOOP_THRESHOLD_MS } from '../../src/transport/defaults.js';

/** A clock that moves only when told, and timers that fire only when the test says the loop ran. */
class FakeHost implements TimerHost {
  time = 0;
  private nextHandle = 0;
  readonly armed = new Map<number, { at: number; run: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(run: () => void, after: number): unknown {
    const handle = this.nextHandle++;
    // As Node does: a delay setTimeout cannot keep runs after 1 ms.
    this.armed.set(handle, { at: this.time + (after > MAX_TIMER_DELAY_MS ? 1 : after), run });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.armed.delete(handle as number);
  }

  /** The event loop gets to its timers at `time`: every one due by then fires, in due order. */
  runTimersAt(time: number): void {
    this.time = time;
    for (;;) {
      const due = [...this.armed].filter(([, t]) => t.at <= time).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) return;
      this.armed.delete(due[0]);
      due[1].run();
    }
  }
}

describe('NodeTimers', () => {
  it('runs a timer that fires on time', () => {
    const host = new FakeHost();
    const timers = new NodeTimers(host);
    const ran: number[] = [];
    timers.schedule(2_000, () => ran.push(host.time));
    host.runTimersAt(2_000 + HELD_LOOP_THRESHOLD_MS);
    expect(ran).toEqual([2_000 + HELD_LOOP_THRESHOLD_MS]);
    expect(timers.size).toBe(0);
  });

  it('gives a timer that fired late, after a held event loop, once more as long as it was late', () => {
    const host = new FakeHost();
    const timers = new NodeTimers(host);
    const ran: number[] = [];
    timers.schedule(2_000, () => ran.push(host.time));
    // The loop was held until 5 s: the answer the timer waits for may be unread, so it waits 3 s more.
    host.runTimersAt(5_000);
    expect(ran).toEqual([]);
    host.runTimersAt(7_999);
    expect(ran).toEqual([]);
    host.runTimersAt(8_000);
    expect(ran).toEqual([8_000]);
  });

  it('waits once only, so a loop that stays held still acts on its timers', () => {
    const host = new FakeHost();
    const timers = new NodeTimers(host);
    const ran: number[] = [];
    timers.schedule(2_000, () => ran.push(host.time));
    host.runTimersAt(5_000);
    host.runTimersAt(20_000);
    expect(ran).toEqual([20_000]);
  });

  it('runs a timer longer than setTimeout can keep when it is due, not after 1 ms', () => {
    const host = new FakeHost();
    const timers = new NodeTimers(host);
    const ran: number[] = [];
    const thirtyDays = 30 * 24 * 3600 * 1000;
    timers.schedule(thirtyDays, () => ran.push(host.time));
    host.runTimersAt(1);
    host.runTimersAt(MAX_TIMER_DELAY_MS);
    expect(ran).toEqual([]);
    expect(timers.size).toBe(1);
    host.runTimersAt(thirtyDays - 1);
    expect(ran).toEqual([]);
    host.runTimersAt(thirtyDays);
    expect(ran).toEqual([thirtyDays]);
    expect(timers.size).toBe(0);
  });

  it('runs a long timer when it is due even if a piece of it fired late', () => {
    const host = new FakeHost();
    const timers = new NodeTimers(host);
    const ran: number[] = [];
    const day = 24 * 3600 * 1000;
    timers.schedule(30 * day, () => ran.push(host.time));
    // The first piece fires a day late: what is left is counted from now, not from the piece.
    host.runTimersAt(MAX_TIMER_DELAY_MS + day);
    host.runTimersAt(30 * day);
    expect(ran).toEqual([30 * day]);
  });

  it('gives a long timer whose last piece fired late once more, as any other', () => {
    const host = new FakeHost();
    const timers = new NodeTimers(host);
    const ran: number[] = [];
    const thirtyDays = 30 * 24 * 3600 * 1000;
    timers.schedule(thirtyDays, () => ran.push(host.time));
    host.runTimersAt(MAX_TIMER_DELAY_MS);
    host.runTimersAt(thirtyDays + 3_000);
    expect(ran).toEqual([]);
    host.runTimersAt(thirtyDays + 6_000);
    expect(ran).toEqual([thirtyDays + 6_000]);
  });

  it('gives a long timer once more when a piece of it fired after the whole wait was due', () => {
    // Before, the rest was armed for 0 ms and counted as due then: it ran at once, never waiting.
    const host = new FakeHost();
    const timers = new NodeTimers(host);
    const ran: number[] = [];
    timers.schedule(MAX_TIMER_DELAY_MS + 1_000, () => ran.push(host.time));
    host.runTimersAt(MAX_TIMER_DELAY_MS + 4_000);
    expect(ran).toEqual([]);
    host.runTimersAt(MAX_TIMER_DELAY_MS + 6_999);
    expect(ran).toEqual([]);
    host.runTimersAt(MAX_TIMER_DELAY_MS + 7_000);
    expect(ran).toEqual([MAX_TIMER_DELAY_MS + 7_000]);
    expect(timers.size).toBe(0);
  });

  it('clear() cancels timers, the ones waiting a second time included', () => {
    const host = new FakeHost();
    const timers = new NodeTimers(host);
    const ran: string[] = [];
    timers.schedule(1_000, () => ran.push('late one'));
    timers.schedule(10_000, () => ran.push('later one'));
    host.runTimersAt(3_000);
    expect(timers.size).toBe(2);
    timers.clear();
    host.runTimersAt(60_000);
    expect(ran).toEqual([]);
    expect(timers.size).toBe(0);
    expect(host.armed.size).toBe(0);
  });
});
