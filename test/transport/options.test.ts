import { describe, expect, it } from 'vitest';
import { MAX_TIMER_DELAY_MS } from '../../src/discovery/scheduler.js';
import { generateIdentity } from '../../src/identity/identity.js';
import { MIN_TICK_MS, TICKS_PER_SHORTEST_TIMEOUT } from '../../src/transport/defaults.js';
import { resolveOptions } from '../../src/transport/options.js';

describe('LinkManager options', () => {
  const identity = generateIdentity();

  it.each(['maxFrameBytes', 'maxSendQueueBytes', 'sendHighWaterBytes'] as const)(
    'refuses %s that is not a positive integer',
    (name) => {
      for (const value of [0, -1, 1.5, Number.NaN]) {
        expect(() => resolveOptions({ identity, [name]: value })).toThrow(new RegExp(name));
      }
    },
  );

  it('takes the defaults when nothing is given', () => {
    expect(resolveOptions({ identity }).maxFrameBytes).toBeGreaterThan(1024 * 1024);
  });

  it.each(['handshakeTimeoutMs', 'keepAliveIntervalMs', 'idleTimeoutMs'] as const)(
    'refuses %s that is not a positive finite number of milliseconds',
    (name) => {
      for (const value of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(() => resolveOptions({ identity, [name]: value })).toThrow(new RegExp(name));
      }
      expect(resolveOptions({ identity, [name]: 0.5 })[name]).toBe(0.5);
    },
  );

  it('ticks a few times per shortest timeout, whichever it is, and never faster than MIN_TICK_MS', () => {
    const timeouts = { handshakeTimeoutMs: 800, keepAliveIntervalMs: 800, idleTimeoutMs: 800 };
    for (const name of Object.keys(timeouts) as (keyof typeof timeouts)[]) {
      expect(resolveOptions({ identity, ...timeouts, [name]: 400 }).tickMs).toBe(
        400 / TICKS_PER_SHORTEST_TIMEOUT,
      );
    }
    expect(resolveOptions({ identity, idleTimeoutMs: 1 }).tickMs).toBe(MIN_TICK_MS);
  });

  it('never asks for a tick longer than a timer keeps, however long every timeout is', () => {
    // Node would run a longer interval every millisecond (with a TimeoutOverflowWarning).
    const days = (n: number) => n * 24 * 60 * 60 * 1000;
    const timeouts = (ms: number) => ({ handshakeTimeoutMs: ms, keepAliveIntervalMs: ms, idleTimeoutMs: ms });
    expect(resolveOptions({ identity, ...timeouts(days(100)) }).tickMs).toBe(MAX_TIMER_DELAY_MS);
    expect(resolveOptions({ identity, ...timeouts(Number.MAX_VALUE) }).tickMs).toBe(MAX_TIMER_DELAY_MS);
    expect(resolveOptions({ identity, ...timeouts(days(90)) }).tickMs).toBe(
      days(90) / TICKS_PER_SHORTEST_TIMEOUT,
    );
  });

  it('takes each limit from its own option', () => {
    const names = [
      'maxFrameBytes',
      'maxSendQueueBytes',
      'sendHighWaterBytes',
      'maxPendingHandshakes',
      'maxPendingHandshakesPerHost',
      'maxLinksPerHost',
      'membershipRequestsPerSecond',
      'membershipRequestBurst',
    ] as const;
    names.forEach((name, i) => {
      expect(resolveOptions({ identity, [name]: 1000 + i })[name]).toBe(1000 + i);
    });
  });
});
