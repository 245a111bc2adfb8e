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

const ihave: ProtocolMessage = { type: 'ihave', entries: [] };

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

  it('counts the origin as having delivered, never as a duplicate, even if it sees its own delivery', () => {
    const tracker = new BroadcastTracker(1_000);
    const payload = tracker.begin(0, 'stable', 2, 1, 0, 4);
    tracker.onDeliver(2, deliver(payload, 0), 0);
    const result = tracker.finish(0, () => true);
    expect(result).toMatchObject({ live: 4, delivered: 1, reliability: 0.25, duplicateDeliveries: 0 });
    // Nobody but the origin delivered: no redundancy to speak of.
    expect(result?.rmr).toBeNull();
  });

  it('LDH and latency are the largest over the nodes, not those of the last node counted', () => {
    const tracker = new BroadcastTracker(1_000);
    const payload = tracker.begin(0, 'stable', 0, 1, 100, 3);
    tracker.onDeliver(2, deliver(payload, 1), 130);
    tracker.onDeliver(1, deliver(payload, 3), 150);
    expect(tracker.finish(0, () => true)).toMatchObject({ delivered: 3, ldh: 3, latency: 50 });
  });

  it('a second delivery at one node is one duplicate delivery, and changes neither its hops nor its time', () => {
    const tracker = new BroadcastTracker(1_000);
    const payload = tracker.begin(0, 'stable', 0, 1, 0, 2);
    tracker.onDeliver(1, deliver(payload, 1), 10);
    tracker.onDeliver(1, deliver(payload, 5), 90);
    expect(tracker.finish(0, () => true)).toMatchObject({
      delivered: 2,
      duplicateDeliveries: 1,
      ldh: 1,
      latency: 10,
    });
  });

  it('counts the copies a counted node received even when it never delivered one', () => {
    const tracker = new BroadcastTracker(1_000);
    const payload = tracker.begin(0, 'stable', 0, 1, 0, 3);
    tracker.onReceive(1, copy(payload));
    tracker.onDeliver(1, deliver(payload), 10);
    tracker.onReceive(2, copy(payload)); // e.g. refused: received, not delivered
    expect(tracker.finish(0, () => true)).toMatchObject({ live: 3, delivered: 2, payloadsReceived: 2 });
  });

  it('counts as control the other messages sent during the window only, payload copies apart', () => {
    const tracker = new BroadcastTracker(1_000);
    tracker.onSend(0, ihave); // before the broadcast: not in its window
    const payload = tracker.begin(0, 'stable', 0, 1, 0, 2);
    tracker.onSend(0, copy(payload));
    tracker.onSend(1, ihave);
    tracker.onSend(1, { type: 'prune', origin: simPeerInfo(0).id });
    const result = tracker.finish(0, () => true);
    expect(result?.control).toMatchObject({ ihave: 1, prune: 1, graft: 0 });
    expect(result?.control).not.toHaveProperty('gossip');
    expect(result?.controlTotal).toBe(2);
    expect(tracker.sentByType()).toMatchObject({ gossip: 1, ihave: 2, prune: 1 });
  });

  it("marks only an origin's first broadcast of the run as its first", () => {
    const tracker = new BroadcastTracker(1_000);
    tracker.begin(0, 'stable', 1, 1, 0, 3);
    tracker.begin(1, 'stable', 2, 1, 0, 3);
    tracker.begin(2, 'stable', 1, 1, 0, 3);
    const first = [0, 1, 2].map((index) => tracker.finish(index, () => true)?.originFirst);
    expect(first).toEqual([true, true, false]);
  });

  it('counts a delivery as slow only after more than slowAfter, late ones included, and keeps the slowest', () => {
    const tracker = new BroadcastTracker(250);
    const payload = tracker.begin(0, 'stable', 0, 1, 1_000, 4);
    tracker.onDeliver(1, deliver(payload), 1_250); // exactly slowAfter: not slow
    tracker.onDeliver(2, deliver(payload), 1_300);
    tracker.finish(0, () => true);
    tracker.onDeliver(3, deliver(payload), 1_700);
    expect(tracker.slowDeliveries).toBe(2);
    expect(tracker.slowestDelivery).toBe(700);
  });
});
