import { isIPv4 } from 'node:net';
import { NODE_ID_PATTERN } from '../codec/field-limits.js';
import type { Random } from '../core/random.js';
import type { Millis, NodeId } from '../core/types.js';
import type { Logger } from '../log/logger.js';
import { ANNOUNCE_JITTER, DEFAULT_ANNOUNCE_INTERVAL_MS, DEFAULT_EAGER_INTERVAL_MS } from './cadence.js';
import { MAX_TIMER_DELAY_MS, type Scheduler } from './scheduler.js';

/**
 * Default multicast group: inside 239.255.0.0/16, the IPv4 Local Scope of administratively scoped
 * addresses (RFC 2365 section 6.1), which routers must not forward beyond the site.
 */
export const DEFAULT_GROUP = '239.255.77.77';

/** Default UDP port for beacons: the first port of the IANA dynamic range (RFC 6335 section 6), so it needs no registration and no privileges. */
export const DEFAULT_DISCOVERY_PORT = 49152;

/**
 * Longest announce or eager interval: jittered up by ANNOUNCE_JITTER it still fits a timer
 * (MAX_TIMER_DELAY_MS), about 19.9 days. A longer one would send a beacon every millisecond.
 */
export const MAX_ANNOUNCE_INTERVAL_MS: Millis = Math.floor(MAX_TIMER_DELAY_MS / (1 + ANNOUNCE_JITTER));

/** A freshly started node has no peers yet, so by default it asks for them. */
export const DEFAULT_WANTS_PEERS = true;

export interface MulticastDiscoveryOptions {
  /** Our node id; beacons carrying it are our own and are ignored. */
  readonly self: NodeId;
  /** TCP port our beacons announce; peers pair it with the source address of the datagram. */
  readonly listenPort: number;
  /** IPv4 multicast group shared by the nodes of one mesh. */
  readonly group?: string;
  /** UDP port beacons are sent to and received on. */
  readonly port?: number;
  /** IPv4 address of the interface to send and join on; undefined lets the OS pick (its multicast route). */
  readonly interfaceAddress?: string;
  /** Steady-state beacon interval, jittered ±25%; at most MAX_ANNOUNCE_INTERVAL_MS. */
  readonly announceIntervalMs?: Millis;
  /** Beacon interval while we want peers, jittered ±25%; at most MAX_ANNOUNCE_INTERVAL_MS. */
  readonly eagerIntervalMs?: Millis;
  /** Initial value of the "wants more peers" flag; change it later with setWantsPeers(). */
  readonly wantsPeers?: boolean;
  /** Our overlay's tag, read as each beacon is sent (see OverlayTag); default: our own id. */
  readonly overlayTag?: () => NodeId;
  readonly random?: Random;
  readonly logger?: Logger;
  /** Timer source; tests inject one to observe the cadence without waiting for it. */
  readonly scheduler?: Scheduler;
  /**
   * A private network's beacon key (NetworkKey.beaconKey): our beacons carry a MAC under it, and
   * only beacons with a valid MAC, recent and not repeated, are believed. Default: the open network.
   */
  readonly beaconKey?: Uint8Array;
  /** Wall clock (ms since the epoch) for beacon send times; tests inject one to play with time. */
  readonly clock?: () => number;
}

/** Which option a start-up failure is about, so a CLI can point at the right flag. */
export type DiscoveryOption =
  | 'self'
  | 'listenPort'
  | 'group'
  | 'port'
  | 'interfaceAddress'
  | 'announceIntervalMs'
  | 'eagerIntervalMs';

/**
 * An option as messages name it: the three a user sets are named also as they are set, through
 * createNode and on the command line, where discovery's own names differ.
 */
export function optionAsSet(option: DiscoveryOption): string {
  switch (option) {
    case 'port':
      return `"port" option (createNode's "discoveryPort", meshcast's --discovery-port)`;
    case 'group':
      return `"group" option (createNode's "group", meshcast's --group)`;
    case 'interfaceAddress':
      return `"interfaceAddress" option (createNode's "interface", meshcast's --interface)`;
    default:
      return `"${option}" option`;
  }
}

/** Why start() failed: bad options, or the OS refused the socket. The message names the option to change. */
export class DiscoveryStartError extends Error {
  override readonly name = 'DiscoveryStartError';

  constructor(
    readonly option: DiscoveryOption,
    message: string,
    /** The OS error code (EADDRINUSE, ENODEV, ...), when the OS refused. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface ValidatedOptions {
  readonly self: NodeId;
  readonly listenPort: number;
  readonly group: string;
  readonly port: number;
  readonly interfaceAddress: string | undefined;
  readonly announceIntervalMs: Millis;
  readonly eagerIntervalMs: Millis;
}

const MAX_PORT = 0xffff;

function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= MAX_PORT;
}

/** 224.0.0.0/4 (RFC 5771). */
function isIPv4Multicast(address: string): boolean {
  if (!isIPv4(address)) return false;
  const firstOctet = Number(address.split('.')[0]);
  return firstOctet >= 224 && firstOctet <= 239;
}

function isInterval(value: number): boolean {
  return Number.isFinite(value) && value > 0 && value <= MAX_ANNOUNCE_INTERVAL_MS;
}

/** Fills in defaults and checks every field; never throws. */
export function validateOptions(options: MulticastDiscoveryOptions): ValidatedOptions | DiscoveryStartError {
  const v: ValidatedOptions = {
    self: options.self,
    listenPort: options.listenPort,
    group: options.group ?? DEFAULT_GROUP,
    port: options.port ?? DEFAULT_DISCOVERY_PORT,
    interfaceAddress: options.interfaceAddress,
    announceIntervalMs: options.announceIntervalMs ?? DEFAULT_ANNOUNCE_INTERVAL_MS,
    eagerIntervalMs: options.eagerIntervalMs ?? DEFAULT_EAGER_INTERVAL_MS,
  };
  const invalid = (option: DiscoveryOption, expected: string, actual: unknown): DiscoveryStartError =>
    new DiscoveryStartError(
      option,
      `invalid ${optionAsSet(option)} ${JSON.stringify(actual)}: expected ${expected}`,
    );

  if (typeof v.self !== 'string' || !NODE_ID_PATTERN.test(v.self)) {
    return invalid('self', '64 lower-case hex characters', v.self);
  }
  if (!isPort(v.listenPort)) return invalid('listenPort', 'an integer TCP port in 1..65535', v.listenPort);
  if (!isIPv4Multicast(v.group)) return invalid('group', 'an IPv4 multicast address (224.0.0.0/4)', v.group);
  if (!isPort(v.port)) return invalid('port', 'an integer UDP port in 1..65535', v.port);
  if (v.interfaceAddress !== undefined && !isIPv4(v.interfaceAddress)) {
    return invalid('interfaceAddress', 'the IPv4 address of a local interface', v.interfaceAddress);
  }
  const interval = `a positive number of milliseconds, at most ${MAX_ANNOUNCE_INTERVAL_MS}`;
  if (!isInterval(v.announceIntervalMs)) return invalid('announceIntervalMs', interval, v.announceIntervalMs);
  if (!isInterval(v.eagerIntervalMs)) return invalid('eagerIntervalMs', interval, v.eagerIntervalMs);
  return v;
}
