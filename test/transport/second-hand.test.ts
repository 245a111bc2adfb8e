import { describe, expect, it } from 'vitest';
import { mayDialSecondHand, secondHandRefusal } from '../../src/transport/second-hand.js';
import { randomNodeId } from './helpers.js';

const LAN_HOST = '192.168.1.20';

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
    // IPv4-compatible and IPv4-translated IPv6, which some hosts route as IPv4.
    expect(secondHandRefusal('[::127.0.0.1]:22', LAN_HOST)).toBe('reserved or broadcast');
    expect(secondHandRefusal('[::ffff:0:7f00:1]:22', LAN_HOST)).toBe('reserved or broadcast');
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

describe('mayDialSecondHand', () => {
  it('judges by the host of the card of the link the name came over', () => {
    const overLoopback = { id: randomNodeId(), address: '127.0.0.1:4000' };
    const overLan = { id: randomNodeId(), address: `${LAN_HOST}:4000` };
    expect(mayDialSecondHand('127.0.0.1:5000', overLoopback)).toBe(true);
    expect(mayDialSecondHand('127.0.0.1:5000', overLan)).toBe(false);
    expect(mayDialSecondHand('192.168.1.9:5000', overLan)).toBe(true);
    expect(mayDialSecondHand('239.255.0.1:5000', overLoopback)).toBe(false);
  });
});
