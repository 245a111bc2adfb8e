import type { ProtocolOptions } from '../core/protocol.js';
import type { Random } from '../core/random.js';
import type { Identity } from '../identity/identity.js';
import type { NetworkKey } from '../identity/network-key.js';
import type { Logger } from '../log/logger.js';
import type { LinkManagerOptions } from '../transport/options.js';

/** The transport's limits and timers, each with a documented default in src/transport/defaults.ts. */
export type TransportTuning = Omit<
  LinkManagerOptions,
  'identity' | 'networkKey' | 'host' | 'port' | 'logger'
>;

/** Where TCP links are accepted: one port (0 = any free port) or a range tried from a random start. */
export type PortSpec = number | { readonly from: number; readonly to: number };

/**
 * TCP listening ports default to the dynamic range (RFC 6335 section 6) so that meshcast never
 * squats on a registered service; a firewall must allow this range, or pin one with `port`.
 */
export const DEFAULT_PORT_RANGE = { from: 49152, to: 65535 } as const;

/** How often a node with no neighbours retries its bootstrap addresses. */
export const BOOTSTRAP_RETRY_MS = 5_000;

/**
 * How long stop() lets goodbyes drain before it destroys the sockets. stop() must resolve within
 * a second; a quarter of that is ample for a few frames on a LAN.
 */
export const GOODBYE_GRACE_MS = 250;
/** Most verify threads a node may ask for: more than the cores only adds threads to share them. */
export const MAX_VERIFY_THREADS = 64;

export interface NodeOptions {
  /**
   * This node's Ed25519 key pair; its public key is the node id. Default: the key in `identityFile`
   * if that is given, else a fresh ephemeral key pair (a new id on every run).
   */
  readonly identity?: Identity;
  /**
   * Load the key pair from this file, creating it (mode 0600) on first use. While the node runs it
   * holds `<file>.lock`: start() rejects with IdentityInUseError if another live node holds it. See
   * src/identity.
   */
  readonly identityFile?: string;
  /**
   * A private network's key (32 bytes, or one loaded with loadNetworkKey): the node links only with
   * nodes holding the same key, and ignores beacons not authenticated by it. Default: the open network.
   */
  readonly networkKey?: Uint8Array | NetworkKey;
  /** Read the network key from this file (written by `meshcast keygen`). */
  readonly networkKeyFile?: string;
  /**
   * Sign every broadcast this node originates and accept only broadcasts signed by their origin,
   * fresh (send time within the freshness window of our clock: the LAN's clocks must agree within
   * about 25 s) and not seen before; the link that relays a forgery is closed. Default true.
   * Turn it off only in a trusted private network (a `networkKey` keeps strangers out; this also
   * trusts every member not to forge), and on every node: a signing node drops unsigned broadcasts.
   */
  readonly signatures?: boolean;
  /**
   * Worker threads that check broadcast signatures off the event loop, shared by every node of the
   * process (the most any node asked for). 0 checks them on the event loop. Default: one fewer
   * than the cores, at most 2 (DEFAULT_VERIFY_THREADS). They start once checks come at 100 a second
   * in turns of the event loop with more than 8, and the host has half an idle core (see
   * verify-pool.ts); until then the event loop checks. On Linux they run at a lower scheduling
   * priority (VERIFY_THREAD_NICENESS). An integer in [0, MAX_VERIFY_THREADS]; anything else is a
   * RangeError from createNode().
   */
  readonly verifyThreads?: number;
  /** Address to accept TCP links on. Default: the multicast interface address if one is given, else all. */
  readonly host?: string;
  readonly port?: PortSpec;
  /** Find peers by UDP multicast beacons. Default true. */
  readonly discovery?: boolean;
  /** IPv4 address of the interface that sends and receives beacons. Default: the OS's choice. */
  readonly interface?: string;
  /** Multicast group of the beacons. Default 239.255.77.77. */
  readonly group?: string;
  /** UDP port of the beacons. Default 49152. */
  readonly discoveryPort?: number;
  /**
   * Static "host:port" addresses to join through, for peers that multicast cannot reach; whitespace
   * around one is ignored, and one that does not parse makes createNode throw an AddressError. One
   * that does not answer is tried again every 5 s while the node is alone, then once per
   * `protocol.mergeInterval` (a minute) until it answers.
   */
  readonly bootstrap?: readonly string[];
  /** Link limits and timers (send queues, handshake caps, rate limits, timeouts). */
  readonly transport?: TransportTuning;
  /** Membership and broadcast tuning; every field has a documented default in src/core. */
  readonly protocol?: Partial<ProtocolOptions>;
  /** Aborting it stops the node, as stop() does. */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** Randomness for the protocol core; default seeded from the OS. Inject one for reproducible tests. */
  readonly random?: Random;
}
