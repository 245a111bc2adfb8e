import { createHash, createHmac, randomBytes } from 'node:crypto';
import { KeyFileError, readSecretFile, writeSecretFile } from './key-file.js';

/**
 * A private network's shared secret. Nodes holding the same key admit only each other: the link
 * handshake mixes a key derived from it into Noise (pattern XXpsk0) and beacons carry a MAC under
 * another derived key. One derived key per use, so that no two mechanisms ever share a key.
 */
export interface NetworkKey {
  /** Pre-shared key of the Noise XXpsk0 handshake, 32 bytes. */
  readonly handshakeKey: Buffer;
  /** HMAC-SHA256 key of beacon MACs, 32 bytes. */
  readonly beaconKey: Buffer;
  /** First 8 bytes of SHA-256 of the key, hex: tells keys apart in logs without revealing them. */
  readonly fingerprint: string;
}

/** 256 bits, the key size of every primitive it feeds (Noise PSK, HMAC-SHA256). */
export const NETWORK_KEY_BYTES = 32;

/** Environment variable naming a network key file, for when a flag is awkward (services, containers). */
export const NETWORK_KEY_FILE_ENV = 'MESHCAST_NETWORK_KEY_FILE';

const HANDSHAKE_LABEL = 'meshcast/1 noise psk';
const BEACON_LABEL = 'meshcast/1 beacon mac';
const FINGERPRINT_BYTES = 8;

/** Derives the per-use keys of a 32-byte network secret. */
export function networkKeyFromSecret(secret: Uint8Array): NetworkKey {
  if (secret.length !== NETWORK_KEY_BYTES) {
    throw new RangeError(`a network key is ${NETWORK_KEY_BYTES} bytes, got ${secret.length}`);
  }
  const derive = (label: string): Buffer => createHmac('sha256', secret).update(label).digest();
  return {
    handshakeKey: derive(HANDSHAKE_LABEL),
    beaconKey: derive(BEACON_LABEL),
    fingerprint: createHash('sha256').update(secret).digest().subarray(0, FINGERPRINT_BYTES).toString('hex'),
  };
}

/** A fresh network secret. */
export function generateNetworkSecret(): Buffer {
  return randomBytes(NETWORK_KEY_BYTES);
}

/** Writes a new network key file (64 hex characters and a newline, mode 0600); never overwrites. */
export function writeNetworkKeyFile(path: string, secret: Uint8Array = generateNetworkSecret()): NetworkKey {
  // Checked first: a file of the wrong length could be neither loaded nor overwritten.
  const key = networkKeyFromSecret(secret);
  writeSecretFile(path, `${Buffer.from(secret).toString('hex')}\n`);
  return key;
}

/**
 * Whether `value` is a NetworkKey as networkKeyFromSecret() makes it. A JavaScript caller can pass
 * anything (the key file's text, say), and a node given a key that has no keys in it would run in
 * the open network, its beacons unauthenticated.
 */
export function isNetworkKey(value: unknown): value is NetworkKey {
  if (typeof value !== 'object' || value === null) return false;
  const { handshakeKey, beaconKey, fingerprint } = value as Partial<Record<keyof NetworkKey, unknown>>;
  const isKey = (k: unknown): boolean => k instanceof Uint8Array && k.length === NETWORK_KEY_BYTES;
  return isKey(handshakeKey) && isKey(beaconKey) && typeof fingerprint === 'string';
}

/** Reads a network key file written by `meshcast keygen`. */
export function loadNetworkKey(path: string): NetworkKey {
  const text = readSecretFile(path);
  if (text === undefined) throw new KeyFileError(path, `network key file ${path} does not exist`);
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new KeyFileError(
      path,
      `${path} is not a network key: expected 64 hex characters (meshcast keygen)`,
    );
  }
  return networkKeyFromSecret(Buffer.from(hex, 'hex'));
}
