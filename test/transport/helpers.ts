import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { decodeBody, encodeFrame, LENGTH_PREFIX_BYTES } from '../../src/codec/index.js';
import type { WireMessage } from '../../src/core/messages.js';
import type { NodeId, PeerInfo } from '../../src/core/types.js';
import { generateIdentity, type Identity } from '../../src/identity/identity.js';
import type { NetworkKey } from '../../src/identity/network-key.js';
import { LinkManager } from '../../src/transport/link-manager.js';
import type { LinkManagerOptions } from '../../src/transport/options.js';
import { type ChannelEvent, SecureChannel } from '../../src/transport/secure-channel.js';

/** Every socket in these tests stays on loopback. */
export const LOOPBACK = '127.0.0.1';

/** Generous deadline for anything that should happen "at once" on loopback. */
export const DEADLINE_MS = 5_000;

/** An id nobody holds the key of: fine as a peer that is never reached, or as a lie. */
export function randomNodeId(): NodeId {
  return randomBytes(32).toString('hex');
}

/** Two fresh identities, the one with the smaller id first (the duplicate rule depends on the order). */
export function orderedIdentities(): [Identity, Identity] {
  const a = generateIdentity();
  const b = generateIdentity();
  return a.id < b.id ? [a, b] : [b, a];
}

export interface Started {
  readonly manager: LinkManager;
  readonly info: PeerInfo;
}

/** Managers created by a test; closeAll() in afterEach so that a failing test leaks nothing. */
export class ManagerPool {
  private readonly managers: LinkManager[] = [];

  create(options: Partial<LinkManagerOptions> = {}): LinkManager {
    const manager = new LinkManager({ identity: generateIdentity(), host: LOOPBACK, port: 0, ...options });
    this.managers.push(manager);
    return manager;
  }

  async start(options: Partial<LinkManagerOptions> = {}): Promise<Started> {
    const manager = this.create(options);
    const { port } = await manager.listen();
    return { manager, info: { id: manager.self, address: `${LOOPBACK}:${port}` } };
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.managers.splice(0).map((m) => m.close()));
  }
}

/** Resolves with the arguments of the next `event` whose arguments satisfy `accept`. */
export function nextEvent<Args extends unknown[]>(
  emitter: EventEmitter,
  event: string,
  accept: (...args: Args) => boolean = () => true,
  timeoutMs = DEADLINE_MS,
): Promise<Args> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]): void => {
      if (!accept(...(args as Args))) return;
      cleanup();
      resolve(args as Args);
    };
    const cleanup = (): void => {
      clearTimeout(deadline);
      emitter.off(event, listener);
    };
    const deadline = setTimeout(() => {
      cleanup();
      reject(new Error(`no '${event}' within ${timeoutMs} ms`));
    }, timeoutMs);
    emitter.on(event, listener);
  });
}

/**
 * Resolves once `condition()` holds, checked every few milliseconds; rejects after `timeoutMs`.
 * For state that no event announces (a retired socket finishing its close); never a fixed sleep.
 */
export function eventually(what: string, condition: () => boolean, timeoutMs = DEADLINE_MS): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (condition()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(check, 5);
    };
    check();
  });
}

/** A raw TCP socket to `address`, connected, for playing a broken or hostile peer. */
export async function rawSocket(address: string): Promise<Socket> {
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  const socket = tcpConnect({ host: LOOPBACK, port });
  socket.on('error', () => {}); // The manager may reset it; that is the point of most tests.
  socket.resume(); // Flowing, so that the manager's FIN surfaces as 'end' and 'close'.
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** A loopback port with nothing listening on it (bound by the OS, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A dials B by address; resolves once both ends have announced the link. */
export async function link(a: Started, b: Started): Promise<void> {
  const upAtB = nextEvent(b.manager, 'linkUp', (peer: PeerInfo) => peer.id === a.info.id);
  await a.manager.dialAddress(b.info.address);
  await upAtB;
}

/** A raw peer dialled to `a` that says Hello, once `a` reports the link up. */
export async function rawNeighbour(a: Started): Promise<{ reader: RawPeer; peer: PeerInfo }> {
  const reader = await RawPeer.dial(a.info.address);
  reader.hello();
  const [peer] = await nextEvent<[PeerInfo]>(a.manager, 'linkUp');
  return { reader, peer };
}

/** Every gossip message a manager emits, in order: who relayed it and its seq. */
export function recordMessages(manager: LinkManager): { from: NodeId; seq: number }[] {
  const received: { from: NodeId; seq: number }[] = [];
  manager.on('message', (from, message) => {
    if (message.type === 'gossip') received.push({ from: from.id, seq: message.seq });
  });
  return received;
}

/** A numbered gossip message: tests track delivery by seq. */
export function gossip(origin: NodeId, seq: number, payloadBytes = 8) {
  return {
    type: 'gossip',
    origin,
    seq,
    hops: 0,
    payload: new Uint8Array(payloadBytes).fill(seq & 0xff),
  } as const;
}

/**
 * A hand-driven peer on a raw socket that speaks the secure transport correctly (Noise handshake,
 * sealed frames) but sends whatever frames the test chooses, in whatever order: for playing broken,
 * hostile or racing peers. Decoded frames it receives are collected in `frames`.
 */
export class RawPeer extends EventEmitter {
  readonly frames: WireMessage[] = [];
  readonly channel: SecureChannel;
  /** Resolves once the handshake is done and frames can be sent; rejects if the channel fails. */
  readonly secured: Promise<void>;
  failure: ChannelEvent | undefined;

  constructor(
    readonly socket: Socket,
    initiator: boolean,
    readonly identity: Identity = generateIdentity(),
    networkKey?: NetworkKey,
  ) {
    super();
    this.channel = new SecureChannel(initiator, identity, networkKey?.handshakeKey, 16 * 1024 * 1024);
    this.secured = new Promise((resolve, reject) => {
      this.once('secured', resolve);
      this.once('failed', reject);
    });
    this.secured.catch(() => {});
    socket.on('error', () => {}); // The manager may reset it; that is the point of most tests.
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    for (const bytes of this.channel.start()) socket.write(bytes);
  }

  /** Dials `address` as a Noise initiator and resolves once the handshake is done. */
  static async dial(address: string, identity?: Identity, networkKey?: NetworkKey): Promise<RawPeer> {
    const peer = new RawPeer(await rawSocket(address), true, identity, networkKey);
    await peer.secured;
    return peer;
  }

  get id(): NodeId {
    return this.identity.id;
  }

  /** Seals and sends one frame. */
  send(message: WireMessage): void {
    this.sendSealed(encodeFrame(message).subarray(LENGTH_PREFIX_BYTES));
  }

  /** Seals arbitrary bytes as a frame body: garbage inside a valid record. */
  sendSealed(body: Uint8Array): void {
    this.socket.write(this.channel.seal(body));
  }

  hello(listenPort = 4000, id: NodeId = this.id): void {
    this.send({ type: 'hello', id, listenPort });
  }

  private onData(chunk: Buffer): void {
    for (const event of this.channel.receive(chunk)) {
      switch (event.kind) {
        case 'send':
          this.socket.write(event.bytes);
          break;
        case 'secured':
          this.emit('secured');
          break;
        case 'plaintext': {
          const decoded = decodeBody(event.body);
          if (decoded.ok) {
            this.frames.push(decoded.value);
            this.emit('frame', decoded.value);
          }
          break;
        }
        case 'failure':
          this.failure = event;
          this.emit('failed', new Error(`${event.reason}: ${event.detail}`));
          break;
      }
    }
  }
}
