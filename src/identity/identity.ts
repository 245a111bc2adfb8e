import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { NODE_ID_BYTES, type NodeId } from '../core/types.js';

/**
 * A node's long-term Ed25519 key pair. The node id IS the public key (32 bytes, lower-case hex), so
 * a peer that completes the link handshake has proven it owns the id it goes by.
 */
export interface Identity {
  readonly id: NodeId;
  /** The Ed25519 public key, 32 bytes. */
  readonly publicKey: Buffer;
  /** libsodium layout, 64 bytes: the 32-byte seed, then the public key. Never logged, never sent. */
  readonly secretKey: Buffer;
}

/** Length of an Ed25519 seed (RFC 8032 section 5.1.5): the private key proper. */
export const ED25519_SEED_BYTES = 32;

/** PKCS#8 DER prefix of an Ed25519 private key (RFC 8410 section 7); the 32-byte seed follows it. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** SPKI DER prefix of an Ed25519 public key (RFC 8410 section 4); the 32-byte key follows it. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The identity's private key as node:crypto signs with it. */
export function privateKeyObject(identity: Identity): KeyObject {
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, identity.secretKey.subarray(0, ED25519_SEED_BYTES)]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/**
 * The Ed25519 public key whose node id is `id`, as node:crypto verifies with it; undefined if `id`
 * is not 64 lower-case hex digits or not a key OpenSSL accepts.
 */
export function publicKeyObjectOfId(id: NodeId): KeyObject | undefined {
  if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
  try {
    const der = Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(id, 'hex')]);
    return createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/** A fresh key pair from the OS's random source. */
export function generateIdentity(): Identity {
  const { privateKey } = generateKeyPairSync('ed25519');
  return fromPrivateKey(privateKey);
}

/** The key pair of a 32-byte seed: the same seed always gives the same identity. */
export function identityFromSeed(seed: Uint8Array): Identity {
  if (seed.length !== ED25519_SEED_BYTES) {
    throw new RangeError(`an Ed25519 seed is ${ED25519_SEED_BYTES} bytes, got ${seed.length}`);
  }
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
  return fromPrivateKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
}

/** The seed of an identity: what a key file stores. */
export function seedOf(identity: Identity): Buffer {
  return Buffer.from(identity.secretKey.subarray(0, ED25519_SEED_BYTES));
}

/** The node id of a public key. */
export function idOfPublicKey(publicKey: Uint8Array): NodeId {
  if (publicKey.length !== NODE_ID_BYTES) {
    throw new RangeError(`an Ed25519 public key is ${NODE_ID_BYTES} bytes, got ${publicKey.length}`);
  }
  return Buffer.from(publicKey).toString('hex');
}

function fromPrivateKey(privateKey: KeyObject): Identity {
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519_PREFIX.length);
  // SPKI DER of Ed25519 is a 12-byte header followed by the 32-byte key (RFC 8410 section 4).
  const publicKey = Buffer.from(
    createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(-NODE_ID_BYTES),
  );
  return {
    id: idOfPublicKey(publicKey),
    publicKey,
    secretKey: Buffer.concat([seed, publicKey]),
  };
}
