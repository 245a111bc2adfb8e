import { sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateIdentity, privateKeyObject } from '../../src/identity/identity.js';
import {
  freshnessWindow,
  GossipSigner,
  minSeqNow,
  REPLAY_MARGIN_MS,
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

  it('is domain-separated: a signature over the bare fields does not verify', () => {
    const bare = signedBytes(alice.id, seq, payload).subarray('meshcast/gossip/v1\0'.length);
    const signatureOfBare = sign(null, bare, privateKeyObject(alice));
    expect(verifier.verify(alice.id, seq, payload, signatureOfBare)).toBe('forged');
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
