import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type ChatPayload, decodeChat } from '../../src/cli/chat-protocol.js';
import { loadOrCreateIdentity } from '../../src/identity/identity-file.js';
import { writeNetworkKeyFile } from '../../src/identity/network-key.js';
import { createNode, type MeshNode } from '../../src/node/node.js';
import { ChatProcess, CLI, everyoneSays, waitConnected, waitOverlay } from '../helpers/chat-process.js';
import { uniqueDiscovery } from '../helpers/unique-group.js';
import { waitUntil } from '../helpers/wait.js';

let running: ChatProcess[] = [];
/** Each process its own identity file: on one machine they would otherwise share the default one. */
const keys = mkdtempSync(join(tmpdir(), 'meshcast-chat-'));
afterAll(() => rmSync(keys, { recursive: true, force: true }));
afterEach(async () => {
  for (const p of running) if (p.exitCode === undefined) p.kill();
  await Promise.all(running.map((p) => p.exited()));
  running = [];
});

function startChats(
  count: number,
  discovery = uniqueDiscovery(),
  prefix = 'n',
  extra: string[] = [],
): ChatProcess[] {
  const args = ['--interface', '127.0.0.1', '--port', '0', '--group', discovery.group, ...extra];
  args.push('--discovery-port', String(discovery.discoveryPort));
  const started = Array.from(
    { length: count },
    (_, i) => new ChatProcess(`${prefix}${i}`, [...args, '--identity', join(keys, `${prefix}${i}.key`)]),
  );
  running.push(...started);
  return started;
}

describe('meshcast chat processes on 127.0.0.1', () => {
  it.each([3, 20])(
    '%i processes find each other by multicast and every line reaches every other once',
    async (n) => {
      const chats = startChats(n);
      await waitConnected(chats);
      await everyoneSays(chats, (c) => `hello from ${c.name}`);
      for (const receiver of chats) {
        for (const sender of chats.filter((c) => c !== receiver)) {
          expect(receiver.count(new RegExp(`^<${sender.name}> hello from ${sender.name}$`))).toBe(1);
        }
        expect(receiver.count(new RegExp(`^<${receiver.name}> `))).toBe(0);
      }
    },
  );

  it('heals after a process is killed with SIGKILL, and a late process joins', async () => {
    const discovery = uniqueDiscovery();
    const chats = startChats(5, discovery);
    await waitConnected(chats);
    const victim = chats[2] as ChatProcess;
    victim.kill('SIGKILL');
    await victim.exited();
    const survivors = chats.filter((c) => c !== victim);
    await waitConnected(survivors);
    await everyoneSays(survivors, (c) => `still here ${c.name}`);

    const [late] = startChats(1, discovery, 'late');
    const all = [...survivors, late as ChatProcess];
    await waitConnected(all);
    await everyoneSays(all, (c) => `with the late one ${c.name}`);
  });

  it('exits within a second of Ctrl+C, at end of input, and on /quit, saying goodbye', async () => {
    const chats = startChats(4);
    await waitConnected(chats);
    const [interrupted, closed, quitter, witness] = chats as [
      ChatProcess,
      ChatProcess,
      ChatProcess,
      ChatProcess,
    ];

    const signalledAt = performance.now();
    interrupted.kill('SIGINT');
    expect(await interrupted.exited()).toBe(0);
    expect(performance.now() - signalledAt).toBeLessThan(1000);

    const endedAt = performance.now();
    closed.child.stdin?.end();
    expect(await closed.exited()).toBe(0);
    expect(performance.now() - endedAt).toBeLessThan(1000);

    // Its input stays open, as a script's pipe may: /quit alone must end the process.
    const quitAt = performance.now();
    quitter.type('/quit');
    expect(await quitter.exited()).toBe(0);
    expect(performance.now() - quitAt).toBeLessThan(1000);

    await witness.waitForLine(new RegExp(`^\\* ${interrupted.name} left the mesh$`));
    await witness.waitForLine(new RegExp(`^\\* ${quitter.name} left the mesh$`));
  });

  it('links only chats started with the same --network-key', async () => {
    const keyFile = join(keys, 'network.key');
    writeNetworkKeyFile(keyFile);
    const discovery = uniqueDiscovery();
    const members = startChats(2, discovery, 'member', ['--network-key', keyFile]);
    const [open] = startChats(1, discovery, 'open') as [ChatProcess];
    for (const member of members) await member.waitForLine(/^\* private network [0-9a-f]{16}: only nodes/);
    await open.waitForLine(/^\* open network/);
    await waitConnected(members);
    await everyoneSays(members, (c) => `secret from ${c.name}`);
    // The open chat hears their beacons all along, and never links nor sees a line.
    expect(open.count(/^\* link up/)).toBe(0);
    expect(open.count(/secret from/)).toBe(0);
  });

  it('tells two chats with copies of one identity file that they cannot link, naming each other', async () => {
    const discovery = uniqueDiscovery();
    const original = join(keys, 'original.key');
    const copy = join(keys, 'copy.key');
    loadOrCreateIdentity(original);
    copyFileSync(original, copy); // as if copied to another machine
    const args = (identity: string): string[] => [
      ...['--interface', '127.0.0.1', '--port', '0', '--group', discovery.group],
      ...['--discovery-port', String(discovery.discoveryPort), '--identity', identity],
    ];
    const first = new ChatProcess('first', args(original));
    const second = new ChatProcess('second', args(copy));
    running.push(first, second);
    const [firstPort, secondPort] = [await first.port(), await second.port()];
    await first.waitForLine(new RegExp(`^\\* the node at 127\\.0\\.0\\.1:${secondPort} uses your identity`));
    await second.waitForLine(new RegExp(`^\\* the node at 127\\.0\\.0\\.1:${firstPort} uses your identity`));
    expect(first.count(/^\* link up/) + second.count(/^\* link up/)).toBe(0);
  });

  it('refuses a second chat on an identity file that a running one holds', async () => {
    const discovery = uniqueDiscovery();
    const shared = join(keys, 'shared.key');
    const args = ['--interface', '127.0.0.1', '--port', '0', '--group', discovery.group];
    args.push('--discovery-port', String(discovery.discoveryPort), '--identity', shared);
    const first = new ChatProcess('first', args);
    running.push(first);
    await first.port();
    const second = new ChatProcess('second', args);
    running.push(second);
    expect(await second.exited()).toBe(1);
    expect(second.errors).toContain(`identity file ${shared} is in use by another meshcast node (process`);
    expect(second.count(/links on port/)).toBe(0);
  });

  it('gives a second chat on the default identity file a temporary identity, and the two link', async () => {
    const config = mkdtempSync(join(tmpdir(), 'meshcast-config-'));
    try {
      const env = { XDG_CONFIG_HOME: config };
      const discovery = uniqueDiscovery();
      const args = ['--interface', '127.0.0.1', '--port', '0', '--group', discovery.group];
      args.push('--discovery-port', String(discovery.discoveryPort));
      const first = new ChatProcess('first', args, { env });
      running.push(first);
      await first.port();
      const second = new ChatProcess('second', args, { env });
      running.push(second);
      const defaultFile = join(config, 'meshcast', 'identity.key');
      await second.waitForLine(
        new RegExp(
          `^\\* ${defaultFile.replaceAll('.', '\\.')} is in use by another meshcast \\(process \\d+\\): this chat has a temporary identity$`,
        ),
      );
      await waitConnected([first, second]);
      await everyoneSays([first, second], (c) => `hi from ${c.name}`);
    } finally {
      rmSync(config, { recursive: true, force: true });
    }
  });

  it('keeps a line typed before any peer connects and says so, and at /quit that it was not sent', async () => {
    const [alone] = startChats(1) as [ChatProcess];
    await alone.port();
    alone.type('anyone there?');
    await alone.waitForLine(/no peers yet/);
    // Lines after /quit in the same input are not the user's to send any more.
    alone.child.stdin?.write('/quit\nafter the quit\n');
    await alone.waitForLine(/^\* 1 waiting line\(s\) not sent: no peer connected$/);
    expect(await alone.exited()).toBe(1);
    expect(alone.count(/no peers yet/)).toBe(1);
  });

  it('sends the lines that waited, and that it joined, once: to the first peer that links, not again to the next', async () => {
    const [alone] = startChats(1, uniqueDiscovery(), 'waiting') as [ChatProcess];
    const address = await alone.address();
    alone.type('anyone there?');
    await alone.waitForLine(/no peers yet/);
    const peers = [0, 1].map(() =>
      createNode({ host: '127.0.0.1', port: 0, discovery: false, bootstrap: [address] }),
    ) as [MeshNode, MeshNode];
    const heardByFirst: ChatPayload[] = [];
    peers[0].on('message', (message) => {
      const chat = decodeChat(message.data);
      if (chat) heardByFirst.push(chat);
    });
    try {
      await peers[0].start();
      await alone.waitForLine(/^\* sent 1 waiting line\(s\)$/);
      const from = alone.lines.length;
      await peers[1].start();
      await alone.waitForLine(/^\* link up/, undefined, from);
      // /peers is answered after whatever the chat printed on that link up.
      expect(await alone.activeView()).toHaveLength(2);
      expect(alone.count(/waiting line/)).toBe(1);
      // A second 'joined' would have gone out on the second link up, before this line.
      alone.type('both here');
      await waitUntil(
        'the first peer hears the line typed after the second linked',
        () => heardByFirst.some((chat) => chat.kind === 'line' && chat.text === 'both here'),
        [[peers[0], 'message']],
      );
      expect(heardByFirst.map((chat) => (chat.kind === 'line' ? chat.text : chat.kind))).toEqual([
        'joined',
        'anyone there?',
        'both here',
      ]);
    } finally {
      await Promise.all(peers.map((p) => p.stop()));
    }
  });

  it('sends a line that starts with / when typed as //, and says goodbye when its terminal closes', async () => {
    const chats = startChats(2);
    await waitConnected(chats);
    const [writer, reader] = chats as [ChatProcess, ChatProcess];
    writer.type('//etc/hosts is a path');
    await reader.waitForLine(new RegExp(`^<${writer.name}> /etc/hosts is a path$`));
    writer.kill('SIGHUP');
    expect(await writer.exited()).toBe(0);
    await reader.waitForLine(new RegExp(`^\\* ${writer.name} left the mesh$`));
  });
});

describe('meshcast chat leaving', () => {
  it.each([
    ['/quit', (c: ChatProcess) => c.type('/quit')],
    ['SIGINT', (c: ChatProcess) => c.kill('SIGINT')],
    ['SIGTERM', (c: ChatProcess) => c.kill('SIGTERM')],
  ] as const)('reports the lines it never sent once, on %s', async (how, leave) => {
    // Before, closing readline inside quit() called quit() again, which ran its body twice.
    const [alone] = startChats(1, uniqueDiscovery(), `alone${how.replace('/', '')}`) as [ChatProcess];
    await alone.port();
    alone.type('anyone there?');
    await alone.waitForLine(/no peers yet/);
    leave(alone);
    expect(await alone.exited()).toBe(1);
    expect(alone.count(/waiting line\(s\) not sent/)).toBe(1);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'ends with status 0 on a second %s during the goodbye',
    async (signal) => {
      const chats = startChats(3, uniqueDiscovery(), `again${signal}`);
      await waitOverlay(chats, 'full', (view) => view.length === 2);
      const [quitter, frozen, witness] = chats as [ChatProcess, ChatProcess, ChatProcess];
      // A neighbour that does not answer (a frozen laptop) holds the goodbye for its grace period.
      const quitterAt = (await quitter.address()).replaceAll('.', '\\.');
      frozen.kill('SIGSTOP');
      try {
        quitter.kill(signal);
        // Its Disconnect reached the witness over their own link: the goodbye is under way.
        await witness.waitForLine(new RegExp(`^\\* link down: .* \\(${quitterAt}\\)$`));
        // Before, the first signal's listener was a `once`: the second killed the process.
        quitter.kill(signal);
        expect(await quitter.exited()).toBe(0);
      } finally {
        frozen.kill('SIGCONT');
      }
    },
  );

  it('says goodbye when its real terminal hangs up (a closed window)', async () => {
    const discovery = uniqueDiscovery();
    const [witness] = startChats(1, discovery, 'hangupWitness') as [ChatProcess];
    const args = ['--interface', '127.0.0.1', '--port', '0', '--group', discovery.group];
    args.push('--discovery-port', String(discovery.discoveryPort), '--identity', join(keys, 'tty.key'));
    // util-linux `script` runs the chat on a pseudo-terminal; killing `script` closes the terminal's
    // master side, and the kernel hangs the chat's terminal up (SIGHUP, then EIO on every use).
    const command = `echo "PID=$$"; exec ${process.execPath} ${CLI} chat --name ttyuser ${args.join(' ')}`;
    const terminal = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { ...process.env, SHELL: '/bin/sh' },
    });
    let screen = '';
    terminal.stdout.setEncoding('utf8');
    terminal.stdout.on('data', (chunk: string) => {
      screen += chunk;
    });
    const chatPid = (): number | undefined => {
      const match = /PID=(\d+)/.exec(screen);
      return match ? Number(match[1]) : undefined;
    };
    try {
      await waitUntil('the chat on the terminal to start', () => /links on port/.test(screen), [
        [terminal.stdout as Readable, 'data'],
      ]);
      await witness.waitForLine(/^\* ttyuser joined the mesh$/);
      terminal.kill('SIGKILL');
      // Before, readline's EIO on the hung-up terminal crashed the chat before its goodbye.
      await witness.waitForLine(/^\* ttyuser left the mesh$/);
    } finally {
      terminal.kill('SIGKILL');
      const pid = chatPid();
      try {
        // Only the chat itself: its pid may have been given to another process since it exited.
        if (pid !== undefined && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ttyuser')) {
          process.kill(pid, 'SIGKILL');
        }
      } catch {
        // already gone
      }
    }
  });
});

describe('meshcast chat on bad input', () => {
  /** Runs the chat to its end with no input (so that one that starts quits at once). */
  function chatToEnd(args: string[], env: NodeJS.ProcessEnv = {}) {
    const identity = join(keys, 'bad-input.key');
    const all = ['chat', '--interface', '127.0.0.1', '--port', '0', '--no-discovery', '--identity', identity];
    const result = spawnSync(process.execPath, [CLI, ...all, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
      timeout: 20_000,
    });
    return { code: result.status, out: result.stdout, err: result.stderr };
  }

  it('refuses a flag out of range with status 1, naming the flag and showing the usage', () => {
    const { code, out, err } = chatToEnd(['--port', '70000']);
    expect(code).toBe(1);
    expect(err).toContain(
      "error: option '-p, --port <port>' argument '70000' is invalid. expected a port number from 0 to 65535",
    );
    expect(err).toContain('Usage: meshcast chat [options]');
    expect(out).toBe('');
  });

  it.each([
    ['empty', ''],
    ['33 characters long', 'x'.repeat(33)],
    ['with an escape sequence', 'a\u001b[2Jb'],
  ])('refuses a --name that is %s, and starts no node', (_label, name) => {
    const { code, out, err } = chatToEnd(['--name', name]);
    expect(code).toBe(1);
    expect(err).toBe('meshcast: --name must be 1-32 printable characters\n');
    expect(out).not.toMatch(/links on port/);
  });

  it('takes the first 32 characters of user@host when no --name is given', () => {
    const { code, out } = chatToEnd([], { USER: 'u'.repeat(40) });
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^\\* you are ${'u'.repeat(32)} \\(`, 'm'));
  });

  it('refuses a line longer than 4096 characters, and passes over blank ones', async () => {
    const [alone] = startChats(1, uniqueDiscovery(), 'long') as [ChatProcess];
    await alone.port();
    alone.type('   ');
    alone.type('y'.repeat(4097));
    await alone.waitForLine(/^\* not sent: lines are limited to 4096 characters$/);
    const from = alone.lines.length;
    alone.type('y'.repeat(4096));
    await alone.waitForLine(/no peers yet/, undefined, from);
    expect(alone.count(/no peers yet/)).toBe(1);
    expect(alone.count(/not sent/)).toBe(1);
  });

  it('shows what a hostile peer sends as plain text under its stripped name, and says what is not chat', async () => {
    const [chat] = startChats(1, uniqueDiscovery(), 'target') as [ChatProcess];
    const hostile: MeshNode = createNode({
      host: '127.0.0.1',
      port: 0,
      discovery: false,
      bootstrap: [await chat.address()],
    });
    try {
      await hostile.start();
      await chat.waitForLine(/^\* link up/);
      const short = hostile.id.slice(0, 8);
      hostile.broadcast('not json');
      await chat.waitForLine(new RegExp(`^\\* ${short} sent 8 bytes that are not chat$`));
      hostile.broadcast(
        JSON.stringify({ kind: 'line', name: 'mal\u001b[2Jlory', text: '\u001b[31mred\u202e!' }),
      );
      await chat.waitForLine(/^<mal\[2Jlory> \[31mred!$/);
      // Its name, learnt from its messages, names it from then on.
      expect(await chat.activeView()).toEqual([`127.0.0.1:${hostile.address()?.port}`]);
      expect(chat.count(/^\* active \(1\): mal\[2Jlory@127\.0\.0\.1:\d+$/)).toBe(1);
    } finally {
      await hostile.stop();
    }
  });
});
