import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';
import { type Random, systemRandom } from '../core/random.js';
import type { NodeId } from '../core/types.js';
import { type Logger, silentLogger } from '../log/logger.js';
import { BeaconFilter } from './beacon-filter.js';
import { nextAnnounceDelay, startupBurstGaps, WANTS_PEERS_BEACON_GAP_MS } from './cadence.js';
import { ConflictReports } from './conflict-reports.js';
import {
  DEFAULT_WANTS_PEERS,
  type MulticastDiscoveryOptions,
  type ValidatedOptions,
  validateOptions,
} from './multicast-options.js';
import { type Cancel, realScheduler, type Scheduler } from './scheduler.js';
import { describeSetupError, type LanInterface, type SetupStep } from './start-errors.js';

export {
  DEFAULT_DISCOVERY_PORT,
  DEFAULT_GROUP,
  DiscoveryStartError,
  type MulticastDiscoveryOptions,
} from './multicast-options.js';

/**
 * Beacons never cross a router: discovery is for the local link only; a mesh spanning networks is
 * joined through bootstrap addresses instead.
 */
export const MULTICAST_TTL = 1;

/** A node heard on the LAN. */
export interface DiscoveredPeer {
  readonly id: NodeId;
  /** `${source address of the beacon}:${TCP port it announces}`, ready for the transport to dial. */
  readonly address: string;
  readonly wantsPeers: boolean;
  /** The overlay tag its beacon carries. */
  readonly tag: NodeId;
}

export interface MulticastDiscoveryEvents {
  /** Every valid beacon from another node, repeats included: the consumer decides whom to dial. */
  peer: [peer: DiscoveredPeer];
  /**
   * A datagram on our group and port that was not believed (malformed, unauthenticated, replayed,
   * rate-limited); it was dropped and counted. `reason` starts with the code of why.
   */
  rejected: [from: string, reason: string];
  /**
   * A beacon carries our node id but is not ours: another node, whose address is given, runs with
   * our identity. Each such address is reported once while it keeps being heard (see ConflictReports).
   */
  conflict: [address: string];
}

export interface MulticastDiscoveryStats {
  /** Beacons the OS accepted for sending. */
  readonly beaconsSent: number;
  /** Valid beacons from other nodes (each one emitted as 'peer'). */
  readonly beaconsReceived: number;
  /** Datagrams dropped because they are not valid beacons. */
  readonly malformed: number;
  /** Beacons of another network (or none), or whose MAC does not verify: forged or foreign. */
  readonly unauthenticated: number;
  /** Authenticated beacons refused as stale or repeated: replays. */
  readonly replayed: number;
  /** Beacons above the rate allowed per node or per host, dropped. */
  readonly rateLimited: number;
  /** Our own beacons looped back by the OS. */
  readonly ownIgnored: number;
  /** Beacons with our node id from another address or port: another node with our identity. */
  readonly identityConflicts: number;
  /** Beacons the OS refused to send (no route, interface down); discovery keeps trying. */
  readonly sendErrors: number;
}

/**
 * On Linux a UDP socket bound to a multicast address receives only datagrams sent to that address,
 * so meshes on different groups can share a port without hearing each other. Other systems reject or
 * ignore such a bind: there we bind the wildcard address, and groups that share a port do hear each
 * other (each beacon is still valid, so their meshes merge); give them distinct ports instead.
 */
function bindAddressFor(group: string): string | undefined {
  return process.platform === 'linux' ? group : undefined;
}

interface Running {
  readonly socket: Socket;
  readonly config: ValidatedOptions;
}

/**
 * Finds peers on the local network: announces our id and TCP port on a multicast group, and reports
 * every other node's announcement. Announces fast while we want peers, slowly otherwise.
 */
export class MulticastDiscovery extends EventEmitter<MulticastDiscoveryEvents> {
  private readonly random: Random;
  private readonly logger: Logger;
  private readonly scheduler: Scheduler;
  private wantsPeers: boolean;
  private running: Running | undefined;
  private cancelTimer: Cancel = () => {};
  /** Gaps still to wait in the start-up burst, the one being waited not among them. */
  private burstGaps: number[] = [];
  /** Whether the pending timer is the start-up burst's: false once the periodic cadence has taken over. */
  private bursting = false;
  /** When the last beacon went out (scheduler.now), for WANTS_PEERS_BEACON_GAP_MS. */
  private lastAnnounceAt = Number.NEGATIVE_INFINITY;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private warnedSendError = false;
  private readonly filter: BeaconFilter;
  /** Refusal kinds already warned about: the first of each is a warning, the rest debug. */
  private readonly warned = new Set<string>();
  private readonly counters = {
    beaconsSent: 0,
    beaconsReceived: 0,
    malformed: 0,
    unauthenticated: 0,
    replayed: 0,
    rateLimited: 0,
    ownIgnored: 0,
    identityConflicts: 0,
    sendErrors: 0,
  };
  /** Addresses already reported as running with our identity. */
  private readonly conflicts = new ConflictReports();

  constructor(private readonly options: MulticastDiscoveryOptions) {
    super();
    this.random = options.random ?? systemRandom();
    this.logger = (options.logger ?? silentLogger()).child({ component: 'discovery' });
    this.scheduler = options.scheduler ?? realScheduler;
    this.wantsPeers = options.wantsPeers ?? DEFAULT_WANTS_PEERS;
    const pinned = options.interfaceAddress;
    this.filter = new BeaconFilter({
      self: options.self,
      listenPort: options.listenPort,
      // Our beacons come back from the interface they left by: the pinned one, else any of ours.
      isOwnAddress: pinned === undefined ? isLocalAddress : (host) => host === pinned,
      beaconKey: options.beaconKey,
      clock: options.clock,
    });
  }

  /**
   * Opens the socket, joins the group and starts announcing. Rejects with a DiscoveryStartError that
   * names the option to change. While starting or running, returns the same promise.
   */
  start(): Promise<void> {
    if (!this.starting) {
      const starting = this.open();
      this.starting = starting;
      // A failed start leaves nothing open, so the caller may fix the cause and call start() again.
      starting.catch(() => {
        if (this.starting === starting) this.starting = undefined;
      });
    }
    return this.starting;
  }

  /**
   * Announce fast (true) or slowly (false). Switching to true also announces at once, or as soon as
   * WANTS_PEERS_BEACON_GAP_MS has passed since the last beacon.
   */
  setWantsPeers(wants: boolean): void {
    if (wants === this.wantsPeers) return;
    this.wantsPeers = wants;
    // During the start-up burst the next beacon is imminent anyway and carries the new flag.
    if (!this.running || this.bursting) return;
    this.cancelTimer();
    // An isolated node should not sit out a long steady-state interval before it is seen.
    if (wants)
      this.scheduleNext(Math.max(0, this.lastAnnounceAt + WANTS_PEERS_BEACON_GAP_MS - this.scheduler.now()));
    else this.scheduleNext();
  }

  /** Stops announcing, leaves the group and closes the socket. Always resolves; safe to call twice. */
  stop(): Promise<void> {
    const starting = this.starting;
    if (!starting) return this.closing ?? Promise.resolve();
    this.starting = undefined;
    const closing = starting.then(
      () => this.close(),
      () => {},
    );
    this.closing = closing;
    void closing.finally(() => {
      if (this.closing === closing) this.closing = undefined;
    });
    return closing;
  }

  stats(): MulticastDiscoveryStats {
    return { ...this.counters };
  }

  private async open(): Promise<void> {
    // A stop() still in progress must release the port before we bind it again.
    await this.closing;
    const config = validateOptions(this.options);
    if (config instanceof Error) throw config;

    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    let step: SetupStep = 'bind';
    let interfaceAddress = config.interfaceAddress;
    try {
      await bind(socket, config.port, bindAddressFor(config.group));
      socket.setMulticastTTL(MULTICAST_TTL);
      // Nodes on the same host (several instances, or tests) must hear each other.
      socket.setMulticastLoopback(true);
      step = 'setInterface';
      if (config.interfaceAddress !== undefined) socket.setMulticastInterface(config.interfaceAddress);
      step = 'join';
      interfaceAddress = joinGroup(socket, config.group, config.interfaceAddress);
    } catch (error) {
      closeQuietly(socket);
      throw describeSetupError(step, error, config, lanInterfaces());
    }

    socket.on('message', (message, remote) => this.receive(message, remote));
    // Once running, the OS has nothing to report that we could act on here: log it, keep going.
    socket.on('error', (error) => this.logger.error({ err: error }, 'discovery socket error'));
    this.running = { socket, config: { ...config, interfaceAddress } };
    this.logger.info(
      { group: config.group, port: config.port, interfaceAddress },
      'multicast discovery started',
    );

    this.burstGaps = startupBurstGaps(this.random);
    this.announce();
    this.scheduleNext();
  }

  private async close(): Promise<void> {
    this.cancelTimer();
    this.cancelTimer = () => {};
    this.burstGaps = [];
    this.bursting = false;
    const running = this.running;
    this.running = undefined;
    if (!running) return;
    const { socket, config } = running;
    try {
      socket.dropMembership(config.group, config.interfaceAddress);
    } catch (error) {
      // Closing the socket drops the membership anyway; leaving first is only a courtesy.
      this.logger.debug({ err: error }, 'dropMembership failed');
    }
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      if (!closeQuietly(socket)) resolve();
    });
    this.logger.info('multicast discovery stopped');
  }

  /** Arms the next beacon, after `delay` if given (0: at once), else the burst's or cadence's. */
  private scheduleNext(delay?: number): void {
    const running = this.running;
    if (!running) return;
    if (delay === 0) {
      this.announce();
      this.scheduleNext();
      return;
    }
    // The burst's last gap is no longer in burstGaps while it is waited, but it is still the burst.
    const burstGap = delay === undefined ? this.burstGaps.shift() : undefined;
    this.bursting = burstGap !== undefined;
    const wait = delay ?? burstGap ?? nextAnnounceDelay(this.random, this.wantsPeers, running.config);
    this.cancelTimer = this.scheduler.schedule(() => {
      this.announce();
      this.scheduleNext();
    }, wait);
  }

  private announce(): void {
    const running = this.running;
    if (!running) return;
    this.lastAnnounceAt = this.scheduler.now();
    const { socket, config } = running;
    const beacon = this.filter.encode({
      id: config.self,
      port: config.listenPort,
      wantsPeers: this.wantsPeers,
      tag: this.options.overlayTag?.() ?? config.self,
    });
    socket.send(beacon, config.port, config.group, (error) => {
      // A send still in flight when stop() closed the socket fails; that is not worth reporting.
      if (this.running?.socket !== socket) return;
      if (error) this.sendFailed(error);
      else this.counters.beaconsSent++;
    });
  }

  private sendFailed(error: Error): void {
    this.counters.sendErrors++;
    // A missing route fails every beacon: say it once loudly, then quietly.
    if (this.warnedSendError) {
      this.logger.debug({ err: error }, 'beacon not sent');
    } else {
      this.warnedSendError = true;
      this.logger.warn({ err: error }, 'beacon not sent; check the interfaceAddress option');
    }
  }

  private receive(message: Buffer, remote: RemoteInfo): void {
    const from = `${remote.address}:${remote.port}`;
    let verdict: ReturnType<BeaconFilter['check']>;
    try {
      verdict = this.filter.check(message, remote.address);
    } catch (error) {
      // A decoder bug must not let one hostile datagram crash the node: log it loudly, drop the datagram.
      this.logger.error({ err: error, from }, 'beacon decoder threw');
      this.reject(
        from,
        'malformed',
        `decoder error: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    if (!verdict.ok) {
      if (verdict.kind === 'own') this.counters.ownIgnored++;
      else if (verdict.kind === 'conflict') this.conflicting(verdict.address);
      else this.reject(from, verdict.kind, verdict.reason);
      return;
    }
    const beacon = verdict.beacon;
    this.counters.beaconsReceived++;
    this.emit('peer', {
      id: beacon.id,
      address: `${remote.address}:${beacon.port}`,
      wantsPeers: beacon.wantsPeers,
      tag: beacon.tag,
    });
  }

  private conflicting(address: string): void {
    this.counters.identityConflicts++;
    if (!this.conflicts.heardFrom(address)) return;
    this.logger.warn(
      { address },
      'a beacon from another node carries our node id: it runs with our identity (a copied or shared ' +
        'key file), and neither can link to the other; give each node its own identity',
    );
    this.emit('conflict', address);
  }

  private reject(
    from: string,
    kind: 'malformed' | 'unauthenticated' | 'replayed' | 'rate-limited',
    reason: string,
  ): void {
    if (kind === 'malformed') this.counters.malformed++;
    else if (kind === 'unauthenticated') this.counters.unauthenticated++;
    else if (kind === 'replayed') this.counters.replayed++;
    else this.counters.rateLimited++;
    if (this.warned.has(kind)) {
      this.logger.debug({ from, reason }, 'beacon dropped');
    } else {
      this.warned.add(kind);
      this.logger.warn(
        { from, reason },
        'beacon dropped (first of this kind; later ones are logged at debug level and counted)',
      );
    }
    this.emit('rejected', from, reason);
  }
}

/**
 * Joins `group` on the given interface, else on the one the OS picks by its routes. Returns the
 * interface joined on, undefined for the OS's choice. An OS with neither a multicast nor a default
 * route picks none (ENODEV), as on a LAN without a gateway: a host with one such LAN interface
 * then joins on it, which is what the user would have named.
 */
function joinGroup(socket: Socket, group: string, pinned: string | undefined): string | undefined {
  if (pinned !== undefined) {
    socket.addMembership(group, pinned);
    return pinned;
  }
  try {
    socket.addMembership(group);
    return undefined;
  } catch (error) {
    const lans = lanInterfaces();
    const only = lans[0];
    if ((error as NodeJS.ErrnoException).code !== 'ENODEV' || lans.length !== 1 || only === undefined) {
      throw error;
    }
    socket.setMulticastInterface(only.address);
    socket.addMembership(group, only.address);
    return only.address;
  }
}

/** This host's IPv4 interfaces other than loopback: the ones discovery could run on. */
function lanInterfaces(): LanInterface[] {
  const found: LanInterface[] = [];
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.family === 'IPv4' && !a.internal) found.push({ name, address: a.address });
    }
  }
  return found;
}

/** Whether `host` is an address of one of this machine's interfaces. */
function isLocalAddress(host: string): boolean {
  for (const addresses of Object.values(networkInterfaces())) {
    if (addresses?.some((a) => a.address === host)) return true;
  }
  return false;
}

function bind(socket: Socket, port: number, address: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      socket.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      socket.off('error', onError);
      resolve();
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind({ port, address });
  });
}

/** Closes a socket that may already be closed; returns whether it was open. */
function closeQuietly(socket: Socket): boolean {
  try {
    socket.close();
    return true;
  } catch {
    return false;
  }
}
