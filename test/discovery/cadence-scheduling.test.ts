import { Socket } from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WANTS_PEERS_BEACON_GAP_MS } from '../../src/discovery/cadence.js';
import type { Scheduler } from '../../src/discovery/scheduler.js';
import { type Probe, probe, uniqueGroup, waitFor } from './helpers.js';

// Opens a real socket (the beacons are real); the timers are driven by hand. Run in the loopback netns.

interface Timer {
  readonly delayMs: number;
  readonly callback: () => void;
  cancelled: boolean;
  fired: boolean;
}

/** Records every delay asked for; the test decides when a timer fires. */
class ManualScheduler implements Scheduler {
  readonly timers: Timer[] = [];
  /** Moves only when a timer fires (to its due time) or the test says so. */
  time = 0;

  now(): number {
    return this.time;
  }

  schedule(callback: () => void, delayMs: number): () => void {
    const timer: Timer = { callback, delayMs, cancelled: false, fired: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  pending(): Timer[] {
    return this.timers.filter((t) => !t.cancelled && !t.fired);
  }

  /** The one pending timer (the service never has two). */
  next(): Timer {
    const pending = this.pending();
    expect(pending).toHaveLength(1);
    return pending[0] as Timer;
  }

  fire(): void {
    const timer = this.next();
    timer.fired = true;
    this.time += timer.delayMs;
    timer.callback();
  }
}

const INTERVALS = { eagerIntervalMs: 1000, announceIntervalMs: 5000 };
const within = (nominal: number): [number, number] => [nominal * 0.75, nominal * 1.25];

function expectDelayAround(timer: Timer, nominal: number): void {
  const [low, high] = within(nominal);
  expect(timer.delayMs).toBeGreaterThanOrEqual(low);
  expect(timer.delayMs).toBeLessThanOrEqual(high);
}

let instance: Probe | undefined;
afterEach(async () => {
  await instance?.discovery.stop();
  instance = undefined;
});

async function startManual(wantsPeers: boolean): Promise<{ p: Probe; timers: ManualScheduler }> {
  const timers = new ManualScheduler();
  const p = probe(uniqueGroup(), { ...INTERVALS, wantsPeers, scheduler: timers });
  instance = p;
  await p.discovery.start();
  return { p, timers };
}

const sent = (p: Probe): number => p.discovery.stats().beaconsSent;

describe('announce cadence (injected scheduler)', () => {
  it('bursts at start-up, then announces at the eager interval while it wants peers', async () => {
    const { p, timers } = await startManual(true);
    await waitFor('the first beacon, sent at once', () => sent(p) === 1);
    expectDelayAround(timers.next(), 150);
    timers.fire();
    expectDelayAround(timers.next(), 250);
    timers.fire();
    for (let i = 0; i < 10; i++) {
      expectDelayAround(timers.next(), 1000);
      timers.fire();
    }
    await waitFor('13 beacons', () => sent(p) === 13);
  });

  it('announces at the steady interval when it does not want peers', async () => {
    const { p, timers } = await startManual(false);
    timers.fire();
    timers.fire();
    for (let i = 0; i < 10; i++) {
      expectDelayAround(timers.next(), 5000);
      timers.fire();
    }
    await waitFor('13 beacons', () => sent(p) === 13);
  });

  it('setWantsPeers switches the cadence at once, and announces at once when switching to true', async () => {
    const { p, timers } = await startManual(true);
    timers.fire();
    timers.fire();
    const eagerTimer = timers.next();
    await waitFor('the burst to be sent', () => sent(p) === 3);

    p.discovery.setWantsPeers(false);
    expect(eagerTimer.cancelled).toBe(true);
    expectDelayAround(timers.next(), 5000);

    p.discovery.setWantsPeers(false); // no change: keeps the pending timer
    const slowTimer = timers.next();
    expect(slowTimer.cancelled).toBe(false);

    timers.time += 1000; // well after the last beacon
    p.discovery.setWantsPeers(true);
    expect(slowTimer.cancelled).toBe(true);
    expectDelayAround(timers.next(), 1000);
    await waitFor('the immediate beacon', () => sent(p) === 4);

    timers.fire();
    // Exactly one beacon per fire plus the immediate one: switching to false sent nothing extra.
    await waitFor('the next eager beacon', () => sent(p) === 5);
  });

  it('spaces the beacons of a wish for peers that comes and goes: at most one per gap', async () => {
    const { p, timers } = await startManual(true);
    timers.fire();
    timers.fire();
    timers.next();
    await waitFor('the burst to be sent', () => sent(p) === 3);
    // A neighbour that connects and drops over and over, 50 ms after the last beacon.
    timers.time += 50;
    for (let i = 0; i < 30; i++) {
      p.discovery.setWantsPeers(false);
      p.discovery.setWantsPeers(true);
    }
    // Before, each flip sent a beacon at once: 30 in a row, past what a receiver takes from a node.
    expect(timers.next().delayMs).toBe(WANTS_PEERS_BEACON_GAP_MS - 50);
    timers.fire();
    await waitFor('the one beacon the flips make', () => sent(p) === 4);
    expectDelayAround(timers.next(), 1000);
  });

  it('lets the start-up burst finish when the flag changes during it', async () => {
    const { p, timers } = await startManual(true);
    const burstTimer = timers.next();
    p.discovery.setWantsPeers(false);
    expect(burstTimer.cancelled).toBe(false);
    timers.fire();
    expectDelayAround(timers.next(), 250);
    timers.fire();
    expectDelayAround(timers.next(), 5000);
    await waitFor('the burst', () => sent(p) === 3);
  });

  it('lets the start-up burst finish when the flag changes before its last beacon', async () => {
    const { p, timers } = await startManual(true);
    timers.fire();
    const lastBurstTimer = timers.next();
    await waitFor('two beacons of the burst', () => sent(p) === 2);
    // Before, the last gap of the burst counted as the steady cadence: its beacon was cancelled.
    p.discovery.setWantsPeers(false);
    expect(lastBurstTimer.cancelled).toBe(false);
    timers.fire();
    expectDelayAround(timers.next(), 5000);
    await waitFor('the burst', () => sent(p) === 3);
  });

  it('stop() cancels the pending timer, and a late callback sends nothing', async () => {
    const { p, timers } = await startManual(true);
    await waitFor('the first beacon', () => sent(p) === 1);
    const pending = timers.next();
    await p.discovery.stop();
    expect(pending.cancelled).toBe(true);
    expect(timers.pending()).toEqual([]);

    // Counted at the socket: the service's own counter ignores a send once stop() began.
    const socketSend = vi.spyOn(Socket.prototype, 'send');
    try {
      pending.callback(); // as if the timer had already been dequeued when stop() ran
      expect(timers.pending()).toEqual([]);
      expect(socketSend).not.toHaveBeenCalled();
    } finally {
      socketSend.mockRestore();
    }
  });
});
