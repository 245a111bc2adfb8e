import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { seededRandom } from '../../src/core/random.js';
import type { NodeId } from '../../src/core/types.js';
import {
  DEFAULT_DISCOVERY_PORT,
  type DiscoveredPeer,
  MulticastDiscovery,
  type MulticastDiscoveryOptions,
} from '../../src/discovery/multicast.js';

export { uniqueGroup } from '../helpers/unique-group.js';

/** Tests only ever send and join on loopback (see notes: network safety). */
export const LOOPBACK = '127.0.0.1';

export function randomNodeId(): NodeId {
  return randomBytes(32).toString('hex');
}

/** Polls `condition` until it holds; rejects naming `what` at the deadline. Never a fixed wait. */
export function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const check = (): void => {
      if (condition()) {
        resolve();
      } else if (Date.now() > deadline) {
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      } else {
        setTimeout(check, 5);
      }
    };
    check();
  });
}

/** Resolves with the promise's value, or rejects if it takes longer than `timeoutMs`. */
export function withDeadline<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took longer than ${timeoutMs} ms`)), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** A discovery instance with everything it has heard, for assertions. */
export interface Probe {
  readonly id: NodeId;
  readonly listenPort: number;
  readonly discovery: MulticastDiscovery;
  readonly peers: DiscoveredPeer[];
  readonly rejected: { from: string; reason: string }[];
  /** Addresses reported as running with this instance's node id. */
  readonly conflicts: string[];
  /** How many beacons were heard from `id`. */
  heardFrom(id: NodeId): number;
}

let nextListenPort = 40_000;

/** Builds (does not start) a discovery instance pinned to loopback, recording its events. */
export function probe(group: string, options: Partial<MulticastDiscoveryOptions> = {}): Probe {
  const id = options.self ?? randomNodeId();
  const listenPort = options.listenPort ?? nextListenPort++;
  const discovery = new MulticastDiscovery({
    self: id,
    listenPort,
    group,
    port: DEFAULT_DISCOVERY_PORT,
    interfaceAddress: LOOPBACK,
    random: seededRandom(listenPort),
    ...options,
  });
  const peers: DiscoveredPeer[] = [];
  const rejected: { from: string; reason: string }[] = [];
  const conflicts: string[] = [];
  discovery.on('peer', (peer) => peers.push(peer));
  discovery.on('rejected', (from, reason) => rejected.push({ from, reason }));
  discovery.on('conflict', (address) => conflicts.push(address));
  return {
    id,
    listenPort,
    discovery,
    peers,
    rejected,
    conflicts,
    heardFrom: (other) => peers.filter((p) => p.id === other).length,
  };
}

/**
 * A plain UDP socket that sends to the group over loopback, like a foreign or hostile program.
 * `source` is the address its datagrams come from: any of 127.0.0.0/8, all of it on the loopback
 * interface, stands for another host.
 */
export async function rawSender(
  source: string = LOOPBACK,
): Promise<Socket & { sendTo(group: string, port: number, data: Uint8Array): Promise<void> }> {
  const socket = createSocket({ type: 'udp4' });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, source, () => resolve());
  });
  socket.setMulticastInterface(LOOPBACK);
  socket.setMulticastTTL(1);
  socket.setMulticastLoopback(true);
  return Object.assign(socket, {
    sendTo: (group: string, port: number, data: Uint8Array) =>
      new Promise<void>((resolve, reject) =>
        socket.send(data, port, group, (error) => (error ? reject(error) : resolve())),
      ),
  });
}
