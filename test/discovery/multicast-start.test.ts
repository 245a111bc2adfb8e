import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { DiscoveryStartError, type MulticastDiscoveryOptions } from '../../src/discovery/multicast.js';
import { type Probe, probe, randomNodeId, uniqueGroup, waitFor, withDeadline } from './helpers.js';

// Opens real sockets: run only through scripts/in-loopback-netns.sh.

const created: Probe[] = [];
function make(options: Partial<MulticastDiscoveryOptions> = {}): Probe {
  const p = probe(uniqueGroup(), options);
  created.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(created.splice(0).map((p) => p.discovery.stop()));
});

async function startError(p: Probe): Promise<DiscoveryStartError> {
  const error = await p.discovery.start().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DiscoveryStartError);
  return error as DiscoveryStartError;
}

/** A UDP port in the ephemeral range that this test holds without SO_REUSEADDR. */
async function exclusivelyHeldPort(): Promise<{ port: number; release: () => void }> {
  const socket = createSocket({ type: 'udp4' });
  await new Promise<void>((resolve) => socket.bind(0, '0.0.0.0', () => resolve()));
  return { port: socket.address().port, release: () => socket.close() };
}

describe('MulticastDiscovery start-up errors', () => {
  it.each<[Partial<MulticastDiscoveryOptions>, string]>([
    [{ self: 'ABC' }, 'self'],
    [{ self: randomNodeId().toUpperCase() }, 'self'],
    [{ listenPort: 0 }, 'listenPort'],
    [{ listenPort: 65_536 }, 'listenPort'],
    [{ group: '10.1.2.3' }, 'group'],
    [{ group: '240.0.0.1' }, 'group'],
    [{ group: 'not-an-ip' }, 'group'],
    [{ port: 0 }, 'port'],
    [{ port: 1.5 }, 'port'],
    [{ interfaceAddress: 'lo' }, 'interfaceAddress'],
    [{ interfaceAddress: '::1' }, 'interfaceAddress'],
    [{ announceIntervalMs: 0 }, 'announceIntervalMs'],
    [{ announceIntervalMs: 3e9 }, 'announceIntervalMs'],
    [{ eagerIntervalMs: Number.NaN }, 'eagerIntervalMs'],
  ])('rejects %j naming the option %s', async (options, option) => {
    const error = await startError(make(options));
    expect(error.option).toBe(option);
    expect(error.message).toContain(`"${option}"`);
  });

  it('reports a port held without sharing (EADDRINUSE), and can start once it is free', async () => {
    const held = await exclusivelyHeldPort();
    const p = make({ port: held.port });
    const error = await startError(p);
    held.release();
    expect(error).toMatchObject({ option: 'port', code: 'EADDRINUSE' });
    expect(error.message).toContain(`${held.port}`);
    expect(error.message).toContain('"port"');

    await p.discovery.start();
    await waitFor('own beacons', () => p.discovery.stats().ownIgnored > 0);
  });

  it('releases its socket when the start fails after the bind', async () => {
    const sockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
    // Sockets closed by earlier tests may still be closing: count from once they have finished.
    await waitFor('earlier sockets to be released', () => sockets() === 0, 2000);
    // Bound, then refused at setMulticastInterface: TEST-NET-3 is on no interface here.
    const error = await startError(make({ interfaceAddress: '203.0.113.77' }));
    expect(error.option).toBe('interfaceAddress');
    await waitFor('the socket to be released', () => sockets() === 0, 2000);
  });

  it('reports an interfaceAddress that is not local', async () => {
    // TEST-NET-3 (RFC 5737) is on no interface here: the kernel refuses it before anything is sent.
    const error = await startError(make({ interfaceAddress: '203.0.113.77' }));
    expect(error.option).toBe('interfaceAddress');
    expect(error.code).toMatch(/^E/);
    expect(error.message).toContain('"interfaceAddress"');
  });
});

describe('MulticastDiscovery lifecycle', () => {
  it('returns the same promise from concurrent start() calls', async () => {
    const p = make();
    const first = p.discovery.start();
    expect(p.discovery.start()).toBe(first);
    await first;
  });

  it('resolves stop() before start(), and stop() during start()', async () => {
    const idle = make();
    await withDeadline('stop() of an idle instance', idle.discovery.stop(), 500);

    const p = make();
    const starting = p.discovery.start();
    await withDeadline('stop() during start()', p.discovery.stop(), 1000);
    await starting;
    const sentAtStop = p.discovery.stats().beaconsSent;
    expect(sentAtStop).toBeLessThanOrEqual(1);
  });

  it('resolves stop() after a failed start()', async () => {
    const p = make({ group: '10.0.0.1' });
    await startError(p);
    await withDeadline('stop()', p.discovery.stop(), 500);
  });

  it('resolves a second stop() only once the first has closed the socket', async () => {
    const p = make();
    await p.discovery.start();
    let firstResolved = false;
    const first = p.discovery.stop().then(() => {
      firstResolved = true;
    });
    await withDeadline('second stop()', p.discovery.stop(), 1000);
    expect(firstResolved).toBe(true);
    await first;
  });

  it('releases its socket on stop()', async () => {
    const sockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
    const p = make({ eagerIntervalMs: 20 });
    await p.discovery.start();
    // By now sockets closed by earlier tests have finished closing.
    await waitFor('a few beacons', () => p.discovery.stats().beaconsSent >= 3);
    const running = sockets();
    expect(running).toBeGreaterThanOrEqual(1);

    await p.discovery.stop();
    // libuv finishes closing a handle on a later loop turn: wait for it, with a deadline.
    await waitFor('the socket to be released', () => sockets() === running - 1, 2000);
  });
});
