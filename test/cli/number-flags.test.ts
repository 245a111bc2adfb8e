import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  fixedPort,
  fractionBelowOne,
  listenPort,
  nonNegative,
  openFraction,
  positive,
  probability,
  whole,
} from '../../src/cli/number-flags.js';

describe('numeric flags', () => {
  it('never takes an empty or blank value for 0', () => {
    // Number('') is 0: `--port ''` listened on any port, `demo --kill ''` crashed nobody.
    for (const parse of [listenPort, fixedPort, fractionBelowOne, nonNegative, probability, whole(0, 10)]) {
      for (const text of ['', ' ', '\t']) expect(() => parse(text)).toThrow(InvalidArgumentError);
    }
  });

  it('takes a listening port from 0 (any free one) and a shared port from 1', () => {
    expect(listenPort('0')).toBe(0);
    expect(listenPort('65535')).toBe(65535);
    expect(() => listenPort('65536')).toThrow(/0 to 65535/);
    expect(() => fixedPort('0')).toThrow(/1 to 65535/);
    expect(fixedPort('49152')).toBe(49152);
  });

  it('keeps each range', () => {
    expect(whole(2, 500)('20')).toBe(20);
    expect(() => whole(2, 500)('1.5')).toThrow(/whole number/);
    expect(fractionBelowOne('0')).toBe(0);
    expect(() => fractionBelowOne('1')).toThrow(/below 1/);
    expect(() => openFraction('0')).toThrow(/above 0/);
    expect(() => positive('0')).toThrow(/> 0/);
    expect(() => probability('1.01')).toThrow(/0 to 1/);
    expect(nonNegative('0')).toBe(0);
  });

  it('takes both ends of each closed range, and nothing past them', () => {
    expect(whole(2, 500)('2')).toBe(2);
    expect(whole(2, 500)('500')).toBe(500);
    expect(() => whole(2, 500)('1')).toThrow(/from 2 to 500/);
    expect(() => whole(2, 500)('501')).toThrow(/from 2 to 500/);
    expect(probability('0')).toBe(0);
    expect(probability('1')).toBe(1);
    expect(openFraction('0.5')).toBe(0.5);
    expect(() => openFraction('1')).toThrow(/below 1/);
    expect(fixedPort('65535')).toBe(65535);
    expect(() => fixedPort('65536')).toThrow(/1 to 65535/);
    expect(() => listenPort('80.5')).toThrow(/0 to 65535/);
  });

  it('never takes an infinite number', () => {
    for (const parse of [nonNegative, positive]) {
      expect(() => parse('Infinity')).toThrow(InvalidArgumentError);
    }
  });
});
