/**
 * The program each signature-checking worker thread runs (see verify-pool.ts), as source text.
 *
 * Text rather than a module file because a worker is started from a file path, and that path
 * would differ between the compiled package (dist/node/*.js) and the TypeScript the tests run
 * (src/node/*.ts, which Node 20 cannot load). The program is plain CommonJS and small on purpose.
 *
 * Once it has loaded libsodium the worker posts 'ready'. It shares one SharedArrayBuffer
 * (workerData.shared) with the event loop, which writes a batch of records at its start, each
 *   u32 (big-endian) message length | 64-byte signature | 32-byte public key | message,
 * and posts the batch's length in bytes. The worker writes one byte per record at
 * workerData.verdictsOffset (1: valid, 0: not, 2: libsodium gave no answer), adds one to the
 * 32-bit count of batches finished at workerData.finishedOffset (Atomics: the event loop may read
 * the verdicts as soon as it sees the count, before the message arrives), and posts 'finished'.
 * Sharing the memory, rather than transferring a buffer per batch, matters: buffers allocated on
 * one thread and freed on another grew the process by ~25 MB of malloc arenas in a throughput test.
 */
export const VERIFY_WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const sodium = require(workerData.sodiumPath);
const SIGNATURE = 64;
const KEY = 32;
const shared = Buffer.from(workerData.shared);
const verdicts = workerData.verdictsOffset;
const finished = new Int32Array(workerData.shared, workerData.finishedOffset, 1);
// libsodium (sodium-native) refuses memory backed by a SharedArrayBuffer: each batch is copied out.
const bytes = Buffer.alloc(verdicts);
parentPort.on('message', (batchBytes) => {
  shared.copy(bytes, 0, 0, batchBytes);
  let offset = 0;
  let count = 0;
  while (offset < batchBytes) {
    const length = bytes.readUInt32BE(offset);
    const signature = bytes.subarray(offset + 4, offset + 4 + SIGNATURE);
    const key = bytes.subarray(offset + 4 + SIGNATURE, offset + 4 + SIGNATURE + KEY);
    const start = offset + 4 + SIGNATURE + KEY;
    const valid = sodium.crypto_sign_verify_detached(signature, bytes.subarray(start, start + length), key);
    shared[verdicts + count] = valid === true ? 1 : valid === false ? 0 : 2;
    count++;
    offset = start + length;
  }
  // The count first: a message that found it unchanged would leave the batch unanswered.
  Atomics.add(finished, 0, 1);
  parentPort.postMessage('finished');
});
parentPort.postMessage('ready');
`;

/** Bytes of a record before its message: length, signature, public key. */
export const VERIFY_RECORD_HEADER_BYTES = 4 + 64 + 32;

/**
 * Most bytes of records in one batch: 128 checks of 1 KiB messages take over half of it, and one
 * message of the largest size libsodium's path takes (64 KiB, SIGNING_SCRATCH_MAX_BYTES) fits.
 */
export const VERIFY_BATCH_MAX_BYTES = 256 * 1024;
