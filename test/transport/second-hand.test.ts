import { afterEach, describe, expect, it } from 'vitest';
import type { ProtocolMessage } from '../../src/core/messages.js';
import type { PeerInfo } from '../../src/core/types.js';
import { secondHandRefusal, withinScope } from '../../src/transport/second-hand.js';
import { eventually, gossip, ManagerPool, RawPeer, randomNodeId, recordMessages } from './helpers.js';

const LAN_HOST = '192.168.1.20';

function peer(address: string): PeerInfo {
  return { id: randomNodeId(), address };
}

describe('secondHandRefusal', () => {
  it('lets unicast IP addresses through, IPv4 and IPv6', () => {
    for (const address of [
      '192.168.1.7:4000',
      '10.0.0.1:49152',
      '[fe80::1]:4000',
      '2001:db8::5:4000',
      '[::ffff:10.1.2.3]:4000',
    ]) {
      expect(secondHandRefusal(address, LAN_HOST), address).toBeUndefined();
    }
  });

  it('refuses what no honest node passes on: host names, unspecified, multicast, broadcast', () => {
    expect(secondHandRefusal('example.com:4000', LAN_HOST)).toBe('not an IP address');
    expect(secondHandRefusal('localhost:22', '127.0.0.1')).toBe('not an IP address');
    expect(secondHandRefusal('0.0.0.0:4000', LAN_HOST)).toBe('unspecified');
    expect(secondHandRefusal('[::]:4000', LAN_HOST)).toBe('unspecified');
    expect(secondHandRefusal('239.255.0.1:49152', LAN_HOST)).toBe('multicast');
    expect(secondHandRefusal('[ff02::1]:4000', LAN_HOST)).toBe('multicast');
    expect(secondHandRefusal('255.255.255.255:4000', LAN_HOST)).toBe('reserved or broadcast');
    expect(secondHandRefusal('garbage', LAN_HOST)).toBe('not host:port');
  });

  it('takes a loopback address only from a peer on loopback, in every spelling', () => {
    for (const address of [
      '127.0.0.1:22',
      '127.9.9.9:4000',
      '[::1]:4000',
      '[::ffff:127.0.0.1]:22',
      '[::ffff:7f00:1]:22',
    ]) {
      expect(secondHandRefusal(address, LAN_HOST), address).toBe('loopback, named by a peer not on loopback');
      expect(secondHandRefusal(address, '127.0.0.1'), address).toBeUndefined();
      expect(secondHandRefusal(address, '::1'), address).toBeUndefined();
    }
  });
});

describe('withinScope', () => {
  const sender = peer('0.0.0.0:4000');

  it('leaves the peers out that must not be dialled, and returns a clean message unchanged', () => {
    const good = [peer('192.168.1.7:4000'), peer('192.168.1.8:4000')];
    const clean: ProtocolMessage = { type: 'shuffleReply', peers: good };
    expect(withinScope(clean, sender, LAN_HOST)).toEqual({ message: clean, refused: 0, detail: undefined });
    expect(withinScope(clean, sender, LAN_HOST).message).toBe(clean);

    const dirty: ProtocolMessage = {
      type: 'shuffleReply',
      peers: [good[0] as PeerInfo, peer('127.0.0.1:22'), peer('224.0.0.1:1')],
    };
    const scoped = withinScope(dirty, sender, LAN_HOST);
    expect(scoped.message).toEqual({ type: 'shuffleReply', peers: [good[0]] });
    expect(scoped.refused).toBe(2);
    expect(scoped.detail).toBe('"127.0.0.1:22": loopback, named by a peer not on loopback');
  });

  it('drops a ForwardJoin or Shuffle whose joiner or origin must not be dialled', () => {
    const forwardJoin: ProtocolMessage = { type: 'forwardJoin', peer: peer('0.0.0.0:4000'), ttl: 3 };
    expect(withinScope(forwardJoin, sender, LAN_HOST)).toMatchObject({ message: undefined, refused: 1 });
    const shuffle: ProtocolMessage = { type: 'shuffle', origin: peer('example.com:4000'), ttl: 3, peers: [] };
    expect(withinScope(shuffle, sender, LAN_HOST)).toMatchObject({ message: undefined, refused: 1 });
  });

  it('exempts the sender itself, which names itself by the address it listens on', () => {
    const shuffle: ProtocolMessage = {
      type: 'shuffle',
      origin: sender,
      ttl: 5,
      peers: [peer('192.168.1.7:4000')],
    };
    expect(withinScope(shuffle, sender, LAN_HOST)).toEqual({
      message: shuffle,
      refused: 0,
      detail: undefined,
    });
  });

  it('passes every other message through untouched', () => {
    const join: ProtocolMessage = { type: 'join' };
    expect(withinScope(join, sender, LAN_HOST).message).toBe(join);
  });
});

describe('a link manager receiving second-hand peers', () => {
  const pool = new ManagerPool();
  afterEach(() => pool.closeAll());

  it('hands the protocol only the peers it may dial, counts the rest, and keeps the link', async () => {
    const b = await pool.start();
    const sender = await RawPeer.dial(b.info.address);
    sender.hello();
    const received: ProtocolMessage[] = [];
    b.manager.on('message', (_from, message) => {
      if (message.type !== 'gossip') received.push(message);
    });
    const delivered = recordMessages(b.manager);
    const lanPeer = peer('192.168.1.7:4000');
    const loopbackPeer = peer('127.0.0.5:4000');
    // On a loopback link a loopback peer is in scope; the others never are.
    const bad = [peer('0.0.0.0:4000'), peer('239.255.0.1:49152'), peer('example.com:4000')];
    sender.send({ type: 'shuffleReply', peers: [lanPeer, ...bad, loopbackPeer] });
    sender.send({ type: 'forwardJoin', peer: peer('[::]:4000'), ttl: 3 });
    sender.send({ type: 'shuffle', origin: { id: sender.id, address: '0.0.0.0:4000' }, ttl: 2, peers: bad });
    sender.send(gossip(sender.id, 1));
    await eventually('the gossip after the membership messages', () => delivered.length === 1);
    expect(received).toEqual([
      { type: 'shuffleReply', peers: [lanPeer, loopbackPeer] },
      { type: 'shuffle', origin: { id: sender.id, address: '0.0.0.0:4000' }, ttl: 2, peers: [] },
    ]);
    expect(b.manager.stats().rejections['unusable-address']).toBe(bad.length + 1 + bad.length);
    expect(b.manager.links()).toHaveLength(1);
  });
});
