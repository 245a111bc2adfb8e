import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAddress, normalizeHost, parseAddress } from '../../src/transport/address.js';

describe('address', () => {
  it('strips the IPv4-mapped IPv6 prefix and leaves other hosts alone', () => {
    expect(normalizeHost('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeHost('127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeHost('::1')).toBe('::1');
    expect(normalizeHost('::ffff:abcd')).toBe('::ffff:abcd');
  });

  it('parses host:port, bracketed and bare IPv6', () => {
    expect(parseAddress('127.0.0.1:4000')).toEqual({ host: '127.0.0.1', port: 4000 });
    expect(parseAddress('[::1]:4000')).toEqual({ host: '::1', port: 4000 });
    expect(parseAddress('::1:4000')).toEqual({ host: '::1', port: 4000 });
    expect(parseAddress('localhost:65535')).toEqual({ host: 'localhost', port: 65535 });
  });

  it('refuses malformed addresses instead of throwing', () => {
    for (const bad of [
      '',
      '4000',
      ':4000',
      '127.0.0.1',
      '127.0.0.1:',
      '127.0.0.1:0',
      '127.0.0.1:65536',
      'h:-1',
      'h:4e3',
      '[]:1',
      'a b:1',
    ]) {
      expect(parseAddress(bad), bad).toBeUndefined();
    }
    fc.assert(fc.property(fc.string(), (text) => void parseAddress(text)));
  });

  it('round-trips formatAddress through parseAddress', () => {
    const host = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain());
    fc.assert(
      fc.property(host, fc.integer({ min: 1, max: 65535 }), (h, port) => {
        expect(parseAddress(formatAddress(h, port))).toEqual({ host: h, port });
      }),
    );
  });
});
