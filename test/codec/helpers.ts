import { expect } from 'vitest';
import {
  type DecodeErrorReason,
  type DecodeResult,
  decodeBody,
  LENGTH_PREFIX_BYTES,
} from '../../src/codec/index.js';
import type { WireMessage } from '../../src/core/messages.js';

/** The frame body: what follows the length prefix. */
export function bodyOf(frame: Buffer): Buffer {
  return frame.subarray(LENGTH_PREFIX_BYTES);
}

export function decodeOk(body: Uint8Array): WireMessage {
  const result = decodeBody(body);
  if (!result.ok) throw new Error(`expected a message, got ${result.error.message}`);
  return result.value;
}

export function expectReason<T>(result: DecodeResult<T>, reason: DecodeErrorReason): void {
  expect(result.ok ? 'ok' : result.error.reason).toBe(reason);
}

/** Builds bytes from hex fragments so hand-written frames read like the layout. */
export function hex(...parts: string[]): Buffer {
  return Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');
}
