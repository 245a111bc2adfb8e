import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AUTHENTICATED_BEACON_BYTES,
  BEACON_MAC_BYTES,
  decodeAuthenticatedBeacon,
  encodeAuthenticatedBeacon,
} from '../../src/codec/beacon.js';
import {
  BEACON_BYTES,
  BEACON_VERSION,
  type Beacon,
  DecodeError,
  type DecodeErrorReason,
  decodeBeacon,
  encodeBeacon,
} from '../../src/codec/index.js';
import { beaconArb } from './arbitraries.js';
import { expectReason, hex } from './helpers.js';

const ID = 'ef'.repeat(32);
const TAG = 'cd'.repeat(32);
const MAGIC = Buffer.from('MCST').toString('hex');

describe('beacon', () => {
  it('round-trips any beacon', () => {
    fc.assert(
      fc.property(beaconArb, (beacon) => {
        expect(decodeBeacon(encodeBeacon(beacon))).toEqual({ ok: true, value: beacon });
      }),
    );
  });

  it('has the documented layout: magic, version, flags, id, port, overlay tag', () => {
    const beacon: Beacon = { id: ID, port: 0xbeef, wantsPeers: true, tag: TAG };
    expect(encodeBeacon(beacon)).toEqual(hex(MAGIC, '02 01', ID, 'beef', TAG));
    expect(encodeBeacon({ ...beacon, wantsPeers: false })).toEqual(hex(MAGIC, '02 00', ID, 'beef', TAG));
    expect(BEACON_BYTES).toBe(72);
  });

  it('ignores reserved flag bits so that later versions can set them', () => {
    expect(decodeBeacon(hex(MAGIC, '02 fe', ID, '0050', TAG))).toEqual({
      ok: true,
      value: { id: ID, port: 80, wantsPeers: false, tag: TAG },
    });
    expect(decodeBeacon(hex(MAGIC, '02 ff', ID, '0050', TAG))).toMatchObject({ value: { wantsPeers: true } });
  });

  it.each([
    ['an empty datagram', hex(''), 'truncated'],
    ['a partial magic', hex('4d43'), 'truncated'],
    ['a datagram shorter than the magic, whatever its bytes', hex('4854'), 'truncated'],
    ['magic without a version', hex(MAGIC), 'truncated'],
    ['a beacon missing its last byte', hex(MAGIC, '02 00', ID, '0050', TAG.slice(0, -2)), 'truncated'],
    ['another application', hex('48545450 02 00', ID, '0050', TAG), 'bad-magic'],
    ['lower-case magic', hex(Buffer.from('mcst').toString('hex'), '02 00', ID, '0050', TAG), 'bad-magic'],
    ['version 3, whatever its length', hex(MAGIC, '03 00', ID, '0050 0000'), 'bad-version'],
    ['version 1, from before the overlay tag', hex(MAGIC, '01 00', ID, '0050'), 'bad-version'],
    ['version 0', hex(MAGIC, '00 00', ID, '0050', TAG), 'bad-version'],
    [
      'an appended MAC this build does not know',
      hex(MAGIC, '02 00', ID, '0050', TAG, 'aa'.repeat(16)),
      'trailing-bytes',
    ],
  ] satisfies [string, Buffer, DecodeErrorReason][])('rejects %s as %s', (_label, datagram, reason) => {
    expectReason(decodeBeacon(datagram), reason);
  });

  it('never throws on random datagrams', () => {
    const datagramArb = fc.oneof(
      fc.uint8Array({ maxLength: 120 }),
      fc
        .uint8Array({ maxLength: 100 })
        .map((rest) => Buffer.concat([Buffer.from('MCST'), Buffer.from([BEACON_VERSION]), rest])),
    );
    fc.assert(
      fc.property(datagramArb, (datagram) => {
        const result = decodeBeacon(datagram);
        if (!result.ok) expect(result.error).toBeInstanceOf(DecodeError);
        else expect(datagram.length).toBe(BEACON_BYTES);
      }),
      { numRuns: 1500 },
    );
  });

  it('throws for a beacon this process should never have built', () => {
    expect(() => encodeBeacon({ id: 'nope', port: 1, wantsPeers: false, tag: TAG })).toThrow(TypeError);
    expect(() => encodeBeacon({ id: ID, port: 70_000, wantsPeers: false, tag: TAG })).toThrow(RangeError);
    expect(() => encodeBeacon({ id: ID, port: 1, wantsPeers: false, tag: 'nope' })).toThrow(TypeError);
  });
});

describe('authenticated beacon (private networks)', () => {
  const KEY = Buffer.alloc(32, 0x11);
  const OTHER_KEY = Buffer.alloc(32, 0x22);
  const sentAtArb = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

  it('round-trips any beacon and send time under the same key', () => {
    fc.assert(
      fc.property(beaconArb, sentAtArb, (beacon, sentAt) => {
        const datagram = encodeAuthenticatedBeacon({ ...beacon, sentAt }, KEY);
        expect(datagram).toHaveLength(AUTHENTICATED_BEACON_BYTES);
        expect(decodeAuthenticatedBeacon(datagram, KEY)).toEqual({ ok: true, value: { ...beacon, sentAt } });
      }),
    );
  });

  it('is the open beacon, then the u53 send time, then a 16-byte MAC', () => {
    const beacon: Beacon = { id: ID, port: 0xbeef, wantsPeers: true, tag: TAG };
    const datagram = encodeAuthenticatedBeacon({ ...beacon, sentAt: 0x0102_0304_0506 }, KEY);
    expect(datagram.subarray(0, BEACON_BYTES)).toEqual(encodeBeacon(beacon));
    expect(datagram.subarray(BEACON_BYTES, BEACON_BYTES + 8)).toEqual(hex('0000 0102 0304 0506'));
    expect(AUTHENTICATED_BEACON_BYTES).toBe(BEACON_BYTES + 8 + BEACON_MAC_BYTES);
  });

  it('fails to verify under another key, or with any byte changed', () => {
    fc.assert(
      fc.property(
        beaconArb,
        sentAtArb,
        fc.nat(AUTHENTICATED_BEACON_BYTES - 1),
        fc.integer({ min: 1, max: 255 }),
        (beacon, sentAt, at, flip) => {
          const datagram = encodeAuthenticatedBeacon({ ...beacon, sentAt }, KEY);
          expect(decodeAuthenticatedBeacon(datagram, OTHER_KEY).ok).toBe(false);
          const forged = Buffer.from(datagram);
          forged[at] = (forged[at] as number) ^ flip;
          expect(decodeAuthenticatedBeacon(forged, KEY).ok).toBe(false);
        },
      ),
    );
  });

  it.each([
    ['an open beacon', () => encodeBeacon({ id: ID, port: 80, wantsPeers: false, tag: TAG }), 'truncated'],
    [
      'a truncated MAC',
      () =>
        encodeAuthenticatedBeacon({ id: ID, port: 80, wantsPeers: false, tag: TAG, sentAt: 1 }, KEY).subarray(
          0,
          AUTHENTICATED_BEACON_BYTES - 4,
        ),
      'truncated',
    ],
    [
      'a byte after the MAC',
      () =>
        Buffer.concat([
          encodeAuthenticatedBeacon({ id: ID, port: 80, wantsPeers: false, tag: TAG, sentAt: 1 }, KEY),
          hex('00'),
        ]),
      'trailing-bytes',
    ],
    [
      'a wrong MAC',
      () =>
        Buffer.concat([
          encodeBeacon({ id: ID, port: 80, wantsPeers: false, tag: TAG }),
          hex('0000 0000 0000 0001'),
          Buffer.alloc(16),
        ]),
      'bad-field',
    ],
  ] satisfies [string, () => Buffer, DecodeErrorReason][])('rejects %s as %s', (_label, datagram, reason) => {
    expectReason(decodeAuthenticatedBeacon(datagram(), KEY), reason);
  });

  it('never throws on random datagrams', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (datagram) => {
        const result = decodeAuthenticatedBeacon(datagram, KEY);
        if (!result.ok) expect(result.error).toBeInstanceOf(DecodeError);
      }),
      { numRuns: 1000 },
    );
  });
});
