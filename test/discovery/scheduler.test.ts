import { afterEach, describe, expect, it, vi } from 'vitest';
import { realScheduler } from '../../src/discovery/scheduler.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('realScheduler', () => {
  it('never lets a pending beacon keep the process alive', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const cancel = realScheduler.schedule(() => {}, 60_000);
    const timer = spy.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    cancel();
  });

  it('runs the callback after the delay unless cancelled', async () => {
    const calls: string[] = [];
    const cancel = realScheduler.schedule(() => calls.push('cancelled'), 0);
    cancel();
    cancel(); // twice is harmless
    // The second timer is due no earlier than the first, so once it ran the first would have too.
    await new Promise<void>((resolve) => realScheduler.schedule(resolve, 1));
    expect(calls).toEqual([]);
  });
});
