import curve from 'noise-curve-ed';
import { describe, expect, it } from 'vitest';
import { generateIdentity, identityFromSeed, idOfPublicKey, seedOf } from '../../src/identity/identity.js';

describe('identity', () => {
  it('derives the node id from the public key: 64 lower-case hex characters', () => {
    const identity = generateIdentity();
    expect(identity.id).toMatch(/^[0-9a-f]{64}$/);
    expect(identity.id).toBe(identity.publicKey.toString('hex'));
    expect(idOfPublicKey(identity.publicKey)).toBe(identity.id);
    expect(identity.secretKey.subarray(32)).toEqual(identity.publicKey);
  });

  it('gives the same key pair for the same seed, and the one libsodium gives', () => {
    const seed = Buffer.alloc(32, 0x5a);
    const a = identityFromSeed(seed);
    expect(identityFromSeed(seed)).toEqual(a);
    const sodium = curve.generateKeyPair(Buffer.concat([seed, Buffer.alloc(32)]));
    expect(a.publicKey).toEqual(sodium.publicKey);
    expect(a.secretKey).toEqual(sodium.secretKey);
    expect(seedOf(a)).toEqual(seed);
  });

  it('gives every fresh identity its own id', () => {
    const ids = new Set(Array.from({ length: 50 }, () => generateIdentity().id));
    expect(ids.size).toBe(50);
  });

  it('refuses a seed or public key of the wrong length', () => {
    expect(() => identityFromSeed(Buffer.alloc(31))).toThrow(RangeError);
    expect(() => idOfPublicKey(Buffer.alloc(33))).toThrow(RangeError);
  });
});
