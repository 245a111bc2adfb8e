import { describe, expect, it } from 'vitest';
import type { MembershipOptions } from '../../src/core/membership/options.js';
import { Protocol, type ProtocolOptions } from '../../src/core/protocol.js';

/** Throws (a RangeError naming `key`) or not, as Protocol.checkOptions does for `{ [key]: value }`. */
function check(key: keyof ProtocolOptions, value: unknown): void {
  Protocol.checkOptions({ [key]: value } as Partial<ProtocolOptions>);
}

function expectRefused(key: keyof ProtocolOptions, values: readonly unknown[]): void {
  for (const value of values) {
    expect(() => check(key, value), `${key}: ${String(value)}`).toThrow(RangeError);
    expect(() => check(key, value), `${key}: ${String(value)}`).toThrow(key);
  }
}

function expectAccepted(key: keyof ProtocolOptions, values: readonly unknown[]): void {
  for (const value of values) expect(() => check(key, value), `${key}: ${String(value)}`).not.toThrow();
}

const COUNTS: readonly (keyof MembershipOptions)[] = [
  'activeViewSize',
  'passiveViewSize',
  'maxConcurrentRequests',
];
const NON_NEGATIVE: readonly (keyof MembershipOptions)[] = [
  'activeRandomWalkLength',
  'passiveRandomWalkLength',
  'shuffleTtl',
  'shuffleActiveCount',
  'shufflePassiveCount',
  'maxContacts',
];
const DURATIONS: readonly (keyof MembershipOptions)[] = [
  'shuffleInterval',
  'neighborRequestTimeout',
  'repairInterval',
  'repairBackoffMax',
  'reconnectInterval',
  'reconnectBackoffMax',
  'mergeInterval',
];

describe('membership options, checked before any node runs', () => {
  it('takes view sizes and concurrent requests from 1 up, whole numbers only', () => {
    for (const key of COUNTS) {
      expectAccepted(key, [1, 7]);
      expectRefused(key, [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]);
    }
  });

  it('takes walk lengths, shuffle sizes and the contacts kept from 0 up, whole numbers only', () => {
    for (const key of NON_NEGATIVE) {
      expectAccepted(key, [0, 1]);
      expectRefused(key, [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY]);
    }
  });

  it('takes every interval and timeout above 0 and finite, fractions of a millisecond too', () => {
    for (const key of DURATIONS) {
      expectAccepted(key, [0.5, 1, 3_600_000]);
      expectRefused(key, [0, -1, Number.NaN, Number.POSITIVE_INFINITY]);
    }
  });

  it('takes a shuffle jitter in [0, 1)', () => {
    expectAccepted('shuffleJitter', [0, 0.2, 0.999]);
    expectRefused('shuffleJitter', [-0.001, 1, Number.NaN]);
  });

  it('takes only the broadcast strategies the core has', () => {
    expectAccepted('broadcast', ['flood', 'plumtree']);
    expectRefused('broadcast', ['gossipsub', undefined]);
  });
});
