import { describe, expect, it } from 'vitest';
import type { ProtocolMessage } from '../../src/core/messages.js';
import { simPeerInfo } from '../../src/sim/ids.js';
import { BroadcastTracker } from '../../src/sim/metrics.js';

function copy(payload: Uint8Array): ProtocolMessage {
  return { type: 'gossip', origin: simPeerInfo(0).id, seq: 1, hops: 1, payload };
}

function deliver(payload: Uint8Array, hops = 1) {
  return { type: 'deliver', origin: simPeerInfo(0).id, seq: 1, hops, payload } as const;
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

  it("LDH and latency count only the nodes it counts, like 'delivered'", () => {
    const tracker = new BroadcastTracker(1_000);
    // Nodes 0 (origin) to 3 exist when it is sent; node 3 delivers late and far, then leaves.
    const payload = tracker.begin(0, 'churn', 0, 1, 0, 4);
    tracker.onDeliver(1, deliver(payload, 1), 10);
    tracker.onDeliver(2, deliver(payload, 2), 20);
    tracker.onDeliver(3, deliver(payload, 9), 400);
    const result = tracker.finish(0, (node) => node !== 3);
    expect(result).toMatchObject({ live: 3, delivered: 3, ldh: 2, latency: 20 });
  });

  it("RMR counts only the copies received by the nodes it counts, like 'delivered'", () => {
    const tracker = new BroadcastTracker(1_000);
    // Nodes 0 (origin) to 3 exist when it is sent; node 3 crashes during the window, node 4 joins.
    const payload = tracker.begin(0, 'stable', 0, 1, 0, 4);
    for (const node of [1, 2, 3, 4]) {
      tracker.onReceive(node, copy(payload));
      tracker.onDeliver(node, deliver(payload), 10);
    }
    tracker.onReceive(2, copy(payload)); // one duplicate at a counted node
    tracker.onReceive(3, copy(payload)); // and one at the node that crashes
    const result = tracker.finish(0, (node) => node !== 3);
    expect(result).toMatchObject({ live: 3, delivered: 3, payloadsReceived: 3 });
    expect(result?.rmr).toBe(0.5); // 3 copies / 2 deliveries besides the origin's - 1
  });
});
