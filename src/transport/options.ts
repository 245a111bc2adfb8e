import { DEFAULT_MAX_FRAME_BYTES } from '../codec/index.js';
import { MAX_TIMER_DELAY_MS } from '../discovery/scheduler.js';
import type { Identity } from '../identity/identity.js';
import type { NetworkKey } from '../identity/network-key.js';
import { type Logger, silentLogger } from '../log/logger.js';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_INTERVAL_MS,
  DEFAULT_LISTEN_HOST,
  DEFAULT_MAX_LINKS_PER_HOST,
  DEFAULT_MAX_PENDING_HANDSHAKES,
  DEFAULT_MAX_PENDING_HANDSHAKES_PER_HOST,
  DEFAULT_MAX_SEND_QUEUE_BYTES,
  DEFAULT_MEMBERSHIP_REQUEST_BURST,
  DEFAULT_MEMBERSHIP_REQUESTS_PER_SECOND,
  DEFAULT_PORT_RANGE,
  DEFAULT_SEND_HIGH_WATER_BYTES,
  MIN_TICK_MS,
  TICKS_PER_SHORTEST_TIMEOUT,
} from './defaults.js';
import { checkPortSpec, type PortSpec } from './port-binding.js';

export interface LinkManagerOptions {
  /** This node's key pair; its public key is the node id every peer will know it by. */
  identity: Identity;
  /** A private network's key: only peers holding it can link. Default: the open network. */
  networkKey?: NetworkKey;
  /** Listen address; default DEFAULT_LISTEN_HOST. */
  host?: string;
  /** 0 = OS-assigned; a range is searched from a random start; default DEFAULT_PORT_RANGE. */
  port?: PortSpec;
  /** Socket opened (connect included) to peer's Hello received; default DEFAULT_HANDSHAKE_TIMEOUT_MS. */
  handshakeTimeoutMs?: number;
  /** Ping when nothing was sent on a link for this long; default DEFAULT_KEEP_ALIVE_INTERVAL_MS. */
  keepAliveIntervalMs?: number;
  /**
   * Nothing received for this long: the link is dead; default DEFAULT_IDLE_TIMEOUT_MS. Also the unit
   * of SEND_WAIT_MAX_IDLE_TIMEOUTS, how long a peer may leave what we sent untaken.
   */
  idleTimeoutMs?: number;
  /** Largest frame body accepted or sent; default the codec's DEFAULT_MAX_FRAME_BYTES. */
  maxFrameBytes?: number;
  /** A peer whose unsent bytes reach this is disconnected; default DEFAULT_MAX_SEND_QUEUE_BYTES. */
  maxSendQueueBytes?: number;
  /**
   * Queued bytes above which a link counts as backlogged; default DEFAULT_SEND_HIGH_WATER_BYTES. A
   * value below the socket's own write buffer threshold (16 KiB on Node 20) acts as that threshold.
   */
  sendHighWaterBytes?: number;
  /** Inbound handshakes in progress, all hosts; default DEFAULT_MAX_PENDING_HANDSHAKES. */
  maxPendingHandshakes?: number;
  /** Inbound handshakes in progress from one host; default DEFAULT_MAX_PENDING_HANDSHAKES_PER_HOST. */
  maxPendingHandshakesPerHost?: number;
  /** Inbound connections from one host; default DEFAULT_MAX_LINKS_PER_HOST. */
  maxLinksPerHost?: number;
  /** Sustained membership requests per peer per second; default DEFAULT_MEMBERSHIP_REQUESTS_PER_SECOND. */
  membershipRequestsPerSecond?: number;
  /** Membership requests a peer may send at once; default DEFAULT_MEMBERSHIP_REQUEST_BURST. */
  membershipRequestBurst?: number;
  logger?: Logger;
}

export interface ResolvedOptions {
  readonly identity: Identity;
  readonly networkKey: NetworkKey | undefined;
  readonly host: string;
  readonly port: PortSpec;
  readonly handshakeTimeoutMs: number;
  readonly keepAliveIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly maxFrameBytes: number;
  readonly maxSendQueueBytes: number;
  readonly sendHighWaterBytes: number;
  readonly maxPendingHandshakes: number;
  readonly maxPendingHandshakesPerHost: number;
  readonly maxLinksPerHost: number;
  readonly membershipRequestsPerSecond: number;
  readonly membershipRequestBurst: number;
  readonly logger: Logger;
  /** Period of the one housekeeping timer (handshake deadlines, keep-alive, idle detection). */
  readonly tickMs: number;
}

/** Fills in defaults; throws RangeError for a configuration no caller should ever pass. */
export function resolveOptions(options: LinkManagerOptions): ResolvedOptions {
  const handshakeTimeoutMs = positive(
    'handshakeTimeoutMs',
    options.handshakeTimeoutMs,
    DEFAULT_HANDSHAKE_TIMEOUT_MS,
  );
  const keepAliveIntervalMs = positive(
    'keepAliveIntervalMs',
    options.keepAliveIntervalMs,
    DEFAULT_KEEP_ALIVE_INTERVAL_MS,
  );
  const idleTimeoutMs = positive('idleTimeoutMs', options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS);
  const shortest = Math.min(handshakeTimeoutMs, keepAliveIntervalMs, idleTimeoutMs);
  return {
    identity: options.identity,
    networkKey: options.networkKey,
    host: options.host ?? DEFAULT_LISTEN_HOST,
    port: checkPortSpec(options.port ?? DEFAULT_PORT_RANGE),
    handshakeTimeoutMs,
    keepAliveIntervalMs,
    idleTimeoutMs,
    maxFrameBytes: count('maxFrameBytes', options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES),
    maxSendQueueBytes: count('maxSendQueueBytes', options.maxSendQueueBytes, DEFAULT_MAX_SEND_QUEUE_BYTES),
    sendHighWaterBytes: count(
      'sendHighWaterBytes',
      options.sendHighWaterBytes,
      DEFAULT_SEND_HIGH_WATER_BYTES,
    ),
    maxPendingHandshakes: count(
      'maxPendingHandshakes',
      options.maxPendingHandshakes,
      DEFAULT_MAX_PENDING_HANDSHAKES,
    ),
    maxPendingHandshakesPerHost: count(
      'maxPendingHandshakesPerHost',
      options.maxPendingHandshakesPerHost,
      DEFAULT_MAX_PENDING_HANDSHAKES_PER_HOST,
    ),
    maxLinksPerHost: count('maxLinksPerHost', options.maxLinksPerHost, DEFAULT_MAX_LINKS_PER_HOST),
    membershipRequestsPerSecond: count(
      'membershipRequestsPerSecond',
      options.membershipRequestsPerSecond,
      DEFAULT_MEMBERSHIP_REQUESTS_PER_SECOND,
    ),
    membershipRequestBurst: count(
      'membershipRequestBurst',
      options.membershipRequestBurst,
      DEFAULT_MEMBERSHIP_REQUEST_BURST,
    ),
    logger: options.logger ?? silentLogger(),
    // Timeouts of over 99 days each (a "never" the options accept) would ask for a tick longer than
    // Node keeps (MAX_TIMER_DELAY_MS): it would tick every millisecond instead. Ticking every 24.8
    // days still acts on each deadline within a quarter of it.
    tickMs: Math.min(MAX_TIMER_DELAY_MS, Math.max(MIN_TICK_MS, shortest / TICKS_PER_SHORTEST_TIMEOUT)),
  };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${resolved}`);
  }
  return resolved;
}

function count(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${resolved}`);
  }
  return resolved;
}
