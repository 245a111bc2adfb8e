import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_FRAME_BYTES,
  decodeBody,
  encodeFrame,
  LENGTH_PREFIX_BYTES,
} from '../../src/codec/index.js';
import type { ProtocolAction } from '../../src/core/actions.js';
import { MAX_INITIAL_SEQ } from '../../src/core/broadcast/flood.js';
import { MAX_WALK_LENGTH, SHUFFLE_PEERS_LIMIT } from '../../src/core/membership/options.js';
import type { ProtocolMessage } from '../../src/core/messages.js';
import { Protocol, type ProtocolOptions } from '../../src/core/protocol.js';
import { seededRandom } from '../../src/core/random.js';
import type { PeerInfo } from '../../src/core/types.js';

/**
 * The codec's contract with the core: whatever a Protocol emits with the options it accepts must
 * encode, fit the frame limit a peer reads with, and decode again; the options refuse the rest.
 * Before, a walk length of 256 or a shuffle of thousands was accepted, and every ForwardJoin or
 * Shuffle was then dropped at the encoder, silently but for a log line.
 */

/** A wire-valid address card for test peer `n`. */
function card(n: number): PeerInfo {
  return {
    id: n.toString(16).padStart(64, '0'),
    address: `10.${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${n & 0xff}:49200`,
  };
}

function sent(actions: readonly ProtocolAction[], type: ProtocolMessage['type']): ProtocolMessage[] {
  const out: ProtocolMessage[] = [];
  for (const action of actions)
    if (action.type === 'send' && action.message.type === type) out.push(action.message);
  return out;
}

/** What an honest peer with default limits gets: the frame must encode, fit, and decode. */
function expectCarried(messages: readonly ProtocolMessage[]): void {
  expect(messages.length).toBeGreaterThan(0);
  for (const message of messages) {
    const frame = encodeFrame(message);
    expect(frame.length - LENGTH_PREFIX_BYTES).toBeLessThanOrEqual(DEFAULT_MAX_FRAME_BYTES);
    expect(decodeBody(frame.subarray(LENGTH_PREFIX_BYTES)).ok).toBe(true);
  }
}

function protocolWith(options: Partial<ProtocolOptions>): Protocol {
  return new Protocol(card(0), options, seededRandom(1));
}

function neighbour(protocol: Protocol, n: number): void {
  protocol.handle({ type: 'message', from: card(n), message: { type: 'neighbor', priority: 'high' } }, 0);
}

describe('the options accept what a frame carries, and nothing more', () => {
  it('walks as long as a ttl byte holds', () => {
    const joined = protocolWith({
      activeRandomWalkLength: MAX_WALK_LENGTH,
      passiveRandomWalkLength: MAX_WALK_LENGTH,
    });
    neighbour(joined, 1);
    neighbour(joined, 2);
    expectCarried(
      sent(joined.handle({ type: 'message', from: card(3), message: { type: 'join' } }, 0), 'forwardJoin'),
    );
    const shuffler = protocolWith({ shuffleTtl: MAX_WALK_LENGTH });
    neighbour(shuffler, 1);
    expectCarried(sent(shuffler.handle({ type: 'timer', timer: { type: 'shuffle' } }, 10_000), 'shuffle'));
    for (const name of ['activeRandomWalkLength', 'passiveRandomWalkLength', 'shuffleTtl'] as const) {
      expect(() => protocolWith({ [name]: MAX_WALK_LENGTH + 1 })).toThrow(RangeError);
    }
  });

  it('shuffles as many peers as a receiver takes', () => {
    const half = SHUFFLE_PEERS_LIMIT / 2;
    const protocol = protocolWith({
      passiveViewSize: 100,
      shuffleActiveCount: half,
      shufflePassiveCount: half,
    });
    for (let n = 2; n < 102; n++) protocol.handle({ type: 'discovered', peer: card(n) }, 0);
    neighbour(protocol, 1);
    expectCarried(sent(protocol.handle({ type: 'timer', timer: { type: 'shuffle' } }, 10_000), 'shuffle'));
    expect(() => protocolWith({ shuffleActiveCount: half, shufflePassiveCount: half + 1 })).toThrow(
      RangeError,
    );
  });

  it('numbers broadcasts within the 53 bits a seq travels in', () => {
    const protocol = protocolWith({ initialSeq: MAX_INITIAL_SEQ });
    neighbour(protocol, 1);
    for (let i = 0; i < 3; i++) {
      expectCarried(sent(protocol.handle({ type: 'broadcast', payload: new Uint8Array([i]) }, i), 'gossip'));
    }
    expect(() => protocolWith({ initialSeq: MAX_INITIAL_SEQ + 1 })).toThrow(RangeError);
  });
});
