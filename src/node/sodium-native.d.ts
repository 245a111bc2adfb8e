/**
 * Types for the few libsodium functions of sodium-native that message signatures use (the package
 * ships none and no @types package exists). Internal: nothing of them appears in meshcast's public
 * types.
 */

declare module 'sodium-native' {
  /** Length of an Ed25519 signature. */
  export const crypto_sign_BYTES: number;
  /** Length of an Ed25519 public key. */
  export const crypto_sign_PUBLICKEYBYTES: number;
  /** Length of a libsodium Ed25519 secret key: the 32-byte seed, then the public key. */
  export const crypto_sign_SECRETKEYBYTES: number;
  /** Length of an Ed25519 seed. */
  export const crypto_sign_SEEDBYTES: number;
  /** Writes the key pair of a 32-byte seed: the same seed always gives the same keys. */
  export function crypto_sign_seed_keypair(
    publicKey: Uint8Array,
    secretKey: Uint8Array,
    seed: Uint8Array,
  ): void;
  /** Writes the signature of `message` into `signature` (crypto_sign_BYTES long). */
  export function crypto_sign_detached(
    signature: Uint8Array,
    message: Uint8Array,
    secretKey: Uint8Array,
  ): void;
  /** True if `signature` is `publicKey`'s over `message`; throws only on wrongly sized arguments. */
  export function crypto_sign_verify_detached(
    signature: Uint8Array,
    message: Uint8Array,
    publicKey: Uint8Array,
  ): boolean;
}
