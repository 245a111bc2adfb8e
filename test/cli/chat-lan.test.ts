import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateIdentity } from '../../src/identity/identity-file.js';
import { ChatProcess, everyoneSays, waitConnected, waitOverlay } from '../helpers/chat-process.js';
import { canBuildVirtualLan, hasNftables, VirtualLan } from '../helpers/virtual-lan.js';

// `meshcast chat` on separate hosts of one virtual Ethernet segment, as users run it: no flags but
// a name, so discovery uses the default group and port, and the interface is the host's own. The
// hosts are network namespaces joined by a bridge and connected to nothing else (VirtualLan).

let lan: VirtualLan | undefined;
let running: ChatProcess[] = [];
let configs: string | undefined;
afterEach(async () => {
  for (const p of running) if (p.exitCode === undefined) p.kill();
  await Promise.all(running.map((p) => p.exited()));
  running = [];
  lan?.destroy();
  lan = undefined;
  if (configs !== undefined) rmSync(configs, { recursive: true, force: true });
  configs = undefined;
});

/** A configuration directory per host, as each machine has its own home. */
function configDirectory(host: number): string {
  configs ??= mkdtempSync(join(tmpdir(), 'meshcast-lan-'));
  const dir = join(configs, `host${host}`);
  mkdirSync(join(dir, 'meshcast'), { recursive: true });
  return dir;
}

function chatOn(host: number): ChatProcess {
  if (lan === undefined) throw new Error('no LAN');
  const chat = new ChatProcess(`h${host}`, [], {
    netns: lan.hosts[host],
    host: lan.address(host),
    env: { XDG_CONFIG_HOME: configDirectory(host) },
  });
  running.push(chat);
  return chat;
}

describe.skipIf(!canBuildVirtualLan())('meshcast chat on hosts of one LAN', () => {
  it('finds the others with no configuration, survives a crash and an unplugged cable', async () => {
    lan = VirtualLan.create(4);
    const chats = [0, 1, 2, 3].map((host) => chatOn(host));
    await waitConnected(chats);
    await everyoneSays(chats, (c) => `hello from ${c.name}`);
    for (const receiver of chats) {
      for (const sender of chats.filter((c) => c !== receiver)) {
        expect(receiver.count(new RegExp(`^<${sender.name}> hello from ${sender.name}$`))).toBe(1);
      }
    }

    const [crashed, ...rest] = chats as [ChatProcess, ...ChatProcess[]];
    crashed.kill();
    await crashed.exited();
    await waitConnected(rest);
    await everyoneSays(rest, (c) => `still here, ${c.name}`);

    // A pulled cable sends nothing: the others notice only when the link goes quiet.
    const unplugged = rest[2] as ChatProcess;
    const stayed = rest.slice(0, 2);
    lan.unplug(3);
    await waitConnected(stayed);
    await everyoneSays(stayed, (c) => `without h3, ${c.name}`);
    expect(unplugged.count(/without h3/)).toBe(0);

    lan.plugIn(3);
    await waitConnected(rest);
    await everyoneSays(rest, (c) => `h3 is back, ${c.name}`);
  });

  it('finds the others on a LAN without a gateway, where the OS has no route for multicast', async () => {
    lan = VirtualLan.create(3, { multicastRoute: false });
    const chats = [0, 1, 2].map((host) => chatOn(host));
    await waitConnected(chats);
    await everyoneSays(chats, (c) => `no gateway here, ${c.name}`);
  });

  it('becomes one mesh again after a silent split, once each side has filled every view', async () => {
    // Twelve hosts meet, then six are moved to a second switch: no host sees its cable go, the
    // links across go quiet and time out, and each side of six fills every view (5 links, to all
    // 5 others). Nothing in HyParView itself would link the sides again.
    lan = VirtualLan.create(12);
    const chats = Array.from({ length: 12 }, (_, host) => chatOn(host));
    await waitConnected(chats);
    const sides = [chats.slice(0, 6), chats.slice(6)];
    lan.split([6, 7, 8, 9, 10, 11]);
    for (const side of sides) await waitOverlay(side, 'full', (view) => view.length === 5);
    lan.rejoin();
    await waitConnected(chats, 45_000);
    await everyoneSays(chats, (c) => `together again, ${c.name}`);
  }, 90_000);

  it('joins two meshes that formed on separate switches once the switches are connected', async () => {
    // Six hosts a side: each side ends with every view full (5 links, to all 5 others), and then
    // nothing in HyParView itself would ever link the two meshes.
    lan = VirtualLan.create(12);
    const sides = [Array.from({ length: 6 }, (_, i) => i), Array.from({ length: 6 }, (_, i) => i + 6)];
    lan.split(sides[1] as number[]);
    const chats = Array.from({ length: 12 }, (_, host) => chatOn(host));
    for (const side of sides) {
      await waitOverlay(
        side.map((host) => chats[host] as ChatProcess),
        'full',
        (view) => view.length === 5,
      );
    }
    // Joined seconds after the start: each side tells the other apart by its overlay tag.
    lan.rejoin();
    await waitConnected(chats, 30_000);
    await everyoneSays(chats, (c) => `one mesh now, ${c.name}`);
  }, 90_000);

  it.skipIf(!hasNftables())(
    'loses one packet in ten on every host and still brings every line to every host once',
    async () => {
      lan = VirtualLan.create(6);
      lan.dropOutgoing(10);
      const chats = Array.from({ length: 6 }, (_, host) => chatOn(host));
      await waitConnected(chats);
      for (let round = 0; round < 3; round++) await everyoneSays(chats, (c) => `round ${round}, ${c.name}`);
      for (const receiver of chats) {
        for (const sender of chats.filter((c) => c !== receiver)) {
          expect(receiver.count(new RegExp(`^<${sender.name}> round \\d, ${sender.name}$`))).toBe(3);
        }
      }
      expect(lan.droppedPackets()).toBeGreaterThan(0);
    },
  );

  it('has two hosts with copies of one identity file name each other, and neither link', async () => {
    lan = VirtualLan.create(2);
    const original = join(configDirectory(0), 'meshcast', 'identity.key');
    loadOrCreateIdentity(original);
    copyFileSync(original, join(configDirectory(1), 'meshcast', 'identity.key'));
    const [first, second] = [chatOn(0), chatOn(1)];
    const conflict = (other: ChatProcess, port: number) =>
      new RegExp(`^\\* the node at ${other.host.replaceAll('.', '\\.')}:${port} uses your identity`);
    const [firstPort, secondPort] = [await first.port(), await second.port()];
    await first.waitForLine(conflict(second, secondPort));
    await second.waitForLine(conflict(first, firstPort));
    // Each one's own beacons, back from its own address, are not taken for another node.
    for (const chat of [first, second]) {
      expect(chat.count(/uses your identity/)).toBe(1);
      expect(chat.count(/^\* link up/)).toBe(0);
    }
  });
});
