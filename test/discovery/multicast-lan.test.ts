import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/core/types.js';
import type { DiscoveredPeer, MulticastDiscoveryOptions } from '../../src/discovery/multicast.js';
import { canBuildVirtualLan, VirtualLan } from '../helpers/virtual-lan.js';
import { waitUntil } from '../helpers/wait.js';
import { randomNodeId, uniqueGroup } from './helpers.js';

// Discovery on hosts of virtual LANs: network namespaces joined by bridges and connected to
// nothing else (VirtualLan). A host on two LANs is what tells "the pinned interface" apart from
// "the interface the OS routes multicast to": on loopback alone they are the same.

/** The built module: each instance runs in a process of its own, inside its host's namespace. */
const MODULE = fileURLToPath(new URL('../../dist/discovery/multicast.js', import.meta.url));

/** Starts discovery with the options given as JSON, and prints "started", then each peer heard. */
const SCRIPT = `
const [module, options] = process.argv.slice(1);
const { MulticastDiscovery } = await import(module);
const discovery = new MulticastDiscovery(JSON.parse(options));
discovery.on('peer', (peer) => console.log(JSON.stringify(peer)));
await discovery.start();
console.log('started');
`;

/** Fast cadence, so that every instance sends many beacons in the time the test waits. */
const FAST = { eagerIntervalMs: 20, announceIntervalMs: 20 };

/** A discovery instance in another namespace, with the peers it has heard. */
class DiscoveryProcess extends EventEmitter {
  readonly id: NodeId = randomNodeId();
  readonly peers: DiscoveredPeer[] = [];
  readonly listenPort: number;
  private started = false;
  private errors = '';
  private exitCode: number | null | undefined;
  private readonly child: ChildProcess;

  constructor(
    readonly name: string,
    netns: string,
    options: Omit<MulticastDiscoveryOptions, 'self'>,
  ) {
    super();
    this.listenPort = options.listenPort;
    const json = JSON.stringify({ ...options, self: this.id });
    this.child = spawn(
      'ip',
      ['netns', 'exec', netns, process.execPath, '--input-type=module', '-e', SCRIPT, MODULE, json],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let buffered = '';
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'started') this.started = true;
        else this.peers.push(JSON.parse(line) as DiscoveredPeer);
      }
      this.emit('output');
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.errors += chunk;
    });
    this.child.on('exit', (code) => {
      this.exitCode = code;
      this.emit('output');
    });
  }

  heardFrom(other: DiscoveryProcess): number {
    return this.peers.filter((p) => p.id === other.id).length;
  }

  start(): Promise<void> {
    return until(`${this.name} to start`, () => this.started, [this]);
  }

  /** Throws if the process has died. */
  checkAlive(): void {
    if (this.exitCode !== undefined)
      throw new Error(`${this.name} exited (${this.exitCode}): ${this.errors}`);
  }

  stop(): Promise<void> {
    if (this.exitCode !== undefined) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    return exited;
  }
}

/** Waits for `condition`, re-checked on each output of `processes`; fails at once if one dies. */
function until(
  what: string,
  condition: () => boolean,
  processes: readonly DiscoveryProcess[],
): Promise<void> {
  return waitUntil(
    what,
    () => {
      for (const p of processes) p.checkAlive();
      return condition();
    },
    processes.map((p) => [p, 'output'] as const),
  );
}

let lans: VirtualLan[] = [];
let running: DiscoveryProcess[] = [];
afterEach(async () => {
  await Promise.all(running.map((p) => p.stop()));
  running = [];
  for (const lan of lans) lan.destroy();
  lans = [];
});

function lan(count: number, subnet: number): VirtualLan {
  const built = VirtualLan.create(count, { subnet });
  lans.push(built);
  return built;
}

function discoveryOn(
  name: string,
  netns: string | undefined,
  options: Omit<MulticastDiscoveryOptions, 'self' | 'listenPort'>,
): DiscoveryProcess {
  if (netns === undefined) throw new Error(`no namespace for ${name}`);
  const p = new DiscoveryProcess(name, netns, { ...FAST, listenPort: 4000 + running.length, ...options });
  running.push(p);
  return p;
}

describe.skipIf(!canBuildVirtualLan())('MulticastDiscovery on a host of two LANs', () => {
  it('announces and listens on the pinned interface only, not on the one the OS routes multicast to', async () => {
    // Host 0 of LAN B is also on LAN A, at `pinned`, and routes multicast out to B (the OS's
    // choice of interface). Host 1 of B and host 0 of A listen.
    const lanB = lan(2, 0);
    const lanA = lan(1, 1);
    const pinned = lanA.attach(lanB, 0);
    const group = uniqueGroup();
    const onA = discoveryOn('the listener on A', lanA.hosts[0], { group });
    const onB = discoveryOn('the listener on B', lanB.hosts[1], { group });
    await Promise.all([onA.start(), onB.start()]);
    // Both listeners run before the pinned instance starts: from its first beacon on, each could
    // hear it, and it could hear each of them.
    const dual = discoveryOn('the instance pinned to A', lanB.hosts[0], { group, interfaceAddress: pinned });
    await dual.start();

    // Wait for its beacons to reach a listener and for it to hear a listener, whichever: sending or
    // joining on the wrong interface then fails on the listener of B, not on a timeout.
    await until(
      'the pinned instance to hear and be heard',
      () => onA.heardFrom(dual) + onB.heardFrom(dual) >= 5 && dual.heardFrom(onA) + dual.heardFrom(onB) >= 5,
      running,
    );
    expect(onB.heardFrom(dual)).toBe(0);
    expect(dual.heardFrom(onB)).toBe(0);
    expect(onA.peers.find((p) => p.id === dual.id)?.address).toBe(`${pinned}:${dual.listenPort}`);
    expect(dual.peers.find((p) => p.id === onA.id)?.address).toBe(`${lanA.address(0)}:${onA.listenPort}`);
  });
});
