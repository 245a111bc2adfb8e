import { performance } from 'node:perf_hooks';

/**
 * What every benchmark message carries in front of its padding: which measurement it belongs to,
 * its index there and when it was published, so any process can time its delivery on its own.
 */
export interface PayloadHeader {
  readonly phase: MessagePhase;
  readonly index: number;
  /** Wall-clock milliseconds with sub-millisecond precision (see now()). */
  readonly publishedAt: number;
}

/** Message families, so that a straggler from one phase never counts in the next. */
export const MessagePhase = {
  warmup: 1,
  latencyNode0: 2,
  latencyRandom: 3,
  throughput: 4,
  churn: 5,
} as const;
export type MessagePhase = (typeof MessagePhase)[keyof typeof MessagePhase];

const MAGIC = 0x6d63_6263; // "mcbc": a payload that does not start with it is not ours
/** magic u32, phase u8, index u32, publishedAt f64. */
export const HEADER_BYTES = 17;

/**
 * The scenario's clock: `performance.timeOrigin + performance.now()` is monotonic within a process
 * and agrees across the processes of a multi-process run to well under a millisecond.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** A payload of `size` bytes (at least the header) stamped with the current time. */
export function makePayload(phase: MessagePhase, index: number, size: number): Uint8Array {
  const bytes = new Uint8Array(Math.max(size, HEADER_BYTES));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC);
  view.setUint8(4, phase);
  view.setUint32(5, index);
  view.setFloat64(9, now());
  return bytes;
}

export function readHeader(payload: Uint8Array): PayloadHeader | undefined {
  if (payload.length < HEADER_BYTES) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (view.getUint32(0) !== MAGIC) return undefined;
  const phase = view.getUint8(4);
  if (phase < MessagePhase.warmup || phase > MessagePhase.churn) return undefined;
  return { phase: phase as MessagePhase, index: view.getUint32(5), publishedAt: view.getFloat64(9) };
}
