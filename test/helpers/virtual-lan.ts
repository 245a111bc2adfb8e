import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/**
 * Hosts on one Ethernet segment, built from network namespaces: each host is a namespace with a
 * loopback and one veth, whose other end is a port of a bridge in a namespace of its own. Nothing
 * connects them to any other network, this process's included (see notes: network safety), so
 * multicast on the default group and port stays among them. Needs root and iproute2, as CI has.
 */
export class VirtualLan {
  private readonly prefix = `mc${process.pid}${randomBytes(2).toString('hex')}`;
  private readonly bridge = `${this.prefix}-br`;
  private readonly created: string[] = [];
  private secondSwitch = false;
  /** Cables attach() has plugged into this LAN's switch. */
  private attached = 0;
  /** Namespace of each host, in order. */
  readonly hosts: string[] = [];

  private constructor(private readonly subnet: number) {}

  /**
   * Builds `count` hosts at 10.77.0.1, 10.77.0.2, ...; on failure removes what it made. Each host
   * routes multicast out of its LAN interface, as a default route would; `multicastRoute: false`
   * leaves it only the LAN's own route, as on a network without a gateway. A second LAN for
   * attach() needs a `subnet` of its own: its hosts are at 10.77.`subnet`.1, ...
   */
  static create(count: number, { multicastRoute = true, subnet = 0 } = {}): VirtualLan {
    const lan = new VirtualLan(subnet);
    try {
      lan.build(count, multicastRoute);
    } catch (error) {
      lan.destroy();
      throw error;
    }
    return lan;
  }

  /** The IPv4 address of host `i` (0-based). */
  address(i: number): string {
    return `10.77.${this.subnet}.${i + 1}`;
  }

  /**
   * Cables host `i` of `other` into this LAN's switch too, on a second interface, `v1`, at the
   * address after this LAN's hosts, which it returns: a host on two LANs, whose multicast route
   * (if any) stays on its first. Destroying either LAN takes the cable with it.
   */
  attach(other: VirtualLan, i: number): string {
    const host = other.hosts[i];
    if (host === undefined) throw new RangeError(`no host ${i}`);
    const port = `a${this.attached}`;
    const address = this.address(this.hosts.length + this.attached);
    this.attached++;
    ip('link', 'add', 'v1', 'netns', host, 'type', 'veth', 'peer', 'name', port, 'netns', this.bridge);
    ip('-n', this.bridge, 'link', 'set', port, 'master', 'br0');
    ip('-n', this.bridge, 'link', 'set', port, 'up');
    ip('-n', host, 'addr', 'add', `${address}/24`, 'dev', 'v1');
    ip('-n', host, 'link', 'set', 'v1', 'up');
    return address;
  }

  /** Unplugs host `i`'s cable at the bridge: it sees NO-CARRIER, the others stop hearing it. */
  unplug(i: number): void {
    ip('-n', this.bridge, 'link', 'set', portName(i), 'down');
  }

  plugIn(i: number): void {
    ip('-n', this.bridge, 'link', 'set', portName(i), 'up');
  }

  /**
   * Moves the given hosts' cables to a second switch: two segments that hear nothing of each
   * other, while every host keeps its carrier (a silent split).
   */
  split(hosts: readonly number[]): void {
    if (!this.secondSwitch) {
      ip('-n', this.bridge, 'link', 'add', 'br1', 'type', 'bridge');
      ip('-n', this.bridge, 'link', 'set', 'br1', 'up');
      this.secondSwitch = true;
    }
    for (const i of hosts) ip('-n', this.bridge, 'link', 'set', portName(i), 'master', 'br1');
  }

  /** Puts every cable back on the first switch. */
  rejoin(): void {
    for (let i = 0; i < this.hosts.length; i++)
      ip('-n', this.bridge, 'link', 'set', portName(i), 'master', 'br0');
  }

  /**
   * Makes every host drop `percent`% of the packets it sends on the LAN, at random (nftables: the
   * kernel here has no netem). Needs the nft command.
   */
  dropOutgoing(percent: number): void {
    for (const host of this.hosts) {
      const nft = (command: string): void => ip('netns', 'exec', host, 'nft', command);
      nft('add table inet chaos');
      nft('add chain inet chaos out { type filter hook output priority 0 ; }');
      nft(`add rule inet chaos out oifname "v0" numgen random mod 100 < ${percent} counter drop`);
    }
  }

  /** Packets dropped so far by dropOutgoing(), over every host. */
  droppedPackets(): number {
    let dropped = 0;
    for (const host of this.hosts) {
      const listing = execFileSync('ip', ['netns', 'exec', host, 'nft', 'list table inet chaos'], {
        encoding: 'utf8',
      });
      for (const match of listing.matchAll(/counter packets (\d+)/g)) dropped += Number(match[1]);
    }
    return dropped;
  }

  /** Deletes every namespace it made, which takes their interfaces with them. */
  destroy(): void {
    for (const ns of this.created.splice(0).reverse()) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // Already gone; nothing else to undo.
      }
    }
  }

  private build(count: number, multicastRoute: boolean): void {
    this.namespace(this.bridge);
    ip('-n', this.bridge, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', this.bridge, 'link', 'set', 'br0', 'up');
    for (let i = 0; i < count; i++) {
      const host = `${this.prefix}-h${i}`;
      this.namespace(host);
      // Both ends are created inside the namespaces: nothing ever appears in ours.
      ip(
        'link',
        'add',
        'v0',
        'netns',
        host,
        'type',
        'veth',
        'peer',
        'name',
        portName(i),
        'netns',
        this.bridge,
      );
      ip('-n', this.bridge, 'link', 'set', portName(i), 'master', 'br0');
      ip('-n', this.bridge, 'link', 'set', portName(i), 'up');
      ip('-n', host, 'link', 'set', 'lo', 'up');
      ip('-n', host, 'addr', 'add', `${this.address(i)}/24`, 'dev', 'v0');
      ip('-n', host, 'link', 'set', 'v0', 'up');
      if (multicastRoute) ip('-n', host, 'route', 'add', '224.0.0.0/4', 'dev', 'v0');
      this.hosts.push(host);
    }
  }

  private namespace(name: string): void {
    ip('netns', 'add', name);
    this.created.push(name);
  }
}

/** Whether this process may build a VirtualLan: root, with iproute2 installed. */
export function canBuildVirtualLan(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    ip('-V');
    return true;
  } catch {
    return false;
  }
}

/** Whether nftables' command is installed, for dropOutgoing(). */
export function hasNftables(): boolean {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function portName(i: number): string {
  return `p${i}`;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
