import { describe, expect, it } from 'vitest';
import { nextAnnounceDelay } from '../../src/discovery/cadence.js';
import {
  DiscoveryStartError,
  MAX_ANNOUNCE_INTERVAL_MS,
  type MulticastDiscoveryOptions,
  validateOptions,
} from '../../src/discovery/multicast-options.js';
import { MAX_TIMER_DELAY_MS } from '../../src/discovery/scheduler.js';

const base: MulticastDiscoveryOptions = { self: 'a'.repeat(64), listenPort: 50_000 };
/** Delays setTimeout would run after 1 ms instead: 2^31 ms and beyond. */
const TOO_LONG_FOR_A_TIMER = [2 ** 31, 3e9, Number.MAX_SAFE_INTEGER];

describe('validateOptions, beacon intervals', () => {
  it.each(
    (['announceIntervalMs', 'eagerIntervalMs'] as const).flatMap((option) =>
      [...TOO_LONG_FOR_A_TIMER, MAX_ANNOUNCE_INTERVAL_MS + 1].map((ms) => [option, ms] as const),
    ),
  )('refuses %s of %d ms, naming the option', (option, ms) => {
    const result = validateOptions({ ...base, [option]: ms });
    expect(result).toBeInstanceOf(DiscoveryStartError);
    expect(result).toMatchObject({ option, message: expect.stringContaining(`"${option}"`) });
  });

  it('accepts the longest interval, whose every jittered delay still fits a timer', () => {
    const result = validateOptions({
      ...base,
      announceIntervalMs: MAX_ANNOUNCE_INTERVAL_MS,
      eagerIntervalMs: MAX_ANNOUNCE_INTERVAL_MS,
    });
    if (result instanceof Error) throw result;
    const highest = { next: () => 1 - Number.EPSILON };
    expect(nextAnnounceDelay(highest, false, result)).toBeLessThanOrEqual(MAX_TIMER_DELAY_MS);
    expect(nextAnnounceDelay(highest, true, result)).toBeLessThanOrEqual(MAX_TIMER_DELAY_MS);
  });
});

describe('validateOptions, group and interface', () => {
  it.each(['224.0.0.0', '239.255.255.255'])('accepts the multicast group %s', (group) => {
    const result = validateOptions({ ...base, group });
    expect(result).not.toBeInstanceOf(Error);
    expect(result).toMatchObject({ group });
  });

  it.each(['223.255.255.255', '240.0.0.0'])('refuses %s, just outside 224.0.0.0/4, as the group', (group) => {
    expect(validateOptions({ ...base, group })).toMatchObject({ option: 'group' });
  });

  it.each(['lo', 'eth0', '::1', '127.0.0'])(
    'refuses %j as interfaceAddress before the OS sees it',
    (address) => {
      const result = validateOptions({ ...base, interfaceAddress: address });
      expect(result).toBeInstanceOf(DiscoveryStartError);
      expect(result).toMatchObject({
        option: 'interfaceAddress',
        code: undefined,
        message: expect.stringContaining('expected the IPv4 address of a local interface'),
      });
    },
  );
});
