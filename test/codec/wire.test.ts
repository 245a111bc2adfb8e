import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_FRAME_BYTES,
  decodeBody,
  encodeFrame,
  frameBodyBytes,
  LENGTH_PREFIX_BYTES,
  MAX_APPLICATION_PAYLOAD_BYTES,
  MESSAGE_TYPE_CODES,
  PROTOCOL_VERSION,
} from '../../src/codec/index.js';
import type { WireMessage } from '../../src/core/messages.js';
import { messageArbs, wireMessageArb } from './arbitraries.js';
import { bodyOf, decodeOk, hex } from './helpers.js';

const ID_A = 'ab'.repeat(32);
const ID_B = '0123456789abcdef'.repeat(4);

describe('encodeFrame / decodeBody round trip', () => {
  for (const [type, arb] of Object.entries(messageArbs)) {
    it(`${type} survives the round trip`, () => {
      fc.assert(
        fc.property(arb as fc.Arbitrary<WireMessage>, (message) => {
          expect(decodeOk(bodyOf(encodeFrame(message)))).toEqual(message);
        }),
        { numRuns: 150 },
      );
    });
  }

  it('prefixes every frame with the length of what follows, the version and the type', () => {
    fc.assert(
      fc.property(wireMessageArb, (message) => {
        const frame = encodeFrame(message);
        expect(frame.readUInt32BE(0)).toBe(frame.length - 4);
        expect(frame[4]).toBe(PROTOCOL_VERSION);
        expect(frame[5]).toBe(MESSAGE_TYPE_CODES[message.type]);
      }),
    );
  });
});

/** The addresses a message carries on the wire, each one field. */
function addressesOf(message: WireMessage): string[] {
  switch (message.type) {
    case 'forwardJoin':
      return [message.peer.address];
    case 'shuffle':
      return [message.origin.address, ...message.peers.map((peer) => peer.address)];
    case 'shuffleReply':
      return message.peers.map((peer) => peer.address);
    default:
      return [];
  }
}

describe('frameBodyBytes', () => {
  it('is the length of the body encodeFrame writes', () => {
    fc.assert(
      fc.property(wireMessageArb, (message) => {
        expect(frameBodyBytes(message)).toBe(encodeFrame(message).length - LENGTH_PREFIX_BYTES);
      }),
    );
  });

  it("counts every address field at the size the caller's sizer gives it", () => {
    const sized = 22;
    fc.assert(
      fc.property(wireMessageArb, (message) => {
        const own = addressesOf(message).reduce((total, address) => total + 1 + address.length, 0);
        const count = addressesOf(message).length;
        expect(frameBodyBytes(message, () => sized)).toBe(frameBodyBytes(message) - own + count * sized);
      }),
    );
  });

  it('refuses an address longer than its u8 length can say, as encodeFrame does', () => {
    const peer = (host: string) => ({ id: ID_A, address: `${host}:65535` });
    expect(frameBodyBytes({ type: 'forwardJoin', peer: peer('x'.repeat(249)), ttl: 1 })).toBe(
      2 + 32 + 256 + 1,
    );
    expect(() => frameBodyBytes({ type: 'forwardJoin', peer: peer('x'.repeat(250)), ttl: 1 })).toThrow(
      /at most 255 bytes/,
    );
  });
});

describe('wire layout (golden bytes, so an accidental layout change fails loudly)', () => {
  it('hello: id, u16 port', () => {
    expect(encodeFrame({ type: 'hello', id: ID_A, listenPort: 0x1234 })).toEqual(
      hex('00000024', '02 01', 'ab'.repeat(32), '1234'),
    );
  });

  it('bodiless messages are just version and type', () => {
    expect(encodeFrame({ type: 'ping' })).toEqual(hex('00000002 02 02'));
    expect(encodeFrame({ type: 'join' })).toEqual(hex('00000002 02 10'));
    expect(encodeFrame({ type: 'relink' })).toEqual(hex('00000002 02 24'));
  });

  it('overlayTag: the tag, then the probe flag', () => {
    expect(encodeFrame({ type: 'overlayTag', tag: ID_A, probe: true })).toEqual(
      hex('00000023 02 17', 'ab'.repeat(32), '01'),
    );
  });

  it('prune: the origin whose tree drops the link', () => {
    expect(encodeFrame({ type: 'prune', origin: ID_A })).toEqual(hex('00000022 02 23', 'ab'.repeat(32)));
  });

  it('neighbor priority, neighborReply and disconnect booleans are one byte', () => {
    expect(encodeFrame({ type: 'neighbor', priority: 'low' })).toEqual(hex('00000003 02 12 00'));
    expect(encodeFrame({ type: 'neighbor', priority: 'high' })).toEqual(hex('00000003 02 12 01'));
    expect(encodeFrame({ type: 'neighborReply', accepted: true })).toEqual(hex('00000003 02 13 01'));
    expect(encodeFrame({ type: 'disconnect', alive: false })).toEqual(hex('00000003 02 14 00'));
  });

  it('shuffle: origin peer, ttl, u16 count, peers with u8-length ASCII addresses', () => {
    const frame = encodeFrame({
      type: 'shuffle',
      origin: { id: ID_A, address: 'a:1' },
      ttl: 6,
      peers: [{ id: ID_B, address: 'b:22' }],
    });
    const addressA = Buffer.from('a:1').toString('hex');
    const addressB = Buffer.from('b:22').toString('hex');
    expect(frame).toEqual(
      hex('0000004e', '02 15', 'ab'.repeat(32), '03', addressA, '06', '0001', ID_B, '04', addressB),
    );
  });

  it('gossip: origin, seq as two u32 halves, hops, u8 signature length, u32 payload length, payload', () => {
    const frame = encodeFrame({
      type: 'gossip',
      origin: ID_A,
      seq: 2 ** 32 + 5,
      hops: 3,
      payload: new Uint8Array([9, 8, 7]),
    });
    expect(frame).toEqual(
      hex('00000033', '02 20', 'ab'.repeat(32), '00000001 00000005', '03', '00', '00000003 090807'),
    );
  });

  it('signed gossip: the 64-byte signature sits between hops and the payload', () => {
    const frame = encodeFrame({
      type: 'gossip',
      origin: ID_A,
      seq: 5,
      hops: 0,
      signature: new Uint8Array(64).fill(0xee),
      payload: new Uint8Array([1]),
    });
    expect(frame).toEqual(
      hex(
        '00000071',
        '02 20',
        'ab'.repeat(32),
        '00000000 00000005',
        '00',
        '40',
        'ee'.repeat(64),
        '00000001 01',
      ),
    );
  });

  it('ihave and graft', () => {
    expect(encodeFrame({ type: 'ihave', entries: [{ origin: ID_B, seq: 1, hops: 255 }] })).toEqual(
      hex('0000002d', '02 21', '0001', ID_B, '00000000 00000001', 'ff'),
    );
    expect(encodeFrame({ type: 'graft', origin: ID_B, seq: Number.MAX_SAFE_INTEGER, request: true })).toEqual(
      hex('0000002b', '02 22', ID_B, '001fffff ffffffff', '01'),
    );
    expect(encodeFrame({ type: 'graft', origin: ID_B, seq: 7, request: false })).toEqual(
      hex('0000002b', '02 22', ID_B, '00000000 00000007', '00'),
    );
  });
});

describe('decoding details', () => {
  it('yields lower-case hex ids whatever the bytes', () => {
    const message = decodeOk(hex('02 01', 'fe'.repeat(32), '0001'));
    expect(message).toEqual({ type: 'hello', id: 'fe'.repeat(32), listenPort: 1 });
  });

  it('hands out the gossip payload as a view into the body, not a copy', () => {
    const body = bodyOf(
      encodeFrame({ type: 'gossip', origin: ID_A, seq: 1, hops: 0, payload: Buffer.from('hi') }),
    );
    const message = decodeOk(body);
    if (message.type !== 'gossip') throw new Error('expected gossip');
    expect(message.payload.buffer).toBe(body.buffer);
    expect(Buffer.from(message.payload).toString()).toBe('hi');
  });

  it('accepts a plain Uint8Array body at a non-zero offset', () => {
    const frame = encodeFrame({ type: 'graft', origin: ID_A, seq: 42, request: true });
    const padded = new Uint8Array(frame.length + 3);
    padded.set(frame, 3);
    const body = new Uint8Array(padded.buffer, 3 + 4, frame.length - 4);
    expect(decodeBody(body)).toEqual({
      ok: true,
      value: { type: 'graft', origin: ID_A, seq: 42, request: true },
    });
  });

  it('a frame carrying the largest application payload fits the default frame limit', () => {
    const payload = new Uint8Array(MAX_APPLICATION_PAYLOAD_BYTES);
    const frame = encodeFrame({ type: 'gossip', origin: ID_A, seq: 1, hops: 0, payload });
    expect(frame.readUInt32BE(0)).toBeLessThanOrEqual(DEFAULT_MAX_FRAME_BYTES);
  });
});

describe('encoding a message this process should never have built', () => {
  const gossip = { type: 'gossip', origin: ID_A, seq: 1, hops: 0, payload: new Uint8Array() } as const;

  it('saturates hops at 255 rather than refusing to forward', () => {
    const message = decodeOk(bodyOf(encodeFrame({ ...gossip, hops: 300 })));
    expect(message).toMatchObject({ hops: 255 });
    const ihave = decodeOk(
      bodyOf(encodeFrame({ type: 'ihave', entries: [{ origin: ID_A, seq: 1, hops: 1000 }] })),
    );
    expect(ihave).toEqual({ type: 'ihave', entries: [{ origin: ID_A, seq: 1, hops: 255 }] });
  });

  it.each([
    ['upper-case id', { ...gossip, origin: ID_A.toUpperCase() }],
    ['short id', { ...gossip, origin: 'ab' }],
    ['non-hex id', { ...gossip, origin: 'zz'.repeat(32) }],
    ['negative seq', { ...gossip, seq: -1 }],
    ['fractional seq', { ...gossip, seq: 1.5 }],
    ['seq of 2^53', { ...gossip, seq: 2 ** 53 }],
    ['negative hops', { ...gossip, hops: -1 }],
    ['NaN hops', { ...gossip, hops: Number.NaN }],
    ['a 63-byte signature', { ...gossip, signature: new Uint8Array(63) }],
    ['ttl of 256', { type: 'forwardJoin', peer: { id: ID_A, address: 'x:1' }, ttl: 256 }],
    ['port of 65536', { type: 'hello', id: ID_A, listenPort: 65_536 }],
    [
      'address of 256 bytes',
      { type: 'forwardJoin', peer: { id: ID_A, address: `${'x'.repeat(250)}:65535` }, ttl: 1 },
    ],
    ['address that is not ASCII', { type: 'shuffleReply', peers: [{ id: ID_A, address: 'é:1' }] }],
    [
      'address with an escape sequence',
      { type: 'forwardJoin', peer: { id: ID_A, address: '\u001b[2J:1' }, ttl: 1 },
    ],
    ['address without a port', { type: 'forwardJoin', peer: { id: ID_A, address: 'x' }, ttl: 1 }],
    [
      'more than 65535 peers',
      { type: 'shuffleReply', peers: Array.from({ length: 65_536 }, () => ({ id: ID_A, address: 'x:1' })) },
    ],
  ] satisfies [string, WireMessage][])('throws for %s', (_label, message) => {
    expect(() => encodeFrame(message)).toThrow(/must be/);
  });
});
