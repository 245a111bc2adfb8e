import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AddressError,
  formatAddress,
  normalizeAddress,
  parseAddress,
  tryParseAddress,
} from '../../src/discovery/bootstrap.js';
import { parseAddress as parseDialAddress } from '../../src/transport/address.js';

describe('parseAddress', () => {
  it.each([
    ['127.0.0.1:4000', '127.0.0.1', 4000],
    ['10.0.0.255:1', '10.0.0.255', 1],
    ['localhost:65535', 'localhost', 65535],
    ['node-1.lan:49200', 'node-1.lan', 49200],
    ['mesh_node_1:7000', 'mesh_node_1', 7000],
    ['example.com.:80', 'example.com.', 80],
    ['  peer.local:5000 ', 'peer.local', 5000],
    ['[::1]:4000', '::1', 4000],
    ['[fe80::1%eth0]:4000', 'fe80::1%eth0', 4000],
    ['[2001:db8::42]:443', '2001:db8::42', 443],
    ['[::ffff:192.0.2.1]:9', '::ffff:192.0.2.1', 9],
    // The longest hostname (253 characters), also written with its root's trailing dot.
    [`${'abcdefghi.'.repeat(25)}com:80`, `${'abcdefghi.'.repeat(25)}com`, 80],
    [`${'abcdefghi.'.repeat(25)}com.:80`, `${'abcdefghi.'.repeat(25)}com.`, 80],
    [`${'a'.repeat(63)}.com:80`, `${'a'.repeat(63)}.com`, 80],
  ])('accepts %s', (text, host, port) => {
    expect(parseAddress(text)).toEqual({ host, port });
    expect(tryParseAddress(text)).toEqual({ ok: true, value: { host, port } });
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['127.0.0.1', 'missing port'],
    ['localhost', 'missing port'],
    ['localhost:', 'is not a number'],
    [':4000', 'missing host'],
    ['host:0', 'outside 1..65535'],
    ['host:65536', 'outside 1..65535'],
    ['host:123456', 'is not a number'],
    ['host:-1', 'is not a number'],
    ['host:+80', 'is not a number'],
    ['host:8o', 'is not a number'],
    ['host:80 ', ''], // trimmed: valid, checked below
    ['256.1.1.1:80', 'not a valid IPv4'],
    ['1.2.3:80', 'not a valid IPv4'],
    ['::1:4000', 'needs brackets'],
    ['2001:db8::1', 'needs brackets'],
    ['[::1]', 'missing port'],
    ['[::1]:', 'is not a number'],
    ['[::1', 'unclosed'],
    ['[::1]4000', 'text after'],
    ['[127.0.0.1]:80', 'not an IPv6'],
    ['[]:80', 'not an IPv6'],
    ['-bad.host:80', 'not a valid hostname'],
    ['bad-.host:80', 'not a valid hostname'],
    ['a..b:80', 'empty label'],
    ['ho st:80', 'not a valid hostname'],
    ['http://host:80', 'without a scheme'],
    [`${'a'.repeat(64)}.com:80`, 'label longer than 63'],
    [`${'abcdefghi.'.repeat(26)}com:80`, 'longer than 253'],
    [`${'abcdefghi.'.repeat(25)}comm:80`, 'longer than 253'],
    [`${'abcdefghi.'.repeat(25)}comm.:80`, 'longer than 253'],
  ])('rejects %j (%s)', (text, problem) => {
    if (problem === '') {
      expect(parseAddress(text)).toEqual({ host: 'host', port: 80 });
      return;
    }
    const result = tryParseAddress(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(AddressError);
    expect(result.error.message).toContain(problem);
    expect(result.error.message).toContain(JSON.stringify(text));
    expect(() => parseAddress(text)).toThrow(AddressError);
  });

  it('never throws from tryParseAddress, whatever the input (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const result = tryParseAddress(text);
        if (result.ok) expect(result.value.port).toBeGreaterThanOrEqual(1);
      }),
    );
  });
});

describe('formatAddress', () => {
  it.each([
    [{ host: '127.0.0.1', port: 4000 }, '127.0.0.1:4000'],
    [{ host: 'peer.local', port: 1 }, 'peer.local:1'],
    [{ host: '::1', port: 4000 }, '[::1]:4000'],
  ])('formats %j as %s', (address, text) => {
    expect(formatAddress(address)).toBe(text);
  });

  it('round-trips with parseAddress (property)', () => {
    const host = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain());
    fc.assert(
      fc.property(host, fc.integer({ min: 1, max: 65535 }), (h, port) => {
        expect(parseAddress(formatAddress({ host: h, port }))).toEqual({ host: h, port });
      }),
    );
  });
});

describe('normalizeAddress', () => {
  it.each([
    ['127.0.0.1:4000 ', '127.0.0.1:4000'],
    ['\t[::1]:4000\r\n', '[::1]:4000'],
    ['node-1.lan:04000', 'node-1.lan:4000'],
    ['[fe80::1%eth0]:1', '[fe80::1%eth0]:1'],
  ])('keeps %j as %j, which the dialer takes', (text, normalized) => {
    expect(normalizeAddress(text)).toBe(normalized);
    expect(parseDialAddress(normalized)).toBeDefined();
  });

  it('refuses what parseAddress refuses, with its AddressError', () => {
    expect(() => normalizeAddress('host:0')).toThrow(AddressError);
  });

  it('gives only addresses the dialer takes, whatever parseAddress accepts (property)', () => {
    const space = fc.constantFrom('', ' ', '\t', '\r\n', '  \n');
    const host = fc.oneof(
      fc.ipV4(),
      fc.domain(),
      fc.ipV6().map((v6) => `[${v6}]`),
    );
    const port = fc.integer({ min: 1, max: 65_535 }).map((n) => String(n).padStart(5, '0'));
    const text = fc
      .tuple(space, host, port, space)
      .map(([before, h, p, after]) => `${before}${h}:${p}${after}`);
    fc.assert(
      fc.property(fc.oneof(text, fc.string({ maxLength: 100 })), (text) => {
        if (!tryParseAddress(text).ok) return;
        expect(parseDialAddress(normalizeAddress(text))).toEqual(parseAddress(text));
      }),
    );
  });
});
