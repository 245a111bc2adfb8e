import { DEFAULT_MAX_FRAME_BYTES } from '../codec/index.js';
import type { NodeId } from '../core/types.js';
import { type Logger, silentLogger } from '../log/logger.js';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_INTERVAL_MS,
  DEFAULT_LISTEN_HOST,
  DEFAULT_PORT_RANGE,
  MIN_TICK_MS,
  TICKS_PER_SHORTEST_TIMEOUT,
} from './defaults.js';
import type { PortSpec } from './port-binding.js';

export interface LinkManagerOptions {
  self: NodeId;
  /** Listen address; default DEFAULT_LISTEN_HOST. */
  host?: string;
  /** 0 = OS-assigned; a range is searched from a random start; default DEFAULT_PORT_RANGE. */
  port?: PortSpec;
  /** Socket opened (connect included) to peer's Hello received; default DEFAULT_HANDSHAKE_TIMEOUT_MS. */
  handshakeTimeoutMs?: number;
  /** Ping when nothing was sent on a link for this long; default DEFAULT_KEEP_ALIVE_INTERVAL_MS. */
  keepAliveIntervalMs?: number;
  /** Nothing received for this long: the link is dead; default DEFAULT_IDLE_TIMEOUT_MS. */
  idleTimeoutMs?: number;
  /** Largest frame body accepted or sent; default the codec's DEFAULT_MAX_FRAME_BYTES. */
  maxFrameBytes?: number;
  logger?: Logger;
}

export interface ResolvedOptions {
  readonly self: NodeId;
  readonly host: string;
  readonly port: PortSpec;
  readonly handshakeTimeoutMs: number;
  readonly keepAliveIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly maxFrameBytes: number;
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
    self: options.self,
    host: options.host ?? DEFAULT_LISTEN_HOST,
    port: options.port ?? DEFAULT_PORT_RANGE,
    handshakeTimeoutMs,
    keepAliveIntervalMs,
    idleTimeoutMs,
    maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    logger: options.logger ?? silentLogger(),
    tickMs: Math.max(MIN_TICK_MS, shortest / TICKS_PER_SHORTEST_TIMEOUT),
  };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${resolved}`);
  }
  return resolved;
}
