import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BEACON_BYTES,
  type Beacon,
  DecodeError,
  type DecodeErrorReason,
  decodeBeacon,
  encodeBeacon,
} from '../../src/codec/index.js';
import { beaconArb } from './arbitraries.js';
import { expectReason, hex } from './helpers.js';

const ID = 'ef'.repeat(32);
const MAGIC = Buffer.from('MCST').toString('hex');

describe('beacon', () => {
  it('round-trips any beacon', () => {
    fc.assert(
      fc.property(beaconArb, (beacon) => {
        expect(decodeBeacon(encodeBeacon(beacon))).toEqual({ ok: true, value: beacon });
      }),
    );
  });

  it('has the documented layout: magic, version, flags, id, port', () => {
    const beacon: Beacon = { id: ID, port: 0xbeef, wantsPeers: true };
    expect(encodeBeacon(beacon)).toEqual(hex(MAGIC, '01 01', ID, 'beef'));
    expect(encodeBeacon({ ...beacon, wantsPeers: false })).toEqual(hex(MAGIC, '01 00', ID, 'beef'));
    expect(BEACON_BYTES).toBe(40);
  });

  it('ignores reserved flag bits so that later versions can set them', () => {
    expect(decodeBeacon(hex(MAGIC, '01 fe', ID, '0050'))).toEqual({
      ok: true,
      value: { id: ID, port: 80, wantsPeers: false },
    });
    expect(decodeBeacon(hex(MAGIC, '01 ff', ID, '0050'))).toMatchObject({ value: { wantsPeers: true } });
  });

  it.each([
    ['an empty datagram', hex(''), 'truncated'],
    ['a partial magic', hex('4d43'), 'truncated'],
    ['magic without a version', hex(MAGIC), 'truncated'],
    ['a beacon missing its last byte', hex(MAGIC, '01 00', ID, '00'), 'truncated'],
    ['another application', hex('48545450 01 00', ID, '0050'), 'bad-magic'],
    ['lower-case magic', hex(Buffer.from('mcst').toString('hex'), '01 00', ID, '0050'), 'bad-magic'],
    ['version 2, whatever its length', hex(MAGIC, '02 00', ID, '0050 0000'), 'bad-version'],
    ['version 0', hex(MAGIC, '00 00', ID, '0050'), 'bad-version'],
    [
      'an appended MAC this build does not know',
      hex(MAGIC, '01 00', ID, '0050', 'aa'.repeat(16)),
      'trailing-bytes',
    ],
  ] satisfies [string, Buffer, DecodeErrorReason][])('rejects %s as %s', (_label, datagram, reason) => {
    expectReason(decodeBeacon(datagram), reason);
  });

  it('never throws on random datagrams', () => {
    const datagramArb = fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc
        .uint8Array({ maxLength: 60 })
        .map((rest) => Buffer.concat([Buffer.from('MCST'), Buffer.from([1]), rest])),
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
    expect(() => encodeBeacon({ id: 'nope', port: 1, wantsPeers: false })).toThrow(TypeError);
    expect(() => encodeBeacon({ id: ID, port: 70_000, wantsPeers: false })).toThrow(RangeError);
  });
});
