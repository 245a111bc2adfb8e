import { type KeyObject, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import sodium from 'sodium-native';
import type { GossipVerdict, MessageAuthenticator } from '../core/broadcast/authenticator.js';
import type { Gossip } from '../core/messages.js';
import type { Millis, NodeId } from '../core/types.js';
import {
  ED25519_SEED_BYTES,
  type Identity,
  privateKeyObject,
  publicKeyObjectOfId,
} from '../identity/identity.js';
import type { VerifyPool } from './verify-pool.js';

/**
 * Domain separation: a signature over a broadcast can never be passed off as one over anything
 * else this key signs (Noise handshakes sign nothing with it today, but later uses might).
 */
const GOSSIP_SIGNATURE_CONTEXT = Buffer.from('meshcast/gossip/v1\0', 'ascii');
const ORIGIN_BYTES = 32;
const SEQ_BYTES = 8;
/** Bytes of the signed message before the payload: context || origin || seq. */
const SIGNED_HEADER_BYTES = GOSSIP_SIGNATURE_CONTEXT.length + ORIGIN_BYTES + SEQ_BYTES;
/** A u53 travels as a high and a low u32, as in the codec. */
const U32_RANGE = 0x1_0000_0000;
/** A node id as the codec accepts it: the public key in lower-case hex. */
const NODE_ID_PATTERN = /^[0-9a-f]{64}$/;

/**
 * Public keys decoded for verification, kept so that a busy origin's id is decoded once. 1,024
 * origins cover any LAN mesh; beyond that the oldest is dropped and simply decoded again later.
 */
export const VERIFY_KEY_CACHE_ENTRIES = 1_024;

/**
 * Largest signed message (header + payload) that libsodium signs and verifies, in the signer's
 * reusable buffer; a larger one goes through node:crypto in a buffer of its own. Both compute
 * the same RFC 8032 Ed25519. On the development machine libsodium verifies a 1 KiB message in
 * about half the time node:crypto takes (which sets up an OpenSSL context per call), but its
 * SHA-512 is slower: node:crypto wins from about 64 KiB on (at 1 MiB, verify 2.1 ms against
 * 3.5 ms, sign 3.9 ms against 6.8 ms). The cap also keeps one rare 1 MiB broadcast from pinning
 * a megabyte per node for good.
 */
export const SIGNING_SCRATCH_MAX_BYTES = 64 * 1024;

/** The reusable buffer grows in steps of this much, so a node that sees only small messages keeps a small one. */
const SCRATCH_GROWTH_BYTES = 4 * 1024;

/**
 * Slack between the freshness window and the seen cache's memory: the time between reading the
 * clock and recording the message, and sweeps that run late. Ten seconds is far more than either.
 */
export const REPLAY_MARGIN_MS: Millis = 10_000;

/** Microseconds per millisecond: seq is wall-clock microseconds (see minSeqNow). */
const MICROS_PER_MILLI = 1_000;

/** The bytes an origin signs: context || origin (32) || seq (8, big-endian) || payload. */
export function signedBytes(origin: NodeId, seq: number, payload: Uint8Array): Buffer {
  const bytes = Buffer.allocUnsafe(SIGNED_HEADER_BYTES + payload.length);
  writeSignedBytes(bytes, Buffer.from(origin, 'hex'), seq, payload);
  return bytes;
}

/** Writes signedBytes() into the front of `target`, from the origin's raw 32-byte key. */
function writeSignedBytes(target: Buffer, originKey: Uint8Array, seq: number, payload: Uint8Array): void {
  const contextBytes = GOSSIP_SIGNATURE_CONTEXT.length;
  GOSSIP_SIGNATURE_CONTEXT.copy(target, 0);
  target.set(originKey, contextBytes);
  target.writeUInt32BE(Math.floor(seq / U32_RANGE), contextBytes + ORIGIN_BYTES);
  target.writeUInt32BE(seq % U32_RANGE, contextBytes + ORIGIN_BYTES + 4);
  target.set(payload, SIGNED_HEADER_BYTES);
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
 *
 * libsodium (sodium-native) does the curve work for messages up to SIGNING_SCRATCH_MAX_BYTES,
 * node:crypto for larger ones (see there). Signatures are plain RFC 8032 Ed25519, so either
 * library verifies the other's.
 */
export class GossipSigner implements MessageAuthenticator {
  private readonly self: NodeId;
  private readonly publicKey: Buffer;
  /** libsodium's secret key: the seed, then the public key. */
  private readonly secretKey: Buffer;
  private readonly keys = new Map<NodeId, Buffer>();
  /** node:crypto's keys, imported only once a large message needs them. */
  private largeSigningKey: KeyObject | undefined;
  private readonly largeKeys = new Map<NodeId, KeyObject>();
  private readonly identity: Identity;
  private scratch = Buffer.alloc(0);
  /** The last view message() gave of `scratch`: the next message of the same length reuses it. */
  private scratchView = Buffer.alloc(0);
  private readonly windowMicros: number;
  private readonly wallClock: () => Millis;
  /**
   * Verdicts that checkAhead() got from the pool, by the signature they are about; verify() takes
   * one only for the very payload it was reached over.
   */
  private readonly checked = new WeakMap<
    Uint8Array,
    { readonly payload: Uint8Array; readonly valid: boolean }
  >();

  constructor(
    identity: Identity,
    seenCacheMaxAge: Millis,
    wallClock: () => Millis = Date.now,
    /** Worker threads to check signatures on (see checkAhead); without it verify() checks inline. */
    private readonly pool?: VerifyPool,
  ) {
    this.self = identity.id;
    this.identity = identity;
    // Derived from the seed, as node:crypto signed before: the seed is the private key proper.
    this.publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES);
    this.secretKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES);
    const seed = identity.secretKey.subarray(0, ED25519_SEED_BYTES);
    sodium.crypto_sign_seed_keypair(this.publicKey, this.secretKey, seed);
    this.windowMicros = freshnessWindow(seenCacheMaxAge) * MICROS_PER_MILLI;
    this.wallClock = wallClock;
  }

  sign(origin: NodeId, seq: number, payload: Uint8Array): Uint8Array {
    if (origin !== this.self) throw new Error('a node signs only the broadcasts it originates');
    if (SIGNED_HEADER_BYTES + payload.length > SIGNING_SCRATCH_MAX_BYTES) {
      this.largeSigningKey ??= privateKeyObject(this.identity);
      return nodeSign(null, signedBytes(origin, seq, payload), this.largeSigningKey);
    }
    const signature = Buffer.alloc(sodium.crypto_sign_BYTES);
    sodium.crypto_sign_detached(signature, this.message(this.publicKey, seq, payload), this.secretKey);
    return signature;
  }

  verify(origin: NodeId, seq: number, payload: Uint8Array, signature: Uint8Array | undefined): GossipVerdict {
    // libsodium throws on a wrongly sized signature; any length but 64 is simply not a signature.
    if (signature === undefined || signature.length !== sodium.crypto_sign_BYTES) return 'forged';
    const ahead = this.checked.get(signature);
    if (ahead !== undefined) this.checked.delete(signature);
    const genuine =
      ahead !== undefined && ahead.payload === payload
        ? ahead.valid
        : this.verifies(origin, seq, payload, signature);
    if (!genuine) return 'forged';
    const skew = seq - minSeqNow(this.wallClock);
    return Math.abs(skew) <= this.windowMicros ? 'valid' : 'stale';
  }

  /**
   * Starts checking a received broadcast's signature on the pool's worker threads, and calls
   * `ready` once the verdict is in: verify() then uses it instead of checking on the event loop.
   * Returns false, and never calls `ready`, when verify() had better check inline: no pool, no
   * worker ready, a pool at its queue limit, a message too large for libsodium's path, or no
   * signature worth checking.
   */
  checkAhead(message: Gossip, ready: () => void): boolean {
    const { origin, seq, payload, signature } = message;
    if (this.pool === undefined || signature === undefined || signature.length !== sodium.crypto_sign_BYTES) {
      return false;
    }
    if (SIGNED_HEADER_BYTES + payload.length > SIGNING_SCRATCH_MAX_BYTES) return false;
    const key = this.originKey(origin);
    if (key === undefined) return false;
    return this.pool.submit(signature, key, this.message(key, seq, payload), (valid) => {
      // An undecided check (a quiet turn's, or a failed worker's) is done here, as without a pool.
      this.checked.set(signature, {
        payload,
        valid: valid ?? this.verifies(origin, seq, payload, signature),
      });
      ready();
    });
  }

  /** Whether `signature` is the origin's over the message; false for an origin that is no node id. */
  private verifies(origin: NodeId, seq: number, payload: Uint8Array, signature: Uint8Array): boolean {
    if (SIGNED_HEADER_BYTES + payload.length > SIGNING_SCRATCH_MAX_BYTES) {
      const key = this.largeKey(origin);
      return key !== undefined && nodeVerifies(signedBytes(origin, seq, payload), key, signature);
    }
    const key = this.originKey(origin);
    if (key === undefined) return false;
    return sodium.crypto_sign_verify_detached(signature, this.message(key, seq, payload), key);
  }

  /** signedBytes() in the reusable buffer (at most SIGNING_SCRATCH_MAX_BYTES); valid until the next call. */
  private message(originKey: Uint8Array, seq: number, payload: Uint8Array): Buffer {
    const length = SIGNED_HEADER_BYTES + payload.length;
    if (length > this.scratch.length) {
      const grown = Math.ceil(length / SCRATCH_GROWTH_BYTES) * SCRATCH_GROWTH_BYTES;
      this.scratch = Buffer.allocUnsafeSlow(Math.min(grown, SIGNING_SCRATCH_MAX_BYTES));
    }
    const target = this.scratch;
    writeSignedBytes(target, originKey, seq, payload);
    // Broadcasts are mostly of one size: a view per message checked was ~2% of what a node
    // allocated per broadcast (a 10-node benchmark). The scratch is replaced only for a longer
    // message, so a view of this length is of the current scratch.
    if (this.scratchView.length !== length) {
      this.scratchView = target.subarray(0, length);
    }
    return this.scratchView;
  }

  /** The origin's raw public key, undefined if `origin` is no node id. */
  private originKey(origin: NodeId): Buffer | undefined {
    const cached = this.keys.get(origin);
    if (cached !== undefined) return cached;
    if (!NODE_ID_PATTERN.test(origin)) return undefined;
    const key = Buffer.from(origin, 'hex');
    remember(this.keys, origin, key);
    return key;
  }

  /** The origin's key as node:crypto verifies with it, undefined if `origin` is no key OpenSSL accepts. */
  private largeKey(origin: NodeId): KeyObject | undefined {
    const cached = this.largeKeys.get(origin);
    if (cached !== undefined) return cached;
    const key = publicKeyObjectOfId(origin);
    if (key !== undefined) remember(this.largeKeys, origin, key);
    return key;
  }
}

/** Caches a verification key, dropping the oldest beyond VERIFY_KEY_CACHE_ENTRIES. */
function remember<K>(keys: Map<NodeId, K>, origin: NodeId, key: K): void {
  if (keys.size >= VERIFY_KEY_CACHE_ENTRIES) {
    const oldest = keys.keys().next();
    if (!oldest.done) keys.delete(oldest.value);
  }
  keys.set(origin, key);
}

/** OpenSSL's verdict; a signature it cannot even parse is as forged as a wrong one. */
function nodeVerifies(data: Buffer, key: KeyObject, signature: Uint8Array): boolean {
  try {
    return nodeVerify(null, data, key, signature);
  } catch {
    return false;
  }
}
