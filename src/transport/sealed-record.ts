import { LENGTH_PREFIX_BYTES } from '../codec/index.js';

/**
 * Bytes a sealed record adds to a frame body: libsodium secretstream's one-byte tag and 16-byte MAC
 * (crypto_secretstream_xchacha20poly1305_ABYTES). Kept here, free of the native binding, so that
 * the simulator can size records without loading it; secure-channel.ts checks it against the
 * library's own constant when it loads.
 */
export const SEAL_OVERHEAD_BYTES = 17;

/** Bytes on the wire for a frame body of `bodyLength` bytes: length prefix, sealed body, seal. */
export function sealedRecordBytes(bodyLength: number): number {
  return LENGTH_PREFIX_BYTES + bodyLength + SEAL_OVERHEAD_BYTES;
}
