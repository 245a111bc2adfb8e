import { describe, expect, it } from 'vitest';
import { GOSSIP_OVERHEAD_BYTES, MAX_APPLICATION_PAYLOAD_BYTES } from '../../src/codec/index.js';
import { generateIdentity } from '../../src/identity/identity.js';
import { networkKeyFromSecret } from '../../src/identity/network-key.js';
import { createNode } from '../../src/node/node.js';
import { MAX_VERIFY_THREADS } from '../../src/node/options.js';

describe('createNode refuses mistaken options before binding or dialling anything', () => {
  it('a bootstrap address that does not parse', () => {
    expect(() => createNode({ discovery: false, bootstrap: ['127.0.0.1:7000', 'not an address'] })).toThrow(
      /not an address/,
    );
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_VERIFY_THREADS + 1])(
    'verifyThreads %s',
    (threads) => {
      expect(() => createNode({ discovery: false, verifyThreads: threads })).toThrow(RangeError);
    },
  );

  it('verifyThreads given as a string, named as one', () => {
    expect(() => createNode({ discovery: false, verifyThreads: '2' as never })).toThrow(/got string "2"/);
  });

  it.each([
    ['protocol.activeViewSize 0', { protocol: { activeViewSize: 0 } }, /activeViewSize/],
    ['protocol.shuffleInterval -1', { protocol: { shuffleInterval: -1 } }, /shuffleInterval/],
    ['discoveryPort 0', { discoveryPort: 0 }, /"discoveryPort"/],
    ['a group that is no multicast address', { group: '10.0.0.1' }, /"group" option .*"10\.0\.0\.1"/],
    ['an interface that is no IPv4 address', { interface: 'eth0' }, /"interface"/],
  ])('%s, which only start() used to find', (_name, options, message) => {
    expect(() => createNode(options)).toThrow(RangeError);
    expect(() => createNode(options)).toThrow(message);
  });

  it.each([
    ["the key file's text", `${'ab'.repeat(32)}\n`],
    ['an ArrayBuffer', new ArrayBuffer(32)],
    ['null', null],
    ['an object with no keys in it', {}],
  ])('a networkKey that is %s, which ran the node in the open network', (_label, networkKey) => {
    expect(() => createNode({ discovery: false, networkKey: networkKey as never })).toThrow(
      /networkKey must be the 32-byte secret/,
    );
  });

  it.each([
    ["another key's id", () => ({ ...generateIdentity(), id: generateIdentity().id })],
    ["another key's public key", () => ({ ...generateIdentity(), publicKey: generateIdentity().publicKey })],
    ['a secret key cut short', () => ({ ...generateIdentity(), secretKey: Buffer.alloc(16) })],
    ['an object with no keys in it', () => ({})],
  ])('an identity with %s, whose broadcasts every peer would refuse', (_label, identity) => {
    expect(() => createNode({ discovery: false, identity: identity() as never })).toThrow(
      /identity must be a key pair with its id/,
    );
  });

  it("a seen cache too short for the signatures' freshness window, unless signatures are off", () => {
    expect(() => createNode({ discovery: false, protocol: { seenCacheMaxAge: 5_000 } })).toThrow(
      /seenCacheMaxAge must exceed/,
    );
    expect(() =>
      createNode({ discovery: false, signatures: false, protocol: { seenCacheMaxAge: 5_000 } }),
    ).not.toThrow();
  });

  it.each([70_000, -1, 1.5, { from: 5, to: 2 }, { from: 0, to: 10 }])('port %o', (port) => {
    expect(() => createNode({ discovery: false, port })).toThrow(RangeError);
  });

  it('a transport.maxFrameBytes too small for any broadcast; a smaller one lowers the payload limit', () => {
    expect(() => createNode({ discovery: false, transport: { maxFrameBytes: 100 } })).toThrow(
      /cannot carry a broadcast/,
    );
    expect(() =>
      createNode({ discovery: false, transport: { maxFrameBytes: GOSSIP_OVERHEAD_BYTES - 1 } }),
    ).toThrow(/cannot carry a broadcast/);
    const node = createNode({ discovery: false, transport: { maxFrameBytes: 64 * 1024 } });
    expect(node.maxPayloadBytes).toBe(64 * 1024 - GOSSIP_OVERHEAD_BYTES);
    expect(createNode({ discovery: false }).maxPayloadBytes).toBe(MAX_APPLICATION_PAYLOAD_BYTES);
  });

  it.each([
    [
      'an interface with a leading zero, which the resolver reads as octal',
      { interface: '127.0.0.010' },
      /interface/,
    ],
    ['an interface that is no IPv4 address', { interface: 'eth0' }, /interface/],
    ['a host with a leading zero', { host: '127.0.0.010' }, /host "127\.0\.0\.010"/],
    ['a host of five numbers', { host: '10.0.0.0.1' }, /host/],
  ])('%s, with discovery off', (_name, options, message) => {
    expect(() => createNode({ discovery: false, ...options })).toThrow(RangeError);
    expect(() => createNode({ discovery: false, ...options })).toThrow(message);
  });

  it('leaves the discovery options unchecked when discovery is off', () => {
    expect(() => createNode({ discovery: false, discoveryPort: 0 })).not.toThrow();
  });

  it('accepts a network key as its secret or as derived from it', () => {
    const secret = Buffer.alloc(32, 9);
    const fingerprint = networkKeyFromSecret(secret).fingerprint;
    expect(createNode({ discovery: false, networkKey: secret }).network).toBe(fingerprint);
    expect(createNode({ discovery: false, networkKey: networkKeyFromSecret(secret) }).network).toBe(
      fingerprint,
    );
  });

  it('accepts what is meant', () => {
    const identity = generateIdentity();
    expect(createNode({ discovery: false, identity }).id).toBe(identity.id);
    for (const host of ['127.0.0.1', '0.0.0.0', 'localhost']) {
      expect(() => createNode({ discovery: false, host, interface: '127.0.0.1' })).not.toThrow();
    }
    for (const threads of [0, 2, MAX_VERIFY_THREADS]) {
      expect(() =>
        createNode({ discovery: false, verifyThreads: threads, bootstrap: ['[::1]:49152'] }),
      ).not.toThrow();
    }
  });
});
