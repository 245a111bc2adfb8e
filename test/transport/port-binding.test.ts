import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bindServer } from '../../src/transport/port-binding.js';
import { LOOPBACK, ManagerPool } from './helpers.js';

const servers: Server[] = [];
const pool = new ManagerPool();
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  await pool.closeAll();
});

function server(): Server {
  const s = createServer();
  servers.push(s);
  return s;
}

/**
 * Takes a port `from` and leaves `free` = from + 1 unbound, both below the OS's ephemeral range: a
 * port there is never handed out by itself (to a bind of port 0 or an outgoing connection), so the
 * other tests running meanwhile cannot take `free`, as they took a neighbour of an OS-assigned port.
 */
async function blockedPairBelowEphemeralPorts(): Promise<{ from: number; free: number }> {
  const [ephemeralStart = 32_768] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);
  for (let attempt = 0; attempt < 100; attempt++) {
    const from = 10_000 + Math.floor(Math.random() * (ephemeralStart - 10_002));
    try {
      const probe = createServer();
      await bindServer(probe, LOOPBACK, from + 1);
      await new Promise((resolve) => probe.close(resolve));
      await bindServer(server(), LOOPBACK, from);
      return { from, free: from + 1 };
    } catch {
      // One of the two is in use: try another pair.
    }
  }
  throw new Error('no free pair of ports below the ephemeral range');
}

describe('bindServer', () => {
  it('takes an OS-assigned port for 0', async () => {
    const bound = await bindServer(server(), LOOPBACK, 0);
    expect(bound.port).toBeGreaterThan(0);
    expect(bound.address).toBe(LOOPBACK);
  });

  it('moves on to the next port of the range when one is taken', async () => {
    const { from, free } = await blockedPairBelowEphemeralPorts();
    const range = { from, to: free };
    // The range start is random: bind until one run has started on the taken port and moved on
    // (each run does with probability 1/2), checking that every run ends on the free port.
    let movedOn = false;
    for (let run = 0; run < 64 && !movedOn; run++) {
      const s = createServer();
      s.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE') movedOn = true;
      });
      const bound = await bindServer(s, LOOPBACK, range);
      expect(bound.port).toBe(free);
      await new Promise((resolve) => s.close(resolve));
    }
    expect(movedOn).toBe(true);
  });

  it('fails when every port of the range is taken, and on a bad range', async () => {
    const blocker = await bindServer(server(), LOOPBACK, 0);
    const range = { from: blocker.port, to: blocker.port };
    await expect(bindServer(createServer(), LOOPBACK, range)).rejects.toThrow(
      `no free port: ports ${blocker.port}-${blocker.port} on ${LOOPBACK} are all in use (EADDRINUSE)`,
    );
    await expect(bindServer(createServer(), LOOPBACK, blocker.port)).rejects.toThrow(
      `no free port: port ${blocker.port} on ${LOOPBACK} is in use (EADDRINUSE)`,
    );
    await expect(bindServer(createServer(), LOOPBACK, { from: 10, to: 5 })).rejects.toThrow(RangeError);
    // An address no interface of this host has (the tests' namespace holds only lo): said as such.
    await expect(bindServer(createServer(), '10.9.9.9', 0)).rejects.toThrow(
      '10.9.9.9 is no address of this machine (EADDRNOTAVAIL)',
    );
    await expect(bindServer(createServer(), LOOPBACK, 70000)).rejects.toThrow(RangeError);
  });

  it('is what LinkManager.listen() uses, defaulting to the dynamic port range', async () => {
    const manager = pool.create({ port: undefined });
    const { host, port } = await manager.listen();
    expect(host).toBe(LOOPBACK);
    expect(port).toBeGreaterThanOrEqual(49152);
    expect(port).toBeLessThanOrEqual(65535);
  });
});
