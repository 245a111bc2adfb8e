import { randomInt } from 'node:crypto';
import type { AddressInfo, Server } from 'node:net';

/** A port, 0 for one the OS assigns, or an inclusive range to search. */
export type PortSpec = number | { readonly from: number; readonly to: number };

const MAX_PORT = 0xffff;

/**
 * Binds `server` to `host` on the given port, or on the first free port of a range starting at a
 * random offset (so that nodes started together on one host do not all race for the same port) and
 * wrapping around. Only EADDRINUSE moves on to the next port; any other error is final.
 */
export async function bindServer(server: Server, host: string, port: PortSpec): Promise<AddressInfo> {
  const candidates = portsToTry(port);
  let lastError: unknown;
  for (const candidate of candidates) {
    try {
      await listenOnce(server, host, candidate);
      return server.address() as AddressInfo;
    } catch (error) {
      if (isAddressNotHere(error)) {
        // Node's own words ("listen EADDRNOTAVAIL: address not available") do not say which option.
        throw new Error(`${host} is no address of this machine (EADDRNOTAVAIL): listen on one it has`, {
          cause: error,
        });
      }
      if (!isAddressInUse(error)) throw error;
      lastError = error;
    }
  }
  // Named as the system names it: "no free port in port 50000" read as a failure of ours.
  const taken = typeof port === 'number' ? 'is in use' : 'are all in use';
  throw new Error(`no free port: ${describe(port)} on ${host} ${taken} (EADDRINUSE)`, { cause: lastError });
}

/** Throws a RangeError naming what is wrong with `port`; returns it as given otherwise. */
export function checkPortSpec(port: PortSpec): PortSpec {
  if (typeof port === 'number') {
    if (!isPort(port, 0)) throw new RangeError(`port must be an integer in [0, ${MAX_PORT}], got ${port}`);
    return port;
  }
  const { from, to } = port;
  if (!isPort(from, 1) || !isPort(to, 1) || from > to) {
    throw new RangeError(`port range must satisfy 1 <= from <= to <= ${MAX_PORT}, got ${from}-${to}`);
  }
  return port;
}

function* portsToTry(port: PortSpec): Generator<number> {
  checkPortSpec(port);
  if (typeof port === 'number') {
    yield port;
    return;
  }
  const { from, to } = port;
  const size = to - from + 1;
  const start = randomInt(size);
  for (let i = 0; i < size; i++) yield from + ((start + i) % size);
}

function listenOnce(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      server.off('error', onError);
      server.off('listening', onListening);
      server.off('close', onClose);
    };
    const onError = (error: Error): void => {
      settle();
      reject(error);
    };
    const onListening = (): void => {
      settle();
      resolve();
    };
    // Closed while it still looks up its host (a stop right after start): neither 'listening' nor
    // 'error' ever comes, and start() would wait for good.
    const onClose = (): void => {
      settle();
      reject(new Error('closed while binding'));
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.once('close', onClose);
    server.listen({ host, port, exclusive: true });
  });
}

function isAddressNotHere(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRNOTAVAIL';
}

function isAddressInUse(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
}

function isPort(value: number, min: number): boolean {
  return Number.isInteger(value) && value >= min && value <= MAX_PORT;
}

function describe(port: PortSpec): string {
  return typeof port === 'number' ? `port ${port}` : `ports ${port.from}-${port.to}`;
}
