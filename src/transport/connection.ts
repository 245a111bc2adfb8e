import type { Socket } from 'node:net';
import { decodeBody, FrameReader } from '../codec/index.js';
import type { Hello, ProtocolMessage, WireMessage } from '../core/messages.js';
import type { NodeId, PeerInfo } from '../core/types.js';
import { formatAddress, normalizeHost } from './address.js';
import type { Direction, LinkCandidate } from './duplicate-rule.js';

/** What one received frame means for the link, after framing, decoding and the handshake rules. */
export type Inbound =
  | { readonly kind: 'established'; readonly hello: Hello }
  | { readonly kind: 'ping' }
  | { readonly kind: 'message'; readonly message: ProtocolMessage }
  /** The connection must be dropped. `malformed`: the bytes did not decode (vs. a protocol breach). */
  | { readonly kind: 'violation'; readonly reason: string; readonly malformed: boolean };

/** A caller of dialAddress waiting for this connection's handshake. */
export interface AddressDial {
  readonly resolve: (peer: PeerInfo) => void;
  readonly reject: (error: Error) => void;
}

/**
 * One TCP socket and its link-level state. The LinkManager owns the policy (which link to use, when
 * to close); this class only tracks state and turns bytes into Inbound events.
 */
export class Connection implements LinkCandidate {
  readonly openedAt: number;
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
  /** Resolves when the socket emitted 'close'; close() waits on it. */
  readonly closed: Promise<void>;
  private readonly reader: FrameReader;
  private markClosed: () => void = () => {};

  constructor(
    readonly socket: Socket,
    readonly direction: Direction,
    /** Host as dialed (out) or as seen (in); replaced by the socket's view once connected. */
    private readonly knownHost: string,
    private readonly self: NodeId,
    maxFrameBytes: number,
    now: number,
  ) {
    this.reader = new FrameReader(maxFrameBytes);
    this.openedAt = now;
    this.lastReceivedAt = now;
    this.lastSentAt = now;
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
  }

  /** Established, not gone, not retired: may carry new frames. */
  get isUsable(): boolean {
    return this.phase === 'established' && !this.gone && !this.retired;
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
   * Decodes every complete frame of `chunk`, in order. After a violation nothing more is yielded:
   * the stream cannot be trusted (or resynchronised) any more.
   */
  *receive(chunk: Buffer): Generator<Inbound> {
    this.reader.push(chunk);
    for (let frame = this.reader.next(); frame !== undefined; frame = this.reader.next()) {
      if (!frame.ok) {
        yield { kind: 'violation', reason: frame.error.message, malformed: true };
        return;
      }
      const decoded = decodeBody(frame.value);
      if (!decoded.ok) {
        yield { kind: 'violation', reason: decoded.error.message, malformed: true };
        return;
      }
      const inbound = this.interpret(decoded.value);
      yield inbound;
      if (inbound.kind === 'violation') return;
    }
  }

  private interpret(message: WireMessage): Inbound {
    if (this.phase === 'handshaking') {
      if (message.type !== 'hello') return violation(`first frame is ${message.type}, not hello`);
      if (message.id === this.self) return violation('hello carries our own id');
      if (this.expected !== undefined && message.id !== this.expected.id) {
        return violation(`dialed ${this.expected.address} for ${this.expected.id}, found ${message.id}`);
      }
      this.phase = 'established';
      this.peer = { id: message.id, address: formatAddress(this.remoteHost, message.listenPort) };
      return { kind: 'established', hello: message };
    }
    switch (message.type) {
      case 'hello':
        return violation('second hello on an established link');
      case 'ping':
        return { kind: 'ping' };
      default:
        return { kind: 'message', message };
    }
  }
}

function violation(reason: string): Inbound {
  return { kind: 'violation', reason, malformed: false };
}
