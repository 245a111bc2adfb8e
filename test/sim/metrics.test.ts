import { describe, expect, it } from 'vitest';
import type { ProtocolMessage } from '../../src/core/messages.js';
import { simPeerInfo } from '../../src/sim/ids.js';
import { BroadcastTracker } from '../../src/sim/metrics.js';

function copy(payload: Uint8Array): ProtocolMessage {
  return { type: 'gossip', origin: simPeerInfo(0).id, seq: 1, hops: 1, payload };
}

function deliver(payload: Uint8Array) {
  return { type: 'deliver', origin: simPeerInfo(0).id, seq: 1, hops: 1, payload } as const;
}

describe('BroadcastTracker', () => {
  it('counts a late copy that is delivered as one late delivery, and the copy as a late copy', () => {
    const tracker = new BroadcastTracker(1_000);
    const payload = tracker.begin(0, 'stable', 0, 1, 0, 3);
    tracker.finish(0, () => true);
    tracker.onReceive(1, copy(payload));
    tracker.onDeliver(1, deliver(payload), 50);
    tracker.onReceive(2, copy(payload));
    tracker.onDeliver(2, deliver(payload), 60);
    tracker.onReceive(2, copy(payload)); // a duplicate: a copy, not a delivery
    expect(tracker.lateDeliveries).toBe(2);
    expect(tracker.lateCopies).toBe(3);
  });
});
