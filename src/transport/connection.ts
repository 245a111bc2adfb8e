import type { Socket } from 'node:net';
import { decodeBody } from '../codec/index.js';
import type { Hello, ProtocolMessage, WireMessage } from '../core/messages.js';
import type { NodeId, PeerInfo } from '../core/types.js';
import type { Identity } from '../identity/identity.js';
import { formatAddress, normalizeHost } from './address.js';
import type { Direction, LinkCandidate } from './duplicate-rule.js';
import type { TokenBucket } from './rate-limit.js';
import type { RejectReason } from './rejection.js';
import { type ChannelEvent, SecureChannel } from './secure-channel.js';

/** What received bytes mean for the link, after decryption, decoding and the handshake rules. */
export type Inbound =
  /** Handshake bytes to write to the socket as they are. */
  | { readonly kind: 'send'; readonly bytes: Buffer }
  /** The peer proved its key (its node id): frames can be sealed for it now, starting with our Hello. */
  | { readonly kind: 'secured' }
  | { readonly kind: 'established'; readonly hello: Hello }
  | { readonly kind: 'ping' }
  | { readonly kind: 'message'; readonly message: ProtocolMessage }
  /** The connection must be dropped for `reason`. */
  | { readonly kind: 'violation'; readonly reason: RejectReason; readonly detail: string };

/** A caller of dialAddress waiting for this connection's handshake. */
export interface AddressDial {
  readonly resolve: (peer: PeerInfo) => void;
  readonly reject: (error: Error) => void;
}

/**
 * One TCP socket and its link-level state. The LinkManager owns the policy (which link to use, when
 * to close); this class only tracks state and turns bytes into Inbound events.
 *
 * A link starts with the Noise handshake (SecureChannel), then each side sends a sealed Hello
 * carrying its listen port; the Hello's id must be the key the peer proved. Only then is the link
 * 'established'.
 */
export class Connection implements LinkCandidate {
  /** When the socket opened, moved later by our own pauses (see forgivePause); the handshake's deadline. */
  openedAt: number;
  /** When the socket opened, never moved: the order of events (see LinkManager.replacementMayArrive). */
  readonly startedAt: number;
  /** When bytes last arrived, moved later by our own pauses (see forgivePause); the idle deadline. */
  lastReceivedAt: number;
  lastSentAt: number;
  phase: 'handshaking' | 'established' = 'handshaking';
  /** Set once the peer's Hello arrived. */
  peer: PeerInfo | undefined;
  establishedSeq = 0;
  /** No longer usable: remote FIN, error, timeout, violation, or destroyed. */
  gone = false;
  /** We ended our side (duplicate loser, disconnect): no more sends, still read until EOF. */
  retired = false;
  /** When it became gone or retired: a socket lingering in that state too long is destroyed. */
  lingerSince: number | undefined;
  /** A send() dial: the id the peer must turn out to have. */
  expected: PeerInfo | undefined;
  addressDial: AddressDial | undefined;
  /** disconnect() came before this dial's handshake: write these frames once it completes, then end. */
  drainFrames: Buffer[] | undefined;
  /** Its send queue is above the high-water mark: broadcast() callers are told to wait. */
  backlogged = false;
  /** Bytes handed to the socket so far; less its writableLength, the bytes the kernel has taken. */
  bytesHandedOver = 0;
  /** When the kernel last took some of our queued bytes, or the queue was last seen empty. */
  private sendProgressAt: number;
  private bytesTakenSeen = 0;
  private bytesUnwrittenSeen = 0;
  /** Resolves when the socket emitted 'close'; close() waits on it. */
  readonly closed: Promise<void>;
  readonly channel: SecureChannel;
  private markClosed: () => void = () => {};

  constructor(
    readonly socket: Socket,
    readonly direction: Direction,
    /** Host as dialed (out) or as seen (in); replaced by the socket's view once connected. */
    private readonly knownHost: string,
    private readonly self: Identity,
    networkHandshakeKey: Uint8Array | undefined,
    maxFrameBytes: number,
    /** Limits the membership requests this peer may make (see rate-limit.ts). */
    readonly requests: TokenBucket,
    now: number,
  ) {
    this.channel = new SecureChannel(direction === 'out', self, networkHandshakeKey, maxFrameBytes);
    this.openedAt = now;
    this.startedAt = now;
    this.lastReceivedAt = now;
    this.lastSentAt = now;
    this.sendProgressAt = now;
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
  }

  /**
   * This process did not run for `pausedMs`: the peer could not be heard meanwhile, so the deadlines
   * that judge it move later by as much (never past `now`: silence after the pause still counts).
   */
  forgivePause(pausedMs: number, now: number): void {
    this.openedAt = Math.min(now, this.openedAt + pausedMs);
    this.lastReceivedAt = Math.min(now, this.lastReceivedAt + pausedMs);
    if (this.lingerSince !== undefined) this.lingerSince = Math.min(now, this.lingerSince + pausedMs);
    this.sendProgressAt = Math.min(now, this.sendProgressAt + pausedMs);
  }

  /**
   * How long bytes have waited in the socket's queue without the kernel taking any (0 if none
   * wait). Progress, not the queue's length: the queue of a peer that reads slower than we write
   * grows while it reads, and only one that reads nothing leaves it untouched. Node counts a write
   * done only once all of it is in the kernel, and writes everything queued behind a write in
   * progress as one request, so a burst is one request as long as the queue: the libuv handle's
   * writeQueueSize, what is left of the request in progress, shrinks as the kernel takes parts of
   * it (Node's own socket.setTimeout() judges a write in progress the same way). The kernel takes
   * parts only as its send buffer frees (about a third of it at a time), so a reader far slower
   * than a third of that buffer per SEND_WAIT_MAX_IDLE_TIMEOUTS can still look stalled.
   */
  sendStalledFor(now: number): number {
    const queued = this.socket.writableLength;
    const taken = this.bytesHandedOver - queued;
    const unwritten = writeQueueSize(this.socket);
    // A new request starts only when the one before it is done (taken grows): between two checks
    // without that, the same request is in progress, and less of it left means the kernel took some.
    const progress = queued === 0 || taken > this.bytesTakenSeen || unwritten < this.bytesUnwrittenSeen;
    this.bytesTakenSeen = taken;
    this.bytesUnwrittenSeen = unwritten;
    if (progress) {
      this.sendProgressAt = now;
      return 0;
    }
    return now - this.sendProgressAt;
  }

  /** Established, not gone, not retired: may carry new frames. */
  get isUsable(): boolean {
    return this.phase === 'established' && !this.gone && !this.retired;
  }

  /** The id the peer proved in the handshake, once it has. */
  get remoteId(): NodeId | undefined {
    return this.channel.remoteId;
  }

  /** The peer's host, as the socket sees it once connected. */
  get remoteHost(): string {
    const seen = this.socket.remoteAddress;
    return seen === undefined ? this.knownHost : normalizeHost(seen);
  }

  /** "host:port" of the remote socket (not its listen port), for logs and 'rejected'. */
  get remoteLabel(): string {
    const port = this.socket.remotePort;
    return port === undefined ? this.knownHost : formatAddress(this.remoteHost, port);
  }

  /** Called from the socket's 'close' listener. */
  noteClosed(): void {
    this.markClosed();
  }

  /**
   * Processes `chunk` in order, handing each result to `onInbound`; returning false from it stops
   * the processing (the link was dropped). After a violation nothing more is handed out: the stream
   * cannot be trusted (or resynchronised) any more. Takes ownership of `chunk` (decrypted in place).
   */
  receive(chunk: Buffer, onInbound: (inbound: Inbound) => boolean): void {
    this.onInbound = onInbound;
    this.channel.receiveEach(chunk, this.onChannelEvent);
  }

  /** receive()'s sink for the channel: made once, not a closure per chunk read. */
  private readonly onChannelEvent = (event: ChannelEvent): boolean => {
    const inbound = this.inbound(event);
    return this.onInbound(inbound) && inbound.kind !== 'violation';
  };
  /** The handler of the receive() in progress. */
  private onInbound: (inbound: Inbound) => boolean = () => false;

  private inbound(event: ChannelEvent): Inbound {
    switch (event.kind) {
      case 'send':
        return event;
      case 'secured':
        return this.checkProvenId(event.remoteId);
      case 'failure':
        return violation(event.reason, event.detail);
      case 'plaintext': {
        const decoded = decodeBody(event.body);
        return decoded.ok ? this.interpret(decoded.value) : violation('malformed', decoded.error.message);
      }
    }
  }

  private checkProvenId(remoteId: NodeId): Inbound {
    if (remoteId === this.self.id)
      return violation('protocol-violation', 'peer has our own id: it holds our key (a copied key file?)');
    if (this.expected !== undefined && remoteId !== this.expected.id) {
      return violation(
        'identity-mismatch',
        `dialed ${this.expected.address} for ${this.expected.id}, found ${remoteId}`,
      );
    }
    return { kind: 'secured' };
  }

  private interpret(message: WireMessage): Inbound {
    if (this.phase === 'handshaking') {
      if (message.type !== 'hello') {
        return violation('protocol-violation', `first frame is ${message.type}, not hello`);
      }
      if (message.id !== this.remoteId) {
        return violation('identity-mismatch', `hello claims ${message.id}, key proven is ${this.remoteId}`);
      }
      this.phase = 'established';
      this.peer = { id: message.id, address: formatAddress(this.remoteHost, message.listenPort) };
      return { kind: 'established', hello: message };
    }
    switch (message.type) {
      case 'hello':
        return violation('protocol-violation', 'second hello on an established link');
      case 'ping':
        return { kind: 'ping' };
      default:
        return { kind: 'message', message };
    }
  }
}

/** Bytes of the write in progress not yet in the kernel (libuv's write_queue_size); 0 without a handle. */
function writeQueueSize(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: { writeQueueSize?: number } | null })._handle;
  return handle?.writeQueueSize ?? 0;
}

function violation(reason: RejectReason, detail: string): Inbound {
  return { kind: 'violation', reason, detail };
}
