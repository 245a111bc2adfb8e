import { isIPv4 } from 'node:net';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { normalizeAddress } from '../discovery/bootstrap.js';
import { defaultIdentityPath } from '../identity/identity-file.js';
import { NETWORK_KEY_FILE_ENV } from '../identity/network-key.js';
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from '../log/logger.js';
import type { NodeOptions } from '../node/options.js';
import { fixedPort, listenPort } from './number-flags.js';

/** The flags every command that runs a node shares, parsed into NodeOptions in one place. */
export interface NetworkFlags {
  port?: number;
  interface?: string;
  group?: string;
  discoveryPort?: number;
  bootstrap: string[];
  discovery: boolean;
  logLevel: LogLevel;
  identity?: string;
  networkKey?: string;
  /** False with --no-signatures; commander sets it true otherwise. */
  signatures?: boolean;
}

/**
 * Dotted decimal without leading zeros, as discovery checks it: the resolver that binds the links
 * reads a leading zero as octal (127.0.0.010 is 127.0.0.8), so one would bind another address.
 */
function parseIPv4(text: string): string {
  if (!isIPv4(text)) throw new InvalidArgumentError('expected an IPv4 address such as 192.168.1.20');
  return text;
}

function parseGroup(text: string): string {
  parseIPv4(text);
  const first = Number(text.split('.')[0]);
  if (first < 224 || first > 239)
    throw new InvalidArgumentError('expected an IPv4 multicast group (224.0.0.0-239.255.255.255)');
  return text;
}

function collectBootstrap(text: string, previous: string[]): string[] {
  try {
    return [...previous, normalizeAddress(text)];
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function addNetworkFlags(command: Command, defaultLogLevel: LogLevel): Command {
  return command
    .option(
      '-p, --port <port>',
      'TCP port for links (default: a free port in 49152-65535; 0: any)',
      listenPort,
    )
    .option(
      '-i, --interface <address>',
      'IPv4 address of the network interface for discovery and links',
      parseIPv4,
    )
    .option(
      '-g, --group <address>',
      'multicast group of discovery beacons (default 239.255.77.77)',
      parseGroup,
    )
    .option('--discovery-port <port>', 'UDP port of discovery beacons (default 49152)', fixedPort)
    .option('-b, --bootstrap <host:port>', 'join through this peer too (repeatable)', collectBootstrap, [])
    .option('--no-discovery', 'do not send or listen for multicast beacons (use --bootstrap)')
    .option(
      '--identity <path>',
      `key file of this node's identity, created on first use (default ${defaultIdentityPath()})`,
    )
    .option(
      '--network-key <file>',
      `join the private network of this key (meshcast keygen); default: $${NETWORK_KEY_FILE_ENV}, else the open network`,
    )
    .option(
      '--no-signatures',
      'do not sign broadcasts nor check their signatures: only for a trusted private network whose nodes all run without',
    )
    .addOption(
      new Option('--log-level <level>', 'log detail on stderr').choices(LOG_LEVELS).default(defaultLogLevel),
    );
}

export function nodeOptionsFromFlags(flags: NetworkFlags, logger: Logger): NodeOptions {
  return {
    port: flags.port,
    interface: flags.interface,
    group: flags.group,
    discoveryPort: flags.discoveryPort,
    bootstrap: flags.bootstrap,
    discovery: flags.discovery,
    identityFile: flags.identity ?? defaultIdentityPath(),
    networkKeyFile: networkKeyFileFrom(flags),
    signatures: flags.signatures,
    logger,
  };
}

/** The flag wins over the environment; an empty variable means none. */
function networkKeyFileFrom(flags: NetworkFlags, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flags.networkKey !== undefined) return flags.networkKey;
  const fromEnv = env[NETWORK_KEY_FILE_ENV];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

export function loggerFromFlags(flags: NetworkFlags): Logger {
  return createLogger(flags.logLevel);
}
