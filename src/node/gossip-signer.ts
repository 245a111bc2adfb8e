import { type KeyObject, sign, verify } from 'node:crypto';
import type { GossipVerdict, MessageAuthenticator } from '../core/broadcast/authenticator.js';
import type { Millis, NodeId } from '../core/types.js';
import { type Identity, privateKeyObject, publicKeyObjectOfId } from '../identity/identity.js';

/**
 * Domain separation: a signature over a broadcast can never be passed off as one over anything
 * else this key signs (Noise handshakes sign nothing with it today, but later uses might).
 */
const GOSSIP_SIGNATURE_CONTEXT = Buffer.from('meshcast/gossip/v1\0', 'ascii');
const ORIGIN_BYTES = 32;
const SEQ_BYTES = 8;
/** A u53 travels as a high and a low u32, as in the codec. */
const U32_RANGE = 0x1_0000_0000;

/**
 * Public keys imported for verification, kept so that a busy origin's key is parsed once. 1,024
 * origins cover any LAN mesh; beyond that the oldest import is dropped and simply redone later.
 */
export const VERIFY_KEY_CACHE_ENTRIES = 1_024;

/**
 * Slack between the freshness window and the seen cache's memory: the time between reading the
 * clock and recording the message, and sweeps that run late. Ten seconds is far more than either.
 */
export const REPLAY_MARGIN_MS: Millis = 10_000;

/** Microseconds per millisecond: seq is wall-clock microseconds (see minSeqNow). */
const MICROS_PER_MILLI = 1_000;

/** The bytes an origin signs: context || origin (32) || seq (8, big-endian) || payload. */
export function signedBytes(origin: NodeId, seq: number, payload: Uint8Array): Buffer {
  const contextBytes = GOSSIP_SIGNATURE_CONTEXT.length;
  const bytes = Buffer.allocUnsafe(contextBytes + ORIGIN_BYTES + SEQ_BYTES + payload.length);
  GOSSIP_SIGNATURE_CONTEXT.copy(bytes, 0);
  bytes.write(origin, contextBytes, ORIGIN_BYTES, 'hex');
  bytes.writeUInt32BE(Math.floor(seq / U32_RANGE), contextBytes + ORIGIN_BYTES);
  bytes.writeUInt32BE(seq % U32_RANGE, contextBytes + ORIGIN_BYTES + 4);
  bytes.set(payload, contextBytes + ORIGIN_BYTES + SEQ_BYTES);
  return bytes;
}

/**
 * How far from our clock a broadcast's seq (its send time) may be: half of what the seen cache
 * remembers, less the margin. A message accepted at time r has seq time at most r + w, and a
 * replay at t is accepted only if seq time >= t - w, so t <= r + 2w < r + seenCacheMaxAge: every
 * replay the window lets through is still in the seen cache and dropped as a duplicate.
 * With the default 60 s cache: ±25 s, so the LAN's clocks must agree within 25 s less the delay.
 */
export function freshnessWindow(seenCacheMaxAge: Millis): Millis {
  const window = (seenCacheMaxAge - REPLAY_MARGIN_MS) / 2;
  if (!(window > 0)) {
    throw new RangeError(`seenCacheMaxAge must exceed ${REPLAY_MARGIN_MS} ms when broadcasts are signed`);
  }
  return window;
}

/** The seq a broadcast sent now should have at least: wall-clock microseconds. */
export function minSeqNow(wallClock: () => Millis = Date.now): number {
  return Math.floor(wallClock() * MICROS_PER_MILLI);
}

/**
 * Ed25519 signatures on broadcasts: the node signs what it originates with its identity key, and
 * accepts a received broadcast only if its origin's key (the origin id is the public key) signed
 * it and its seq, read as the send time in wall-clock microseconds, is within the freshness window.
 * The seen cache drops recent replays; the window drops those the cache has forgotten.
 */
export class GossipSigner implements MessageAuthenticator {
  private readonly self: NodeId;
  private readonly privateKey: KeyObject;
  private readonly keys = new Map<NodeId, KeyObject>();
  private readonly windowMicros: number;
  private readonly wallClock: () => Millis;

  constructor(identity: Identity, seenCacheMaxAge: Millis, wallClock: () => Millis = Date.now) {
    this.self = identity.id;
    this.privateKey = privateKeyObject(identity);
    this.windowMicros = freshnessWindow(seenCacheMaxAge) * MICROS_PER_MILLI;
    this.wallClock = wallClock;
  }

  sign(origin: NodeId, seq: number, payload: Uint8Array): Uint8Array {
    if (origin !== this.self) throw new Error('a node signs only the broadcasts it originates');
    return sign(null, signedBytes(origin, seq, payload), this.privateKey);
  }

  verify(origin: NodeId, seq: number, payload: Uint8Array, signature: Uint8Array | undefined): GossipVerdict {
    if (signature === undefined || signature.length === 0) return 'forged';
    const key = this.publicKey(origin);
    if (key === undefined) return 'forged';
    if (!verifies(signedBytes(origin, seq, payload), key, signature)) return 'forged';
    const skew = seq - minSeqNow(this.wallClock);
    return Math.abs(skew) <= this.windowMicros ? 'valid' : 'stale';
  }

  private publicKey(origin: NodeId): KeyObject | undefined {
    const cached = this.keys.get(origin);
    if (cached !== undefined) return cached;
    const key = publicKeyObjectOfId(origin);
    if (key === undefined) return undefined;
    if (this.keys.size >= VERIFY_KEY_CACHE_ENTRIES) {
      const oldest = this.keys.keys().next();
      if (!oldest.done) this.keys.delete(oldest.value);
    }
    this.keys.set(origin, key);
    return key;
  }
}

/** OpenSSL's verdict; a signature it cannot even parse is as forged as a wrong one. */
function verifies(data: Buffer, key: KeyObject, signature: Uint8Array): boolean {
  try {
    return verify(null, data, key, signature);
  } catch {
    return false;
  }
}
