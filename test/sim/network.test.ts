import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/codec/index.js';
import type { ProtocolMessage } from '../../src/core/messages.js';
import { wireBytes } from '../../src/sim/network.js';
import { SEAL_OVERHEAD_BYTES } from '../../src/transport/sealed-record.js';
import { NetworkHarness, numbered, seqOf } from './network-host.js';

const constant5 = { latency: { kind: 'constant', ms: 5 } } as const;

describe('SimNetwork links', () => {
  it('dials on the first send: up after the handshake (six latencies), first message after seven', () => {
    const net = new NetworkHarness(2, constant5);
    net.send(0, 1, numbered(1));
    net.run();
    expect(net.messagesTo(1)).toMatchObject([{ at: 35, from: 0 }]);
    expect(net.network.counters.dials).toBe(1);
    expect(net.network.currentLink(0, 1)?.dialer).toBe(0);
  });

  it("the responder's messages queued on the dial leave when its handshake ends, a leg before the dialer's", () => {
    const net = new NetworkHarness(2, constant5);
    net.send(0, 1, numbered(1));
    net.send(1, 0, numbered(2)); // 1 uses the link 0 is dialling
    net.run();
    expect(net.messagesTo(0)).toMatchObject([{ at: 30, from: 1 }]);
    expect(net.messagesTo(1)).toMatchObject([{ at: 35, from: 0 }]);
  });

  it('keeps each direction FIFO under random latency, on one shared link', () => {
    const net = new NetworkHarness(2, { latency: { kind: 'uniform', min: 1, max: 50 } }, 7);
    for (let i = 0; i < 300; i++) {
      net.send(0, 1, numbered(i));
      net.send(1, 0, numbered(1000 + i));
      net.run(net.now + (i % 3)); // some sends in the same instant, some apart
    }
    net.run();
    expect(net.messagesTo(1).map(seqOf)).toEqual([...Array(300).keys()]);
    expect(net.messagesTo(0).map(seqOf)).toEqual([...Array(300).keys()].map((i) => 1000 + i));
    expect(net.network.counters.dials).toBe(1);
  });

  it('with per-link latency, every message between a pair takes the same time, in both directions', () => {
    const net = new NetworkHarness(
      3,
      { latency: { kind: 'uniform', min: 1, max: 50 }, latencyPerLink: true },
      3,
    );
    // Links up first (a handshake takes six latencies): then every send leaves at a multiple of 100.
    net.send(0, 1, numbered(-1));
    net.send(0, 2, numbered(-1));
    net.run(1000);
    for (let i = 0; i < 20; i++) {
      net.send(0, 1, numbered(i));
      net.send(1, 0, numbered(i));
      net.send(0, 2, numbered(i));
      net.run(net.now + 100);
    }
    const delays = (to: number, from: number): number[] => {
      const arrivals = net.observed.filter((o) => o.kind === 'message' && o.to === to && o.from === from);
      return arrivals.slice(1).map((o) => o.at % 100);
    };
    const oneLink = new Set(delays(1, 0));
    expect(oneLink.size).toBe(1);
    expect(new Set(delays(0, 1))).toEqual(oneLink);
    expect(new Set(delays(2, 0))).not.toEqual(oneLink);
  });

  it("with per-link latency, a dial takes seven of the pair's latencies, whichever end dials", () => {
    const options = { latency: { kind: 'uniform', min: 1, max: 50 }, latencyPerLink: true } as const;
    const firstArrival = (from: number, to: number): number => {
      const net = new NetworkHarness(2, options, 3);
      net.send(from, to, numbered(1));
      net.run();
      return net.observed[0]?.at ?? -1;
    };
    const net = new NetworkHarness(2, options, 3);
    net.send(0, 1, numbered(1));
    net.run();
    const start = net.now;
    net.send(1, 0, numbered(2));
    net.run();
    const latency = net.now - start;
    expect(firstArrival(0, 1)).toBeCloseTo(7 * latency, 9);
    expect(firstArrival(1, 0)).toBeCloseTo(7 * latency, 9);
  });

  it("the responder's queued messages never arrive before the dialler's end of the link is up", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const net = new NetworkHarness(2, { latency: { kind: 'uniform', min: 1, max: 50 } }, seed);
      net.send(0, 1, numbered(1));
      net.send(1, 0, numbered(2));
      let up = -1;
      while (net.observed.length < 2 && net.now < 1_000) {
        net.run(net.now + 0.25);
        if (up < 0 && net.network.currentLink(0, 1)?.isUp(0)) up = net.now;
      }
      expect(net.messagesTo(0)[0]?.at, `seed ${seed}`).toBeGreaterThanOrEqual(up - 0.25);
    }
  });

  it('a dial to a crashed process is refused after a round trip; only the dialler hears of it', () => {
    const net = new NetworkHarness(2, constant5);
    net.kill(1, false);
    net.send(0, 1, numbered(1));
    net.run();
    expect(net.observed).toEqual([{ kind: 'dialFailed', at: 10, node: 0, peer: 1 }]);
  });

  it('a dial to a silently crashed node fails after the connect timeout', () => {
    const net = new NetworkHarness(2, { ...constant5, connectTimeout: 1234 });
    net.kill(1, true);
    net.send(0, 1, numbered(1));
    net.run();
    expect(net.observed).toEqual([{ kind: 'dialFailed', at: 1234, node: 0, peer: 1 }]);
  });

  it('a dial that fails is reported to the responder too when it had queued messages on it', () => {
    const net = new NetworkHarness(2, constant5);
    net.send(0, 1, numbered(1));
    net.send(1, 0, numbered(2)); // 1 uses the link 0 is dialling
    net.kill(0, false); // the dialler dies before the link is up
    net.run();
    expect(net.observed).toEqual([{ kind: 'dialFailed', at: 30, node: 1, peer: 0 }]);
  });

  it('a node that disconnected during its dial is not told the dial failed', () => {
    const net = new NetworkHarness(2, constant5);
    net.kill(1, false);
    net.send(0, 1, numbered(1));
    net.network.disconnect(0, 1);
    net.run();
    expect(net.observed).toEqual([]);
  });

  it('a disconnect during the dial still delivers what was queued, then closes', () => {
    const net = new NetworkHarness(2, constant5);
    net.send(0, 1, numbered(1));
    net.network.disconnect(0, 1);
    net.run();
    expect(net.observed).toEqual([
      { kind: 'message', at: 35, to: 1, from: 0, message: numbered(1) },
      { kind: 'linkDown', at: 35, node: 1, peer: 0 },
    ]);
  });

  it('a disconnect during the dial closes the link once up, whichever end of the pair dialled', () => {
    const net = new NetworkHarness(2, constant5);
    net.send(1, 0, numbered(1));
    net.network.disconnect(1, 0);
    net.run();
    expect(net.observed).toEqual([
      { kind: 'message', at: 35, to: 0, from: 1, message: numbered(1) },
      { kind: 'linkDown', at: 35, node: 0, peer: 1 },
    ]);
    expect(net.network.linkCount).toBe(0);
  });

  it('disconnect flushes, then the other end alone gets linkDown; it can still answer until the FIN', () => {
    const net = new NetworkHarness(2, constant5);
    net.send(0, 1, numbered(1));
    net.run(); // link up at 30, message 1 delivered at 35
    net.send(0, 1, numbered(2));
    net.network.disconnect(0, 1);
    net.send(1, 0, numbered(3)); // sent before 1 learns of the close
    net.run();
    expect(net.observed.slice(1)).toEqual([
      { kind: 'message', at: 40, to: 1, from: 0, message: numbered(2) },
      { kind: 'linkDown', at: 40, node: 1, peer: 0 },
      { kind: 'message', at: 40, to: 0, from: 1, message: numbered(3) },
    ]);
    expect(net.network.linkCount).toBe(0);
  });

  it('a send after disconnect opens a fresh link', () => {
    const net = new NetworkHarness(2, constant5);
    net.send(0, 1, numbered(1));
    net.run();
    net.network.disconnect(0, 1);
    net.run();
    net.send(0, 1, numbered(2));
    net.run();
    expect(net.network.counters.dials).toBe(2);
    expect(net.messagesTo(1).map(seqOf)).toEqual([1, 2]);
  });

  it('a send after a disconnect during the dial opens a fresh link, not one that closes once up', () => {
    const net = new NetworkHarness(2, constant5);
    net.send(0, 1, numbered(1));
    net.network.disconnect(0, 1);
    net.send(0, 1, numbered(2)); // wants the peer again before the first dial is up
    net.run();
    expect(net.network.counters.dials).toBe(2);
    expect(net.messagesTo(1).map(seqOf)).toEqual([1, 2]);
    const link = net.network.currentLink(0, 1);
    expect(link?.isUp(0)).toBe(true);
    expect(link?.isUp(1)).toBe(true);
  });

  it("a crashed node's host closes its links: neighbours get linkDown after what it sent", () => {
    const net = new NetworkHarness(3, constant5);
    net.send(0, 1, numbered(1));
    net.send(2, 0, numbered(2));
    net.run();
    net.send(0, 1, numbered(3)); // in flight when 0 dies: still arrives
    net.send(2, 0, numbered(4)); // to a dead node: lost
    net.kill(0, false);
    net.run();
    expect(net.observed.slice(2)).toEqual([
      { kind: 'message', at: 40, to: 1, from: 0, message: numbered(3) },
      { kind: 'linkDown', at: 40, node: 1, peer: 0 },
      { kind: 'linkDown', at: 40, node: 2, peer: 0 },
    ]);
    expect(net.network.counters.droppedAtDeadNode).toBe(1);
  });

  it('a silent crash is noticed after the idle timeout', () => {
    const net = new NetworkHarness(2, { ...constant5, idleTimeout: 3000 });
    net.send(0, 1, numbered(1));
    net.run();
    net.kill(0, true);
    net.run();
    expect(net.events('linkDown')).toEqual([{ kind: 'linkDown', at: 3035, node: 1, peer: 0 }]);
  });

  it('a partition drops traffic across it, breaks its links after the idle timeout, fails dials', () => {
    const net = new NetworkHarness(3, { ...constant5, idleTimeout: 3000, connectTimeout: 2000 });
    net.send(0, 1, numbered(1));
    net.run();
    net.network.partition(Uint8Array.from([0, 1, 0]));
    net.send(0, 1, numbered(2)); // lost in the cut
    net.send(2, 1, numbered(3)); // dial across: fails
    net.send(2, 0, numbered(4)); // same side: fine
    net.run();
    expect(net.messagesTo(1).map(seqOf)).toEqual([1]);
    expect(net.messagesTo(0).map(seqOf)).toEqual([4]);
    expect(net.events('dialFailed')).toEqual([{ kind: 'dialFailed', at: 2035, node: 2, peer: 1 }]);
    expect(net.events('linkDown')).toEqual([
      { kind: 'linkDown', at: 3035, node: 0, peer: 1 },
      { kind: 'linkDown', at: 3035, node: 1, peer: 0 },
    ]);
    net.network.repair();
    net.send(2, 1, numbered(5));
    net.run();
    expect(net.messagesTo(1).map(seqOf)).toEqual([1, 5]);
  });

  it('a dial in flight when the LAN is cut fails after the connect timeout, even one longer than the idle timeout', () => {
    const net = new NetworkHarness(2, { ...constant5, idleTimeout: 3000, connectTimeout: 4000 });
    net.send(0, 1, numbered(1));
    net.network.partition(Uint8Array.from([0, 1]));
    net.run();
    expect(net.observed).toEqual([{ kind: 'dialFailed', at: 4030, node: 0, peer: 1 }]);
  });

  it('loss kills the link at the lost message: it and what follows are gone, both ends told after the idle timeout', () => {
    const net = new NetworkHarness(2, { ...constant5, loss: 1, idleTimeout: 3000 });
    net.send(0, 1, numbered(1));
    net.send(0, 1, numbered(2));
    net.run();
    expect(net.events('message')).toEqual([]);
    expect(net.events('linkDown')).toEqual([
      { kind: 'linkDown', at: 3035, node: 0, peer: 1 },
      { kind: 'linkDown', at: 3035, node: 1, peer: 0 },
    ]);
  });

  it('after a lost message nothing more arrives either way until the idle timeout breaks the link', () => {
    const options = { ...constant5, idleTimeout: 3000 };
    const net = new NetworkHarness(2, options);
    net.send(0, 1, numbered(1));
    net.run(); // up at 30, message 1 at 35
    net.options.loss = 1;
    net.send(0, 1, numbered(2)); // lost, due at 40
    net.options.loss = 0;
    net.send(0, 1, numbered(3)); // behind it: gone
    net.run(100);
    net.send(1, 0, numbered(4)); // the other way, after the loss: gone too
    net.send(0, 1, numbered(5)); // the ends still use the link until they notice
    net.run();
    expect(net.events('message').map(seqOf)).toEqual([1]);
    expect(net.events('linkDown')).toEqual([
      { kind: 'linkDown', at: 3040, node: 0, peer: 1 },
      { kind: 'linkDown', at: 3040, node: 1, peer: 0 },
    ]);
    expect(net.network.counters.dials).toBe(1);
  });

  it('a lost message still kills the link if both ends closed it before it was due', () => {
    const net = new NetworkHarness(2, constant5);
    net.send(0, 1, numbered(1));
    net.run(); // up at 30
    net.options.loss = 1;
    net.send(0, 1, numbered(2)); // lost, due at 40
    net.options.loss = 0;
    net.send(0, 1, numbered(3)); // behind the lost one
    net.network.disconnect(0, 1);
    net.network.disconnect(1, 0);
    net.run();
    expect(net.events('message').map(seqOf)).toEqual([1]);
    expect(net.events('linkDown')).toEqual([]);
  });

  it('a FIN sent across the cut is lost: the other end learns of the close by the idle timeout', () => {
    const net = new NetworkHarness(2, { ...constant5, idleTimeout: 3000 });
    net.send(0, 1, numbered(1));
    net.run(); // up at 30, message 1 at 35
    net.network.partition(Uint8Array.from([0, 1]));
    net.network.disconnect(0, 1);
    net.run();
    expect(net.events('linkDown')).toEqual([{ kind: 'linkDown', at: 3035, node: 1, peer: 0 }]);
    expect(net.silent).toEqual([true]);
  });

  it('tells a link closed by a FIN from one that went silent', () => {
    const closed = new NetworkHarness(3, constant5);
    closed.send(0, 1, numbered(1));
    closed.send(2, 1, numbered(2));
    closed.run();
    closed.network.disconnect(0, 1); // FIN
    closed.kill(2, false); // its host closes the socket: FIN
    closed.run();
    expect(closed.silent).toEqual([false, false]);
    for (const cut of ['crash', 'loss', 'partition'] as const) {
      const net = new NetworkHarness(2, { ...constant5, idleTimeout: 3000 });
      net.send(0, 1, numbered(1));
      net.run();
      if (cut === 'crash') net.kill(0, true);
      if (cut === 'partition') net.network.partition(Uint8Array.from([0, 1]));
      if (cut === 'loss') net.options.loss = 1;
      net.send(1, 0, numbered(2));
      net.run();
      expect(net.silent, cut).toEqual(cut === 'crash' ? [true] : [true, true]);
    }
  });

  it('counts each message that does not arrive under its cause', () => {
    const net = new NetworkHarness(4, { ...constant5, idleTimeout: 3000 });
    for (const to of [1, 2, 3]) net.send(0, to, numbered(to));
    net.run(); // three links up, three messages delivered
    net.kill(1, true); // silently: its link stays until the idle timeout
    net.network.partition(Uint8Array.from([0, 0, 1, 0]));
    net.options.loss = 1;
    net.send(0, 3, numbered(4)); // kills the link to 3
    net.options.loss = 0;
    net.send(0, 3, numbered(5)); // on the dead link
    net.send(0, 1, numbered(6)); // to the dead node
    net.send(0, 2, numbered(7)); // across the cut
    net.run();
    expect(net.network.counters).toMatchObject({
      messagesSent: 7,
      messagesDelivered: 3,
      lossEvents: 1,
      droppedOnBrokenLink: 1,
      droppedAtDeadNode: 1,
      droppedByPartition: 1,
    });
  });

  it('sends to an address that is no node are counted, not thrown', () => {
    const net = new NetworkHarness(2, constant5);
    net.network.send(0, { id: 'x', address: '127.0.0.1:1' }, numbered(1));
    net.network.send(0, net.peer(0), numbered(1));
    net.network.send(0, { id: 'x', address: '99' }, numbered(1));
    expect(net.network.counters.unroutable).toBe(3);
  });
});

describe('SimNetwork with a bandwidth on every node interface', () => {
  /** A gossip whose sealed record is `recordBytes` on the wire, as the TCP runtime would send it. */
  function gossipOfRecordBytes(seq: number, recordBytes: number): ProtocolMessage {
    const empty = numbered(seq);
    if (empty.type !== 'gossip') throw new Error('numbered() makes gossip');
    return { ...empty, payload: new Uint8Array(recordBytes - wireBytes(empty)) };
  }

  it('sizes a message as the runtime writes it: one sealed record, gossip with its signature', () => {
    const gossip = gossipOfRecordBytes(1, 1000);
    if (gossip.type !== 'gossip') throw new Error('gossip expected');
    const signed = { ...gossip, signature: new Uint8Array(64) };
    expect(wireBytes(gossip)).toBe(1000);
    expect(wireBytes(gossip)).toBe(encodeFrame(signed).length + SEAL_OVERHEAD_BYTES);
    expect(wireBytes(signed)).toBe(1000);
    const prune = { type: 'prune', origin: signed.origin } as const;
    expect(wireBytes(prune)).toBe(encodeFrame(prune).length + SEAL_OVERHEAD_BYTES);
  });

  const recordBytes = 10_000;
  /** 10,000 bytes in 2 ms each way: 5 MB/s (40 Mbit/s). */
  const twoMsPerMessage = { ...constant5, bandwidth: (recordBytes * 1000) / 2 };

  /** Links up between 0 and each of `peers`, then the clock at the next whole 100 ms. */
  function linked(net: NetworkHarness, peers: number[]): number {
    for (const peer of peers) net.send(0, peer, numbered(0));
    net.run();
    net.observed.length = 0;
    const start = Math.ceil(net.now / 100) * 100 + 100;
    net.run(start);
    net.now = start;
    return start;
  }

  it('a message takes its size over the rate to leave, the latency to cross, and its size again to come in', () => {
    const net = new NetworkHarness(2, twoMsPerMessage);
    const start = linked(net, [1]);
    net.send(0, 1, gossipOfRecordBytes(1, recordBytes));
    net.run();
    expect(net.messagesTo(1).map((m) => m.at - start)).toEqual([2 + 5 + 2]);
  });

  it("an old link's FIN that arrives after a newer link to the same peer is up is no linkDown", () => {
    const net = new NetworkHarness(2, twoMsPerMessage);
    linked(net, [1]);
    for (let i = 1; i <= 20; i++) net.send(0, 1, gossipOfRecordBytes(i, recordBytes)); // 40 ms to leave
    net.network.disconnect(0, 1); // its FIN follows them
    net.send(0, 1, numbered(21)); // a fresh link, up at both ends after 30 ms
    net.run();
    expect(net.messagesTo(1)).toHaveLength(21);
    expect(net.events('linkDown')).toEqual([]);
  });

  it("a node's messages queue to leave, whichever neighbour each goes to", () => {
    const net = new NetworkHarness(4, twoMsPerMessage);
    const start = linked(net, [1, 2, 3]);
    for (const peer of [1, 2, 3]) net.send(0, peer, gossipOfRecordBytes(peer, recordBytes));
    net.run();
    expect(net.events('message').map((m) => m.at - start)).toEqual([9, 11, 13]);
  });

  it('copies sent to one node at once queue to come in', () => {
    const net = new NetworkHarness(4, twoMsPerMessage);
    const start = linked(net, [1, 2, 3]);
    for (const peer of [1, 2, 3]) net.send(peer, 0, gossipOfRecordBytes(peer, recordBytes));
    net.run();
    expect(net.messagesTo(0).map((m) => m.at - start)).toEqual([9, 11, 13]);
  });

  it('takes in what reached the interface first, not what was sent first', () => {
    const net = new NetworkHarness(11, twoMsPerMessage);
    for (let peer = 1; peer <= 10; peer++) net.send(peer, 0, numbered(0));
    for (let peer = 2; peer <= 9; peer++) net.send(1, peer, numbered(0));
    net.run();
    net.observed.length = 0;
    const start = Math.ceil(net.now / 100) * 100 + 100;
    net.run(start);
    net.now = start;
    // Node 1's last message waits behind its first eight to leave; node 10's, sent a moment later
    // with nothing ahead of it, reaches node 0 first and is taken in first.
    for (let peer = 2; peer <= 9; peer++) net.send(1, peer, gossipOfRecordBytes(peer, recordBytes));
    net.send(1, 0, gossipOfRecordBytes(1, recordBytes));
    net.run(start + 1);
    net.now = start + 1;
    net.send(10, 0, gossipOfRecordBytes(10, recordBytes));
    net.run();
    expect(net.messagesTo(0).map((m) => [m.kind === 'message' ? m.from : -1, m.at - start])).toEqual([
      [10, 1 + 2 + 5 + 2],
      [1, 9 * 2 + 5 + 2],
    ]);
  });

  it('what cannot arrive (across a partition) takes no time on the receiving interface', () => {
    const net = new NetworkHarness(3, twoMsPerMessage);
    for (const peer of [1, 2]) net.send(peer, 0, numbered(0));
    net.run();
    net.observed.length = 0;
    const start = Math.ceil(net.now / 100) * 100 + 100;
    net.run(start);
    net.now = start;
    net.network.partition(new Uint8Array([0, 1, 0]));
    for (let i = 0; i < 5; i++) net.send(1, 0, gossipOfRecordBytes(i, recordBytes));
    net.send(2, 0, gossipOfRecordBytes(9, recordBytes));
    net.run(start + 1000);
    expect(net.messagesTo(0).map((m) => [m.kind === 'message' ? m.from : -1, m.at - start])).toEqual([
      [2, 9],
    ]);
  });

  it('keeps each direction FIFO, its FIN last, under random latency', () => {
    const net = new NetworkHarness(
      2,
      { latency: { kind: 'uniform', min: 1, max: 50 }, bandwidth: 1_000_000 },
      7,
    );
    for (let i = 0; i < 100; i++) {
      net.send(0, 1, gossipOfRecordBytes(i, 200 + ((i * 37) % 900)));
      net.run(net.now + (i % 3));
    }
    net.network.disconnect(0, 1);
    net.run();
    expect(net.messagesTo(1).map(seqOf)).toEqual([...Array(100).keys()]);
    const lastMessage = net.messagesTo(1).at(-1)?.at ?? Number.POSITIVE_INFINITY;
    expect(net.events('linkDown')).toMatchObject([{ node: 1, peer: 0 }]);
    expect(net.events('linkDown')[0]?.at).toBeGreaterThanOrEqual(lastMessage);
  });

  it('messages queued during the dial leave one after another once the link is up', () => {
    const net = new NetworkHarness(2, twoMsPerMessage);
    for (let i = 0; i < 3; i++) net.send(0, 1, gossipOfRecordBytes(i, recordBytes));
    net.run();
    // Up at 30 (six legs of 5 ms); the first leaves by 32, the next two 2 ms apart each.
    expect(net.messagesTo(1).map((m) => m.at)).toEqual([39, 41, 43]);
  });

  it('small messages take proportionally less time, and no limit (the default) takes none', () => {
    const limited = new NetworkHarness(2, twoMsPerMessage);
    const unlimited = new NetworkHarness(2, constant5);
    const starts = [linked(limited, [1]), linked(unlimited, [1])];
    limited.send(0, 1, gossipOfRecordBytes(1, recordBytes / 10));
    unlimited.send(0, 1, gossipOfRecordBytes(1, recordBytes));
    limited.run();
    unlimited.run();
    const [arrival] = limited.messagesTo(1).map((m) => m.at - (starts[0] as number));
    expect(arrival).toBeCloseTo(0.2 + 5 + 0.2, 9);
    expect(unlimited.messagesTo(1).map((m) => m.at - (starts[1] as number))).toEqual([5]);
  });
});
