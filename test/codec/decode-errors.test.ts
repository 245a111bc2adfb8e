import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  type DecodeErrorReason,
  type DecodeResult,
  decodeBody,
  encodeFrame,
  MESSAGE_TYPE_CODES,
  PROTOCOL_VERSION,
} from '../../src/codec/index.js';
import type { WireMessage } from '../../src/core/messages.js';
import { wireMessageArb } from './arbitraries.js';
import { bodyOf, expectReason, hex } from './helpers.js';

const ID = 'cd'.repeat(32);
const REASONS: readonly DecodeErrorReason[] = [
  'truncated',
  'oversize',
  'unknown-type',
  'bad-version',
  'bad-field',
  'trailing-bytes',
  'bad-magic',
];
const TYPE_CODES = Object.values(MESSAGE_TYPE_CODES);
const validBodyArb = wireMessageArb.map((message) => bodyOf(encodeFrame(message)));

/** Decoding must return, never throw; a rejection must carry one of the known reasons. */
function decodeSafely(body: Uint8Array): DecodeResult<WireMessage> {
  const result = decodeBody(body);
  if (!result.ok) {
    expect(result.error).toBeInstanceOf(DecodeError);
    expect(REASONS).toContain(result.error.reason);
  }
  return result;
}

/** Strictness: whatever decodes re-encodes to exactly the same bytes (one encoding per message). */
function expectCanonical(body: Uint8Array, result: DecodeResult<WireMessage>): void {
  if (result.ok) expect(bodyOf(encodeFrame(result.value))).toEqual(Buffer.from(body));
}

describe('decodeBody rejects each kind of bad body with its reason', () => {
  it.each([
    ['an empty body', hex(''), 'truncated'],
    ['a version without a type', hex('02'), 'truncated'],
    ['hello missing a port byte', hex('02 01', ID, '12'), 'truncated'],
    ['gossip missing its hops', hex('02 20', ID, '00000000 00000001'), 'truncated'],
    [
      'a payload length that overruns the body',
      hex('02 20', ID, '00000000 00000001 00 00', '00000004 aabbcc'),
      'truncated',
    ],
    ['an address length that overruns the body', hex('02 11', ID, '05 6162', '01'), 'truncated'],
    ['a peer count the remaining bytes cannot hold', hex('02 16 0002', ID, '00'), 'truncated'],
    ['an ihave count of 65535 with no entries', hex('02 21 ffff'), 'truncated'],
    ['type 0x00', hex('02 00'), 'unknown-type'],
    ['type 0x03', hex('02 03'), 'unknown-type'],
    ['type 0xff', hex('02 ff'), 'unknown-type'],
    ['version 0', hex('00 02'), 'bad-version'],
    ['version 1, from before the overlay tag', hex('01 02'), 'bad-version'],
    ['version 3, even with an unknown type', hex('03 ff'), 'bad-version'],
    ['neighbor priority 2', hex('02 12 02'), 'bad-field'],
    ['neighborReply boolean 2', hex('02 13 02'), 'bad-field'],
    ['disconnect boolean 0xff', hex('02 14 ff'), 'bad-field'],
    ['gossip seq of 2^53', hex('02 20', ID, '00200000 00000000 00 00 00000000'), 'bad-field'],
    ['a gossip signature of 1 byte', hex('02 20', ID, '00000000 00000001 00 01 aa 00000000'), 'bad-field'],
    [
      'a gossip signature of 63 bytes',
      hex('02 20', ID, '00000000 00000001 00 3f', 'aa'.repeat(63), '00000000'),
      'bad-field',
    ],
    [
      'a gossip signature of 64 bytes cut short',
      hex('02 20', ID, '00000000 00000001 00 40 aabb'),
      'truncated',
    ],
    ['graft seq of 2^64 - 1', hex('02 22', ID, 'ffffffff ffffffff 01'), 'bad-field'],
    ['graft missing its request flag', hex('02 22', ID, '00000000 00000001'), 'truncated'],
    ['graft request flag 2', hex('02 22', ID, '00000000 00000001 02'), 'bad-field'],
    ['prune missing its origin', hex('02 23', 'ab'.repeat(31)), 'truncated'],
    ['an address that is not ASCII', hex('02 11', ID, '04 ff 3a3130', '01'), 'bad-field'],
    ['an overlong UTF-8 address', hex('02 11', ID, '05 c080 3a3130', '01'), 'bad-field'],
    ['a UTF-8 encoded lone surrogate', hex('02 16 0001', ID, '03 eda080'), 'bad-field'],
    // Addresses end up on screens: an escape sequence in one could rewrite a chat user's terminal.
    ['an address holding an escape sequence', hex('02 11', ID, '07 1b5b324a 3a3130', '01'), 'bad-field'],
    ['an address holding a space', hex('02 11', ID, '05 6120 3a3130', '01'), 'bad-field'],
    ['an address without a port', hex('02 11', ID, '01 61', '01'), 'bad-field'],
    ['an empty address', hex('02 11', ID, '00', '01'), 'bad-field'],
    ['ping with a trailing byte', hex('02 02 00'), 'trailing-bytes'],
    ['hello with a trailing byte', hex('02 01', ID, '1234 00'), 'trailing-bytes'],
    [
      'gossip whose payload is shorter than the rest',
      hex('02 20', ID, '00000000 00000001 00 00', '00000001 aabb'),
      'trailing-bytes',
    ],
  ] satisfies [string, Buffer, DecodeErrorReason][])('%s: %s', (_label, body, reason) => {
    expectReason(decodeBody(body), reason);
  });
});

describe('decodeBody on hostile input', () => {
  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (body) => {
        expectCanonical(body, decodeSafely(body));
      }),
      { numRuns: 1500 },
    );
  });

  it('random bytes behind a valid header never throw, and what decodes is canonical', () => {
    const bodyArb = fc
      .tuple(fc.constantFrom(...TYPE_CODES), fc.uint8Array({ maxLength: 300 }))
      .map(([code, rest]) => Buffer.concat([Buffer.from([PROTOCOL_VERSION, code]), rest]));
    fc.assert(
      fc.property(bodyArb, (body) => {
        expectCanonical(body, decodeSafely(body));
      }),
      { numRuns: 1500 },
    );
  });

  it('a valid body with bytes overwritten never throws, and what decodes is canonical', () => {
    const mutatedArb = fc
      .tuple(
        validBodyArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      )
      .map(([body, edits]) => {
        const mutated = Buffer.from(body);
        for (const [index, byte] of edits) mutated[index % mutated.length] = byte;
        return mutated;
      });
    fc.assert(
      fc.property(mutatedArb, (body) => {
        expectCanonical(body, decodeSafely(body));
      }),
      { numRuns: 1000 },
    );
  });

  it('every proper prefix of a valid body is truncated', () => {
    fc.assert(
      fc.property(validBodyArb, fc.nat(), (body, cut) => {
        expectReason(decodeBody(body.subarray(0, cut % body.length)), 'truncated');
      }),
      { numRuns: 1000 },
    );
  });

  // A body that ends where its memory does: a field cut short there must be 'truncated', not a
  // RangeError out of the decoder (Buffer.from and socket chunks share memory, hiding such a read).
  it('every proper prefix of a valid body, alone in its memory, is truncated', () => {
    expectReason(decodeBody(new Uint8Array(hex('02 20', ID, '00000000 00000001 00 40 aabb'))), 'truncated');
    fc.assert(
      fc.property(validBodyArb, fc.nat(), (body, cut) => {
        expectReason(decodeBody(new Uint8Array(body.subarray(0, cut % body.length))), 'truncated');
      }),
      { numRuns: 1000 },
    );
  });

  it('any bytes after a valid body are trailing bytes', () => {
    fc.assert(
      fc.property(validBodyArb, fc.uint8Array({ minLength: 1, maxLength: 64 }), (body, extra) => {
        expectReason(decodeBody(Buffer.concat([body, extra])), 'trailing-bytes');
      }),
      { numRuns: 500 },
    );
  });
});
