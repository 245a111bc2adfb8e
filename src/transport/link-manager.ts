import { EventEmitter } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { encodeFrame, encodeFrameWith, LENGTH_PREFIX_BYTES } from '../codec/index.js';
import type { ProtocolMessage } from '../core/messages.js';
import type { NodeId, PeerInfo } from '../core/types.js';
import type { Logger } from '../log/logger.js';
import { formatAddress, type HostPort, normalizeHost, parseAddress } from './address.js';
import { type AddressDial, Connection, type Inbound } from './connection.js';
import {
  CLOSE_DEADLINE_MS,
  HELD_LOOP_THRESHOLD_MS,
  NOT_LISTENING_PORT,
  SEND_WAIT_MAX_IDLE_TIMEOUTS,
} from './defaults.js';
import { type Direction, resolveDuplicates } from './duplicate-rule.js';
import { type LinkManagerOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { bindServer } from './port-binding.js';
import { TokenBucket } from './rate-limit.js';
import type { Rejection, RejectReason } from './rejection.js';
import { ScratchBuffer } from './scratch-buffer.js';
import { SecureChannel } from './secure-channel.js';
import { emptyStats, type TransportStats } from './stats.js';

export type { LinkManagerOptions } from './options.js';

/** Why a link went away: we closed it, the peer closed it, the socket failed, or it fell silent. */
export type LinkDownReason = 'local' | 'remote' | 'error' | 'timeout';

export type LinkManagerEvents = {
  /** A peer became reachable. Paired with exactly one later 'linkDown'. */
  linkUp: [peer: PeerInfo, direction: Direction];
  /** The peer's link went away, for any reason (including disconnect() and close(): 'local'). */
  linkDown: [peer: PeerInfo, reason: LinkDownReason];
  message: [from: PeerInfo, message: ProtocolMessage];
  /** A send() could not reach the peer; the messages queued for it are dropped. */
  dialFailed: [peer: PeerInfo, error: Error];
  /**
   * A connection was refused or closed for cause: it broke the protocol, failed or never completed
   * its handshake, or stopped reading. `reason` is "code: detail".
   */
  rejected: [remoteAddress: string, reason: string, code: RejectReason];
  /** Every link that was backlogged (see backlogged()) has drained below the high-water mark. */
  drain: [];
};

export interface LinkInfo {
  readonly peer: PeerInfo;
  readonly direction: Direction;
}

/** A peer with a link: announced by 'linkUp', not yet by 'linkDown'. */
interface UpPeer {
  readonly info: PeerInfo;
  /** Undefined while the link is gone but its replacement may still be handshaking (see reconcile). */
  active: Connection | undefined;
  direction: Direction;
  /** Host of the last active link: a replacement link comes from there. */
  host: string;
  /** When the last link ended while a replacement may still come (see reconcile). */
  lostAt: number | undefined;
  /** linkUp was emitted: only then is a linkDown owed. */
  announced: boolean;
}

/** Frames for a peer that has no usable link yet, and the dial that will carry them. */
interface Outbox {
  readonly peer: PeerInfo;
  frames: Buffer[];
  /** Total length of `frames`, bounded by maxSendQueueBytes like a link's queue. */
  bytes: number;
  dial: Connection | undefined;
}

const PING_FRAME = encodeFrame({ type: 'ping' });

/**
 * Largest frame kept for reuse by the next send() of the same message (see lastEncoded): far above
 * the 1 KiB payloads of chat and telemetry, far below the 1 MiB maximum that an idle node should not
 * pin.
 */
const REUSED_FRAME_MAX_BYTES = 64 * 1024;

/**
 * Frames being encoded and records being sealed, shared by every LinkManager of the process: each
 * is used up synchronously (sealed, or taken by the kernel during write()) before the next one is
 * built, so one buffer serves all of them instead of two new ones per frame sent. Frames above
 * REUSED_FRAME_MAX_BYTES get buffers of their own.
 */
const frameScratch = new ScratchBuffer(REUSED_FRAME_MAX_BYTES);
const sealScratch = new ScratchBuffer(SecureChannel.sealedLength(REUSED_FRAME_MAX_BYTES));
const frameScratchOf = (bytes: number): Buffer => frameScratch.take(bytes);

/**
 * Messages that ask the receiver to do membership work (walk a join, take a neighbour, answer a
 * shuffle or a probe, pass a smaller overlay tag on to every neighbour): a peer may send only so
 * many per second. An honest peer sends an overlay tag when the link comes up, when its overlay's
 * tag falls (at most once a second) and now and then again (once a shuffle period, to one
 * neighbour), far below the limit. ShuffleReply is limited too: it answers one of our shuffles,
 * but any peer may send one unasked. So is Plumtree's Relink, which resets the peer in every tree
 * we keep (up to maxOriginTrees) and which an honest peer sends once per tree link it loses. Other
 * replies, goodbyes and broadcasts are not limited here: they answer our own requests or are
 * bounded by the broadcast layer.
 */
const RATE_LIMITED_TYPES: ReadonlySet<ProtocolMessage['type']> = new Set([
  'join',
  'forwardJoin',
  'neighbor',
  'shuffle',
  'shuffleReply',
  'overlayTag',
  'relink',
]);

/** dialAddress() reached this node's own listening socket: the address is its own. */
export class SelfDialError extends Error {
  constructor(address: string) {
    super(`${address} is this node's own address`);
    this.name = 'SelfDialError';
  }
}

/**
 * Owns every TCP connection of a node: listens, dials, runs the handshake (Noise, then Hello: see
 * connection.ts), keeps at most one link per peer, detects dead links, enforces the limits of
 * defaults.ts, and turns frames into 'message' events. Links are always encrypted and authenticated;
 * there is no plaintext mode.
 *
 * Events are emitted synchronously from socket callbacks and from disconnect()/close(). Ordering:
 * frames sent on one link arrive in order; while duplicate links are being resolved, frames sent on
 * the retired link and on the surviving one may interleave (none is lost). Frames still arriving on
 * a link we are closing (disconnect, retired duplicate) are delivered as 'message' all the same.
 *
 * Call listen() before the first dial: each Hello announces the listen port known at that moment
 * (0 before listen(), which leaves the peer an address it cannot dial back).
 */
export class LinkManager extends EventEmitter<LinkManagerEvents> {
  private readonly options: ResolvedOptions;
  private readonly log: Logger;
  private readonly connections = new Set<Connection>();
  private readonly upPeers = new Map<NodeId, UpPeer>();
  private readonly outboxes = new Map<NodeId, Outbox>();
  /**
   * Peers that disconnect() took while they waited for a replacement link (see reconcile): what was
   * queued for them, and where and when their link was lost. A connection with such a peer from a
   * handshake begun before the loss delivers the frames and ends, as a dial cut short by
   * disconnect() does, rather than coming up as a link nobody asked for.
   */
  private readonly abandonedWaits = new Map<NodeId, { frames: Buffer[]; host: string; lostAt: number }>();
  private readonly counters = emptyStats();
  private server: Server | undefined;
  private listenPort = NOT_LISTENING_PORT;
  private housekeeping: NodeJS.Timeout | undefined;
  /** When the housekeeping timer last ran: a late run reveals a pause of this process. */
  private lastTickAt: number | undefined;
  private handshakesCompleted = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Reasons already warned about: the first rejection of each kind is a warning, the rest debug. */
  private readonly warnedReasons = new Set<RejectReason>();
  /**
   * The last gossip message encoded and its frame. The broadcast layer hands the same message object
   * to send() once per neighbour it goes to, so a relayed payload is encoded (and copied) once
   * instead of once per link. Frames are never changed after encoding; only the sealing differs per
   * link. Only frames up to REUSED_FRAME_MAX_BYTES are kept, so an idle node pins no large payload.
   */
  private lastEncoded:
    | { readonly message: ProtocolMessage; readonly frame: Buffer; readonly generation: number }
    | undefined;

  constructor(options: LinkManagerOptions) {
    super();
    this.options = resolveOptions(options);
    this.log = this.options.logger.child({ component: 'transport' });
  }

  /** The largest frame body this node sends or takes (the maxFrameBytes option). */
  get maxFrameBytes(): number {
    return this.options.maxFrameBytes;
  }

  get self(): NodeId {
    return this.options.identity.id;
  }

  /** Starts accepting links; the port is announced in every Hello sent afterwards. */
  async listen(): Promise<{ host: string; port: number }> {
    if (this.closed) throw new Error('link manager is closed');
    if (this.server !== undefined) throw new Error('already listening');
    const server = createServer();
    server.on('connection', (socket) => this.accept(socket));
    this.server = server;
    try {
      const bound = await bindServer(server, this.options.host, this.options.port);
      if (this.closed) {
        server.close();
        throw new Error('link manager closed while binding');
      }
      server.on('error', (error) => this.log.error({ err: error }, 'listening socket failed'));
      this.listenPort = bound.port;
      this.log.debug({ host: bound.address, port: bound.port }, 'listening');
      return { host: bound.address, port: bound.port };
    } catch (error) {
      this.server = undefined;
      throw error;
    }
  }

  /**
   * Sends on the peer's link. Without one, queues the message and dials peer.address (one pending
   * dial per peer id); the queue is flushed when a link to that id comes up by any means, and
   * dropped with 'dialFailed' if the dial fails first. Never throws; a message the codec refuses is
   * counted in stats().unsendableMessages and dropped.
   */
  send(peer: PeerInfo, message: ProtocolMessage): void {
    if (this.closed) return;
    const frame = this.encodeOnce(message);
    if (frame === undefined) return;
    const up = this.upPeers.get(peer.id);
    if (up?.active !== undefined) {
      this.writeFrame(up.active, frame);
      return;
    }
    let outbox = this.outboxes.get(peer.id);
    if (outbox === undefined) {
      outbox = { peer, frames: [], bytes: 0, dial: undefined };
      this.outboxes.set(peer.id, outbox);
    }
    // Counted as the link will carry them, sealed: the flush then fits the send queue it fills.
    const sealed = SecureChannel.sealedLength(frame.length - LENGTH_PREFIX_BYTES);
    if (outbox.bytes + sealed > this.options.maxSendQueueBytes) {
      this.counters.unsendableMessages++;
      this.log.debug(
        { peer: peer.id, queued: outbox.bytes },
        'queue for a peer still dialing is full; dropped',
      );
      return;
    }
    // Queued frames outlive the scratch memory they were encoded in.
    outbox.frames.push(frameScratch.holds(frame) ? Buffer.from(frame) : frame);
    outbox.bytes += sealed;
    // An up peer without an active link is waiting for its replacement link: no extra dial.
    if (up === undefined && outbox.dial === undefined) this.dial(outbox);
  }

  /**
   * Closes the link to the peer gracefully: frames already sent or queued are delivered first, then
   * the link is ended. Emits 'linkDown' (reason 'local') before returning if the peer was up. A dial
   * still in progress is completed only to deliver its queued frames; it raises no events.
   */
  disconnect(peerId: NodeId): void {
    if (this.closed) return;
    const outbox = this.outboxes.get(peerId);
    this.outboxes.delete(peerId);
    const up = this.upPeers.get(peerId);
    const waiting = up !== undefined && up.active === undefined && up.lostAt !== undefined;
    if (outbox?.dial !== undefined) outbox.dial.drainFrames = outbox.frames;
    if (waiting) {
      const frames = outbox?.dial === undefined ? (outbox?.frames ?? []) : [];
      this.abandonedWaits.set(peerId, { frames, host: up.host, lostAt: up.lostAt as number });
    } else if (outbox?.dial === undefined && outbox !== undefined && outbox.frames.length > 0) {
      this.log.debug({ peer: peerId, frames: outbox.frames.length }, 'disconnect drops frames with no link');
    }
    for (const conn of this.connections) {
      if (conn.isUsable && conn.peer?.id === peerId) this.retire(conn);
    }
    if (up !== undefined) {
      this.upPeers.delete(peerId);
      this.emit('linkDown', up.info, 'local');
    }
    // A dial that now only drains frames replaces no lost link: peers waiting on it may know more.
    if (outbox?.dial !== undefined) this.recheckWaitingPeers();
  }

  /**
   * Bootstrap: dials "host:port" of a node whose id is unknown. Resolves with its PeerInfo once the
   * handshake completes (the link is then up like any other); rejects on a connection error, a
   * handshake timeout or violation, or when the address turns out to be this node.
   */
  dialAddress(address: string): Promise<PeerInfo> {
    if (this.closed) return Promise.reject(new Error('link manager is closed'));
    const target = parseAddress(address);
    if (target === undefined)
      return Promise.reject(new Error(`malformed address ${JSON.stringify(address)}`));
    return new Promise((resolve, reject) => {
      const dial: AddressDial = { resolve, reject };
      this.open(target, undefined).addressDial = dial;
    });
  }

  /** Peers that are up, with the direction of the link in use. */
  links(): LinkInfo[] {
    return [...this.upPeers.values()].map((up) => ({ peer: up.info, direction: up.direction }));
  }

  stats(): TransportStats {
    let pendingWriteBytes = 0;
    for (const conn of this.connections) pendingWriteBytes += conn.socket.writableLength;
    const pendingHandshakes = this.pendingInbound().length;
    return {
      ...this.counters,
      pendingWriteBytes,
      pendingHandshakes,
      rejections: { ...this.counters.rejections },
    };
  }

  /**
   * True while some usable link has more than sendHighWaterBytes queued: a sender should wait for
   * 'drain' before sending more, or its slowest peers risk reaching maxSendQueueBytes and being cut off.
   */
  backlogged(): boolean {
    for (const conn of this.connections) if (conn.backlogged && conn.isUsable) return true;
    return false;
  }

  /**
   * Resolves once every socket has closed by itself, as retired links do when both ends have ended
   * them, or after `timeoutMs`. A node leaving calls it after disconnecting every peer so that its
   * goodbyes are read before close() destroys anything.
   */
  async settle(timeoutMs: number): Promise<void> {
    const open = [...this.connections].map((conn) => conn.closed);
    if (open.length === 0) return;
    let deadline: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      deadline = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(open), timedOut]);
    clearTimeout(deadline);
  }

  /**
   * Stops listening and destroys every socket and the housekeeping timer. Emits 'linkDown' ('local')
   * for each up peer, then no event at all. Resolves once every socket has closed, or after
   * CLOSE_DEADLINE_MS at the latest. Pending dialAddress() promises reject.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    this.stopHousekeeping();
    const waits: Promise<void>[] = [];
    const server = this.server;
    if (server !== undefined) waits.push(new Promise((resolve) => server.close(() => resolve())));
    for (const conn of this.connections) {
      conn.gone = true;
      conn.addressDial?.reject(new Error('link manager closed'));
      conn.addressDial = undefined;
      waits.push(conn.closed);
      conn.socket.destroy();
    }
    const downs = [...this.upPeers.values()];
    this.upPeers.clear();
    this.outboxes.clear();
    this.abandonedWaits.clear();
    for (const up of downs) this.emit('linkDown', up.info, 'local');
    let deadline: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      deadline = setTimeout(resolve, CLOSE_DEADLINE_MS);
    });
    await Promise.race([Promise.all(waits), timedOut]);
    clearTimeout(deadline);
  }

  // --- Connections --------------------------------------------------------------------------------

  private accept(socket: Socket): void {
    const seen = socket.remoteAddress;
    if (this.closed || seen === undefined) {
      socket.destroy();
      return;
    }
    const host = normalizeHost(seen);
    const refusal = this.admissionRefusal(host);
    if (refusal !== undefined) {
      // Refused before any byte is read or any key computed: the cheapest possible no.
      const label = formatAddress(host, socket.remotePort ?? 0);
      socket.on('error', () => {});
      socket.destroy();
      this.counters.handshakeFailures++;
      this.noteRejection(label, undefined, refusal);
      return;
    }
    this.adopt(this.connection(socket, 'in', host));
  }

  /** Why a new inbound connection from `host` must be refused at once, if it must. */
  private admissionRefusal(host: string): Rejection | undefined {
    const { maxPendingHandshakes, maxPendingHandshakesPerHost, maxLinksPerHost } = this.options;
    const pending = this.pendingInbound();
    if (pending.length >= maxPendingHandshakes) {
      return { reason: 'too-many-handshakes', detail: `${pending.length} handshakes in progress` };
    }
    const pendingFromHost = pending.filter((c) => c.remoteHost === host).length;
    if (pendingFromHost >= maxPendingHandshakesPerHost) {
      return {
        reason: 'too-many-handshakes',
        detail: `${pendingFromHost} handshakes in progress from ${host}`,
      };
    }
    let fromHost = 0;
    for (const conn of this.connections) if (conn.direction === 'in' && conn.remoteHost === host) fromHost++;
    if (fromHost >= maxLinksPerHost) {
      return { reason: 'too-many-links-from-host', detail: `${fromHost} connections from ${host}` };
    }
    return undefined;
  }

  private pendingInbound(): Connection[] {
    return [...this.connections].filter((c) => c.direction === 'in' && c.phase === 'handshaking' && !c.gone);
  }

  private connection(socket: Socket, direction: Direction, host: string): Connection {
    const { identity, networkKey, maxFrameBytes, membershipRequestsPerSecond, membershipRequestBurst } =
      this.options;
    const now = this.now();
    return new Connection(
      socket,
      direction,
      host,
      identity,
      networkKey?.handshakeKey,
      maxFrameBytes,
      new TokenBucket(membershipRequestsPerSecond, membershipRequestBurst, now),
      now,
    );
  }

  private dial(outbox: Outbox): void {
    const { peer } = outbox;
    if (peer.id === this.self) {
      this.refuseDial(outbox, new Error('refusing to dial this node itself'));
      return;
    }
    const target = parseAddress(peer.address);
    if (target === undefined) {
      this.refuseDial(outbox, new Error(`malformed address ${JSON.stringify(peer.address)}`));
      return;
    }
    outbox.dial = this.open(target, peer);
  }

  private refuseDial(outbox: Outbox, error: Error): void {
    this.outboxes.delete(outbox.peer.id);
    // Deferred: send() must not call back into its caller.
    process.nextTick(() => {
      if (!this.closed) this.emit('dialFailed', outbox.peer, error);
    });
  }

  private open(target: HostPort, expected: PeerInfo | undefined): Connection {
    const socket = createConnection({ host: target.host, port: target.port });
    const conn = this.connection(socket, 'out', target.host);
    conn.expected = expected;
    this.adopt(conn);
    return conn;
  }

  /**
   * The dialer starts the Noise handshake at once (three messages, see secure-channel.ts); once a
   * side has proven keys it sends its sealed Hello without waiting for the other's.
   */
  private adopt(conn: Connection): void {
    const { socket } = conn;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('end', () => this.onRemoteEnd(conn));
    socket.on('error', (error) => this.onSocketError(conn, error));
    socket.on('close', () => this.onSocketClose(conn));
    socket.on('drain', () => this.onSocketDrain(conn));
    this.connections.add(conn);
    this.startHousekeeping();
    for (const bytes of conn.channel.start()) this.writeRaw(conn, bytes);
  }

  private onData(conn: Connection, chunk: Buffer): void {
    if (this.closed) return;
    const now = this.now();
    conn.lastReceivedAt = now;
    this.counters.bytesIn += chunk.length;
    conn.receive(chunk, (inbound) => this.onInbound(conn, inbound, now));
  }

  /** One result of received bytes; false once the connection is done with (the rest is not read). */
  private onInbound(conn: Connection, inbound: Inbound, now: number): boolean {
    if (conn.gone || this.closed) return false;
    switch (inbound.kind) {
      case 'violation':
        this.onViolation(conn, inbound);
        return false;
      case 'send':
        this.writeRaw(conn, inbound.bytes);
        return true;
      case 'secured':
        this.writeFrame(conn, encodeFrame({ type: 'hello', id: this.self, listenPort: this.listenPort }));
        return true;
      case 'established':
        this.counters.framesIn++;
        this.onEstablished(conn);
        return true;
      case 'ping':
        this.counters.framesIn++;
        return true;
      case 'message':
        this.counters.framesIn++;
        if (RATE_LIMITED_TYPES.has(inbound.message.type) && !conn.requests.take(now)) {
          // Dropped, not disconnected: an honest peer in a burst loses a request the protocol
          // retries anyway; a flooding one gains nothing and costs us one counter.
          this.noteRejection(conn.remoteLabel, conn.peer?.id, {
            reason: 'rate-limited',
            detail: `${inbound.message.type} above ${this.options.membershipRequestsPerSecond}/s`,
          });
          return true;
        }
        this.emit('message', conn.peer as PeerInfo, inbound.message);
        return true;
    }
  }

  private onViolation(conn: Connection, violation: Inbound & { kind: 'violation' }): void {
    // Our own key at the other end is a copied key file, unless both ends are ours: a dial that
    // reached our own listening socket, as a bootstrap list shared by every node does. That is no
    // peer misbehaving, so it is neither counted nor logged as a rejection.
    const twin = conn.remoteId === this.self ? this.selfLoopTwin(conn) : undefined;
    if (twin !== undefined) {
      const error = new SelfDialError((conn.direction === 'out' ? conn : twin).remoteLabel);
      this.drop(twin, 'error', error);
      this.drop(conn, 'error', error);
      return;
    }
    const { reason } = violation;
    const broken = reason === 'malformed' || reason === 'oversize' || reason === 'forged-record';
    if (broken || conn.phase === 'established') this.counters.malformedFrames++;
    this.drop(conn, 'error', violation);
  }

  /**
   * The other end of `conn` when both ends are connections of this manager: a connection to itself.
   * Matched by the handshake's ephemeral key rather than by addresses, which a dual-stack listener
   * (::ffff:127.0.0.1 against 127.0.0.1) or a NAT on the way (a public address that leads back
   * here) would make differ.
   */
  private selfLoopTwin(conn: Connection): Connection | undefined {
    const key = conn.channel.initiatorEphemeral;
    if (key === undefined) return undefined;
    for (const other of this.connections) {
      if (other.direction !== conn.direction && other.channel.initiatorEphemeral?.equals(key)) return other;
    }
    return undefined;
  }

  private onRemoteEnd(conn: Connection): void {
    if (conn.phase === 'handshaking') {
      const detail = 'connection closed before the handshake';
      // Only an inbound stranger is 'rejected'; our own failed dial is reported by dialFailed.
      if (conn.direction === 'in') this.drop(conn, 'remote', { reason: 'handshake-failed', detail });
      else this.drop(conn, 'remote', new Error(detail));
      return;
    }
    // allowHalfOpen is off: the socket ends our side too and closes once both FINs are through.
    this.connectionGone(conn, 'remote', new Error('peer closed the link'));
  }

  private onSocketError(conn: Connection, error: Error): void {
    this.log.debug({ remote: conn.remoteLabel, err: error }, 'socket error');
    // The socket destroys itself after 'error'; 'close' follows.
    this.connectionGone(conn, 'error', error);
  }

  private onSocketClose(conn: Connection): void {
    this.connections.delete(conn);
    if (conn.phase === 'established') this.counters.linksClosed++;
    this.connectionGone(conn, 'error', new Error('socket closed'));
    conn.noteClosed();
    if (this.connections.size === 0) this.stopHousekeeping();
  }

  /**
   * Ends a connection at once (destroy): for a Rejection (counted, logged and announced as
   * 'rejected'), or for a plain Error (our own dial failing, a dead link).
   */
  private drop(conn: Connection, reason: LinkDownReason, cause: Error | Rejection): void {
    if (conn.gone) return;
    let error: Error;
    if (cause instanceof Error) {
      error = cause;
    } else {
      error = new Error(`${cause.reason}: ${cause.detail}`);
      this.noteRejection(conn.remoteLabel, conn.peer?.id ?? conn.remoteId, cause);
    }
    this.connectionGone(conn, reason, error);
    conn.socket.destroy();
  }

  /** Counts a refusal, logs it once (the first of its kind as a warning), and announces it. */
  private noteRejection(remote: string, peer: NodeId | undefined, rejection: Rejection): void {
    if (this.closed) return;
    const { reason, detail } = rejection;
    this.counters.rejections[reason]++;
    const fields = { remote, peer, reason, detail };
    if (this.warnedReasons.has(reason)) {
      this.log.debug(fields, 'rejected');
    } else {
      this.warnedReasons.add(reason);
      this.log.warn(
        fields,
        'rejected (first of this kind; later ones are logged at debug level and counted)',
      );
    }
    if (reason !== 'rate-limited') this.emit('rejected', remote, `${reason}: ${detail}`, reason);
  }

  /** The one place a connection stops being usable; raises the events that follow from it. */
  private connectionGone(conn: Connection, reason: LinkDownReason, error: Error): void {
    if (conn.gone) return;
    conn.gone = true;
    conn.lingerSince ??= this.now();
    this.releaseBacklog(conn);
    if (this.closed) return;
    if (conn.phase === 'handshaking') {
      this.onHandshakeFailed(conn, error);
      return;
    }
    if (!conn.retired) this.reconcile((conn.peer as PeerInfo).id, reason);
  }

  private onHandshakeFailed(conn: Connection, error: Error): void {
    this.counters.handshakeFailures++;
    if (conn.drainFrames !== undefined && conn.drainFrames.length > 0) {
      this.log.debug(
        { peer: conn.expected, frames: conn.drainFrames.length },
        'dial after disconnect failed',
      );
    }
    conn.addressDial?.reject(error);
    conn.addressDial = undefined;
    const outbox = conn.expected === undefined ? undefined : this.outboxes.get(conn.expected.id);
    if (outbox?.dial === conn) {
      outbox.dial = undefined;
      if (!this.upPeers.has(outbox.peer.id)) {
        this.outboxes.delete(outbox.peer.id);
        this.log.debug({ peer: outbox.peer, err: error, frames: outbox.frames.length }, 'dial failed');
        this.emit('dialFailed', outbox.peer, error);
      } else if (outbox.frames.length === 0) {
        this.outboxes.delete(outbox.peer.id);
      }
    }
    this.recheckWaitingPeers();
  }

  private onEstablished(conn: Connection): void {
    const peer = conn.peer as PeerInfo;
    conn.establishedSeq = ++this.handshakesCompleted;
    this.counters.linksOpened++;
    this.log.debug({ peer, direction: conn.direction }, 'handshake complete');
    const abandoned = this.abandonedWaits.get(peer.id);
    // A dial disconnect() left to drain has frames of its own, and was no candidate for the wait.
    const candidate = conn.addressDial === undefined && conn.drainFrames === undefined;
    if (abandoned !== undefined && candidate && conn.startedAt <= abandoned.lostAt) {
      this.abandonedWaits.delete(peer.id);
      conn.drainFrames = abandoned.frames;
    }
    if (conn.drainFrames !== undefined) {
      for (const frame of conn.drainFrames) this.writeFrame(conn, frame);
      conn.drainFrames = undefined;
      this.retire(conn);
      this.recheckWaitingPeers();
      return;
    }
    conn.addressDial?.resolve(peer);
    conn.addressDial = undefined;
    const outbox = this.outboxes.get(peer.id);
    if (outbox?.dial === conn) outbox.dial = undefined;
    this.reconcile(peer.id, 'remote');
    this.recheckWaitingPeers();
  }

  // --- One link per peer --------------------------------------------------------------------------

  /**
   * Re-derives a peer's link from its usable connections: picks the one to send on (duplicate-rule),
   * retires the losers, flushes queued frames, and raises linkUp/linkDown on a change of reachability.
   *
   * When the last link ended by the peer's FIN ('remote'), that may be the peer retiring a duplicate
   * whose winner has not finished its handshake here yet (the two sockets race). The peer then stays
   * up, sends queue, until no connection that could be the winner is still handshaking: a send() dial
   * to it, or any handshake with its host, begun before the loss. That wait is bounded by the
   * handshake timeout. linkUp is raised after the queued frames are flushed, and only if that left
   * the link up, so that every linkDown follows its linkUp.
   */
  private reconcile(peerId: NodeId, reason: LinkDownReason): void {
    const candidates = [...this.connections].filter((c) => c.isUsable && c.peer?.id === peerId);
    const up = this.upPeers.get(peerId);
    if (candidates.length === 0) {
      if (up === undefined) return;
      up.active = undefined;
      up.lostAt ??= this.now();
      if (reason === 'remote' && this.replacementMayArrive(peerId, up.host, up.lostAt)) {
        this.log.debug({ peer: peerId }, 'link ended; waiting for a replacement still handshaking');
        return;
      }
      this.upPeers.delete(peerId);
      const outbox = this.outboxes.get(peerId);
      // A pending dial keeps its frames: it will deliver them after a fresh linkUp.
      if (outbox !== undefined && outbox.dial === undefined) {
        this.outboxes.delete(peerId);
        if (outbox.frames.length > 0)
          this.log.debug({ peer: peerId, frames: outbox.frames.length }, 'link lost');
      }
      this.log.debug({ peer: up.info, reason }, 'link down');
      if (up.announced) this.emit('linkDown', up.info, reason);
      return;
    }
    const { active, retire } = resolveDuplicates(this.self, peerId, candidates);
    for (const loser of retire) {
      this.counters.duplicateLinksResolved++;
      this.log.debug({ peer: peerId, direction: loser.direction }, 'retiring duplicate link');
      this.retire(loser);
    }
    const peer = active.peer as PeerInfo;
    if (up === undefined) {
      const entry: UpPeer = {
        info: peer,
        active,
        direction: active.direction,
        host: active.remoteHost,
        lostAt: undefined,
        announced: false,
      };
      this.upPeers.set(peerId, entry);
      // Queued frames go first; flushing them can overflow the send queue and drop the link. It was
      // then never up for our listeners, and they learn of it as of any link that never came up.
      this.flushOutbox(peerId, active);
      if (this.upPeers.get(peerId) !== entry) {
        this.emit(
          'dialFailed',
          peer,
          new Error('the link was dropped before it came up: its send queue overflowed'),
        );
        return;
      }
      entry.announced = true;
      this.log.debug({ peer, direction: active.direction }, 'link up');
      this.emit('linkUp', peer, active.direction);
    } else if (up.active !== active) {
      up.active = active;
      up.direction = active.direction;
      up.host = active.remoteHost;
      up.lostAt = undefined;
      this.flushOutbox(peerId, active);
    }
  }

  /**
   * Whether a connection that could replace the peer's lost link is still handshaking: a dial to
   * it, or any handshake with its host, begun before the link was lost at `lostAt`. Later ones do
   * not count, so that strangers from the same host, one after another, cannot hold the wait open.
   */
  private replacementMayArrive(peerId: NodeId, host: string, lostAt: number): boolean {
    for (const conn of this.connections) {
      if (conn.phase !== 'handshaking' || conn.gone || conn.drainFrames !== undefined) continue;
      if (conn.startedAt > lostAt) continue;
      if (conn.expected?.id === peerId || conn.remoteHost === host) return true;
    }
    return false;
  }

  /** A handshake ended: peers waiting for a replacement link may now know they will not get one. */
  private recheckWaitingPeers(): void {
    for (const [peerId, up] of [...this.upPeers]) {
      if (up.active === undefined && this.upPeers.get(peerId) === up) this.reconcile(peerId, 'remote');
    }
    for (const [peerId, { frames, host, lostAt }] of this.abandonedWaits) {
      if (this.replacementMayArrive(peerId, host, lostAt)) continue;
      this.abandonedWaits.delete(peerId);
      if (frames.length > 0)
        this.log.debug({ peer: peerId, frames: frames.length }, 'disconnect drops frames with no link');
    }
  }

  /** Stop sending; end() after what was written; keep reading until the peer's FIN. */
  private retire(conn: Connection): void {
    if (conn.retired) return;
    conn.retired = true;
    this.releaseBacklog(conn);
    conn.lingerSince ??= this.now();
    conn.socket.end();
  }

  private flushOutbox(peerId: NodeId, conn: Connection): void {
    const outbox = this.outboxes.get(peerId);
    if (outbox === undefined) return;
    const frames = outbox.frames;
    outbox.frames = [];
    outbox.bytes = 0;
    for (const frame of frames) this.writeFrame(conn, frame);
    if (outbox.dial === undefined) this.outboxes.delete(peerId);
  }

  // --- Frames out ---------------------------------------------------------------------------------

  /** encode(), reusing the frame when the same message object is sent again (to another peer). */
  private encodeOnce(message: ProtocolMessage): Buffer | undefined {
    const last = this.lastEncoded;
    // The frame is still in the scratch memory unless something was encoded there since.
    if (last !== undefined && last.message === message && last.generation === frameScratch.generation) {
      return last.frame;
    }
    const frame = this.encode(message);
    const reusable =
      frame !== undefined && message.type === 'gossip' && frame.length <= REUSED_FRAME_MAX_BYTES;
    this.lastEncoded = reusable ? { message, frame, generation: frameScratch.generation } : undefined;
    return frame;
  }

  private encode(message: ProtocolMessage): Buffer | undefined {
    let frame: Buffer;
    try {
      frame = encodeFrameWith(message, frameScratchOf);
    } catch (error) {
      // Only a message this process built wrong can fail to encode: a bug, but not worth a crash.
      this.counters.unsendableMessages++;
      this.log.error({ err: error, type: message.type }, 'message cannot be encoded; dropped');
      return undefined;
    }
    if (frame.length - LENGTH_PREFIX_BYTES > this.options.maxFrameBytes) {
      this.counters.unsendableMessages++;
      this.log.warn({ type: message.type, bytes: frame.length }, 'message exceeds maxFrameBytes; dropped');
      return undefined;
    }
    return frame;
  }

  /**
   * The single place a frame is handed to a socket, sealed for the link. Bounded: a peer whose
   * queue (bytes the kernel has not taken yet) would pass maxSendQueueBytes has stopped reading and
   * is disconnected, instead of our heap growing with everything we send it.
   */
  private writeFrame(conn: Connection, frame: Buffer): void {
    const { socket } = conn;
    if (socket.destroyed || socket.writableEnded || conn.gone) return;
    const { maxSendQueueBytes, sendHighWaterBytes } = this.options;
    const length = SecureChannel.sealedLength(frame.length - LENGTH_PREFIX_BYTES);
    if (socket.writableLength + length > maxSendQueueBytes) {
      this.counters.unsendableMessages++;
      const detail = `${socket.writableLength} bytes unsent, limit ${maxSendQueueBytes}`;
      this.drop(conn, 'error', { reason: 'send-queue-full', detail });
      return;
    }
    // A socket with bytes already queued queues this record as well: it gets memory of its own.
    const queues = socket.writableLength > 0 || socket.connecting;
    const target = queues ? Buffer.allocUnsafe(length) : sealScratch.take(length);
    const body = new Uint8Array(
      frame.buffer,
      frame.byteOffset + LENGTH_PREFIX_BYTES,
      frame.length - LENGTH_PREFIX_BYTES,
    );
    const sealed = conn.channel.seal(body, target);
    this.writeRaw(conn, sealed);
    // Written at once, the record is the kernel's now; else the socket keeps the scratch memory.
    if (socket.writableLength > 0 && sealScratch.holds(sealed)) sealScratch.surrender();
    this.counters.framesOut++;
    // Only a socket whose write() said "wait" will emit the 'drain' that ends the backlog: below
    // its own buffer threshold (16 KiB on Node 20) a link is never marked, whatever the option.
    if (socket.writableLength > sendHighWaterBytes && socket.writableNeedDrain) conn.backlogged = true;
  }

  /** Bytes to the socket as they are: handshake records, and frames writeFrame() has sealed. */
  private writeRaw(conn: Connection, bytes: Buffer): void {
    const { socket } = conn;
    if (socket.destroyed || socket.writableEnded) return;
    if (!socket.write(bytes)) this.counters.backpressuredWrites++;
    conn.bytesHandedOver += bytes.length;
    conn.lastSentAt = this.now();
    this.counters.bytesOut += bytes.length;
  }

  /** The socket's buffer emptied: if no link is backlogged any more, senders may go on. */
  private onSocketDrain(conn: Connection): void {
    this.releaseBacklog(conn);
  }

  /** A link stopped being backlogged (drained, retired or gone): waiting senders may be free now. */
  private releaseBacklog(conn: Connection): void {
    if (!conn.backlogged) return;
    conn.backlogged = false;
    if (!this.closed && !this.backlogged()) this.emit('drain');
  }

  // --- Housekeeping -------------------------------------------------------------------------------

  /** Runs while any socket is open; close() or the last socket closing stops it. */
  private startHousekeeping(): void {
    if (this.housekeeping !== undefined) return;
    this.lastTickAt = this.now();
    this.housekeeping = setInterval(() => this.tick(), this.options.tickMs);
  }

  private stopHousekeeping(): void {
    clearInterval(this.housekeeping);
    this.housekeeping = undefined;
    this.lastTickAt = undefined;
  }

  private tick(): void {
    const now = this.now();
    const { handshakeTimeoutMs, idleTimeoutMs, keepAliveIntervalMs, tickMs } = this.options;
    const sendWaitMax = SEND_WAIT_MAX_IDLE_TIMEOUTS * idleTimeoutMs;
    const paused = this.pauseSinceLastTick(now, tickMs);
    for (const conn of [...this.connections]) {
      if (paused > 0) conn.forgivePause(paused, now);
      if (conn.lingerSince !== undefined) {
        // Retired or half-closed: its FIN exchange should take a moment, not an idle timeout. A
        // peer still talking may still be reading what we sent before the end (disconnect()
        // delivers it first; some of it may sit in the kernel's buffers, which our queue does not
        // show), for a while: SEND_WAIT_MAX_IDLE_TIMEOUTS at most, however long it talks.
        const quiet = now - Math.max(conn.lingerSince, conn.lastReceivedAt);
        if (quiet >= idleTimeoutMs || now - conn.lingerSince >= sendWaitMax) conn.socket.destroy();
      } else if (conn.phase === 'handshaking') {
        if (now - conn.openedAt >= handshakeTimeoutMs) {
          const detail = `no hello within ${handshakeTimeoutMs} ms`;
          // Only an inbound stranger is 'rejected'; our own failed dial is reported by dialFailed.
          if (conn.direction === 'in') this.drop(conn, 'timeout', { reason: 'timeout', detail });
          else this.drop(conn, 'timeout', new Error(detail));
        }
      } else if (now - conn.lastReceivedAt >= idleTimeoutMs) {
        this.log.debug({ peer: conn.peer, idleTimeoutMs }, 'link silent; closing');
        this.drop(conn, 'timeout', new Error(`nothing received for ${idleTimeoutMs} ms`));
      } else if (conn.sendStalledFor(now) >= sendWaitMax) {
        // Its pings keep it from the idle timeout, and a sender that waits for drained() never
        // fills its queue to maxSendQueueBytes: without this, it would hold that sender for good.
        const detail = `the kernel took none of ${conn.socket.writableLength} queued bytes for ${sendWaitMax} ms`;
        this.drop(conn, 'error', { reason: 'send-queue-full', detail });
      } else if (now - conn.lastSentAt >= keepAliveIntervalMs) {
        this.writeFrame(conn, PING_FRAME);
      }
    }
  }

  /**
   * How long this process did not run, as far as the housekeeping timer can tell: a tick more than
   * HELD_LOOP_THRESHOLD_MS late means the event loop was held (a saturated loop, a long GC pause, a
   * debugger). Peers could not be heard meanwhile, and their pings sat unread, so that time must not
   * count against their deadlines. Otherwise a pause of a few seconds times out every link at once,
   * and the reconnects (a Noise handshake each) hold the loop longer still: 1,000 nodes in one
   * process never formed a stable overlay that way. Cassandra's failure detector ignores a local
   * pause for the same reason.
   */
  private pauseSinceLastTick(now: number, tickMs: number): number {
    const late = now - (this.lastTickAt ?? now) - tickMs;
    this.lastTickAt = now;
    return late > HELD_LOOP_THRESHOLD_MS ? late : 0;
  }

  private now(): number {
    return performance.now();
  }
}
