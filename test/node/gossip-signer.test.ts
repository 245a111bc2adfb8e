import { createPublicKey, sign, verify } from 'node:crypto';
import sodium from 'sodium-native';
import { describe, expect, it } from 'vitest';
import { generateIdentity, privateKeyObject } from '../../src/identity/identity.js';
import {
  freshnessWindow,
  GossipSigner,
  minSeqNow,
  REPLAY_MARGIN_MS,
  SIGNING_SCRATCH_MAX_BYTES,
  signedBytes,
} from '../../src/node/gossip-signer.js';

const SEEN_CACHE_MAX_AGE = 60_000;
const NOW = 1_800_000_000_000;
const clock = () => NOW;
const alice = generateIdentity();
const mallory = generateIdentity();
const seq = minSeqNow(clock);
const payload = new Uint8Array([1, 2, 3, 4]);

describe('GossipSigner', () => {
  const aliceSigner = new GossipSigner(alice, SEEN_CACHE_MAX_AGE, clock);
  const verifier = new GossipSigner(generateIdentity(), SEEN_CACHE_MAX_AGE, clock);
  const signature = aliceSigner.sign(alice.id, seq, payload);

  it('accepts what the origin signed, with a 64-byte Ed25519 signature', () => {
    expect(signature).toHaveLength(64);
    expect(verifier.verify(alice.id, seq, payload, signature)).toBe('valid');
    // Verification keys are cached: a second check gives the same answer.
    expect(verifier.verify(alice.id, seq, payload, signature)).toBe('valid');
  });

  it('calls forged an altered payload or seq, another origin, or no signature at all', () => {
    expect(verifier.verify(alice.id, seq, new Uint8Array([1, 2, 3, 5]), signature)).toBe('forged');
    expect(verifier.verify(alice.id, seq + 1, payload, signature)).toBe('forged');
    expect(verifier.verify(mallory.id, seq, payload, signature)).toBe('forged');
    const claimed = new GossipSigner(mallory, SEEN_CACHE_MAX_AGE, clock).sign(mallory.id, seq, payload);
    expect(verifier.verify(alice.id, seq, payload, claimed)).toBe('forged');
    expect(verifier.verify(alice.id, seq, payload, undefined)).toBe('forged');
    expect(verifier.verify(alice.id, seq, payload, new Uint8Array(0))).toBe('forged');
    expect(verifier.verify(alice.id, seq, payload, signature.subarray(0, 63))).toBe('forged');
    expect(verifier.verify('not a node id', seq, payload, signature)).toBe('forged');
  });

  it('signs only broadcasts its own node originates', () => {
    expect(() => aliceSigner.sign(mallory.id, seq, payload)).toThrow(
      'a node signs only the broadcasts it originates',
    );
  });

  it('is domain-separated: a signature over the bare fields does not verify', () => {
    const bare = signedBytes(alice.id, seq, payload).subarray('meshcast/gossip/v1\0'.length);
    const signatureOfBare = sign(null, bare, privateKeyObject(alice));
    expect(verifier.verify(alice.id, seq, payload, signatureOfBare)).toBe('forged');
  });

  it('signs plain RFC 8032 Ed25519 over signedBytes, which node:crypto verifies and signs alike', () => {
    const publicKey = createPublicKey(privateKeyObject(alice));
    expect(verify(null, signedBytes(alice.id, seq, payload), publicKey, signature)).toBe(true);
    const byNodeCrypto = sign(null, signedBytes(alice.id, seq, payload), privateKeyObject(alice));
    expect(verifier.verify(alice.id, seq, payload, byNodeCrypto)).toBe('valid');
  });

  it('verifies the signatures of either library on either side of the libsodium / node:crypto size split', () => {
    const publicKey = Buffer.alloc(32);
    const secretKey = Buffer.alloc(64);
    sodium.crypto_sign_seed_keypair(publicKey, secretKey, alice.secretKey.subarray(0, 32));
    for (const size of [10, SIGNING_SCRATCH_MAX_BYTES, SIGNING_SCRATCH_MAX_BYTES + 1, 200_000]) {
      const data = new Uint8Array(size).fill(size % 251);
      const message = signedBytes(alice.id, seq, data);
      const bySodium = Buffer.alloc(64);
      sodium.crypto_sign_detached(bySodium, message, secretKey);
      const byNodeCrypto = sign(null, message, privateKeyObject(alice));
      expect(verifier.verify(alice.id, seq, data, bySodium)).toBe('valid');
      expect(verifier.verify(alice.id, seq, data, byNodeCrypto)).toBe('valid');
      expect(Buffer.from(aliceSigner.sign(alice.id, seq, data))).toEqual(byNodeCrypto);
    }
  });

  it('calls forged, without throwing, a signature of any length but 64 or one of zeros', () => {
    const longer = new Uint8Array(65);
    longer.set(signature);
    expect(verifier.verify(alice.id, seq, payload, longer)).toBe('forged');
    expect(verifier.verify(alice.id, seq, payload, new Uint8Array(64))).toBe('forged');
    expect(verifier.verify('0'.repeat(64), seq, payload, signature)).toBe('forged');
  });

  it('gives the same verdicts whatever the payload size, before and after a large message', () => {
    const sizes = [
      0,
      1,
      1024,
      5000,
      SIGNING_SCRATCH_MAX_BYTES,
      SIGNING_SCRATCH_MAX_BYTES + 1,
      300,
      70_000,
      3,
    ];
    const messages = sizes.map((size, i) => {
      const data = new Uint8Array(size).fill(i + 1);
      return { data, signature: aliceSigner.sign(alice.id, seq + i, data) };
    });
    messages.forEach(({ data, signature: sig }, i) => {
      expect(verifier.verify(alice.id, seq + i, data, sig)).toBe('valid');
      if (data.length > 0) {
        const altered = new Uint8Array(data);
        altered[0] = (data[0] as number) ^ 1;
        expect(verifier.verify(alice.id, seq + i, altered, sig)).toBe('forged');
      }
    });
  });

  it('calls stale a genuine message whose send time is outside the window, either way', () => {
    const windowMicros = freshnessWindow(SEEN_CACHE_MAX_AGE) * 1_000;
    for (const [offset, verdict] of [
      [-windowMicros, 'valid'],
      [windowMicros, 'valid'],
      [-windowMicros - 1, 'stale'],
      [windowMicros + 1, 'stale'],
      [-3_600_000_000, 'stale'],
    ] as const) {
      const at = seq + offset;
      expect(verifier.verify(alice.id, at, payload, aliceSigner.sign(alice.id, at, payload))).toBe(verdict);
    }
  });
});

describe('freshnessWindow', () => {
  it('fits twice into the seen cache memory with the margin to spare', () => {
    expect(freshnessWindow(60_000)).toBe(25_000);
    expect(2 * freshnessWindow(30_000) + REPLAY_MARGIN_MS).toBe(30_000);
  });

  it('refuses a seen cache too short to guard any window', () => {
    expect(() => freshnessWindow(REPLAY_MARGIN_MS)).toThrow(RangeError);
  });
});
