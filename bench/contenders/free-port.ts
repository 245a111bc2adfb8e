import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * meshcast takes its bootstrap addresses at construction, so a node's port must be known before
 * it starts at formation's t0. Ports are reserved (bound, checked free, released) below the
 * kernel's ephemeral range: a port from that range could be taken meanwhile as the local end of
 * another node's outgoing connection, which made one node in a hundred fail to start.
 */
export const PORT_POOL_FROM = 10_000;
/** Linux's default start of the ephemeral range, if /proc cannot be read. */
const DEFAULT_EPHEMERAL_FROM = 32_768;

function ephemeralFrom(): number {
  try {
    const first = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    return Number.isSafeInteger(first) && first > PORT_POOL_FROM ? first : DEFAULT_EPHEMERAL_FROM;
  } catch {
    return DEFAULT_EPHEMERAL_FROM;
  }
}

const poolEnd = ephemeralFrom();
/** A random start, so that two invocations sharing a namespace rarely probe the same ports. */
let next = PORT_POOL_FROM + Math.floor(Math.random() * (poolEnd - PORT_POOL_FROM));

function tryPort(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port of 127.0.0.1 that nothing is bound to, outside the ephemeral range. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < poolEnd - PORT_POOL_FROM; tries++) {
    const port = next;
    next = next + 1 >= poolEnd ? PORT_POOL_FROM : next + 1;
    if (await tryPort(port)) return port;
  }
  throw new Error(`no free port between ${PORT_POOL_FROM} and ${poolEnd}`);
}
