import { clearLine, createInterface, cursorTo } from 'node:readline';
import type { PeerInfo } from '../core/types.js';
import { generateIdentity } from '../identity/identity.js';
import { IdentityInUseError } from '../identity/identity-lock.js';
import type { Logger } from '../log/logger.js';
import { createNode, type MeshMessage, type MeshNode } from '../node/node.js';
import type { NodeOptions } from '../node/options.js';
import { decodeChat, encodeChat, isValidName, MAX_LINE_CHARS } from './chat-protocol.js';

export interface ChatOptions {
  readonly name: string;
  readonly node: NodeOptions;
  /**
   * When another node on this machine already runs with `node.identityFile`, chat under a fresh
   * temporary identity instead of refusing to start. For the default file, so that a second chat
   * in another terminal just works; a file named with --identity is meant, and refused.
   */
  readonly temporaryIdentityIfTaken?: boolean;
  readonly logger: Logger;
  readonly input?: NodeJS.ReadableStream;
  readonly output?: NodeJS.WritableStream;
}

export interface ChatSummary {
  /** Lines typed while no peer was connected, still waiting when the chat ended. */
  readonly unsentLines: number;
}

const short = (id: string): string => id.slice(0, 8);

/** "//text" sends "/text": the one way to start a line with a slash, which otherwise names a command. */
function unescapeSlash(text: string): string {
  return text.startsWith('//') ? text.slice(1) : text;
}

function isTerminal(stream: NodeJS.ReadableStream | NodeJS.WritableStream): boolean {
  return 'isTTY' in stream && stream.isTTY === true;
}

/**
 * Terminal chat: every line typed is broadcast to the mesh, every line received is printed with
 * its sender's name. Resolves when the user quits (/quit, end of input, Ctrl+C) and the node has
 * said goodbye.
 */
export async function runChat(options: ChatOptions): Promise<ChatSummary> {
  if (!isValidName(options.name)) throw new Error('--name must be 1-32 printable characters');
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  let say = (line: string): void => void output.write(`${line}\n`);

  const names = new Map<string, string>(); // node id -> chat name, learnt from their messages
  const nameOf = (peer: PeerInfo): string => names.get(peer.id) ?? short(peer.id);
  // Lines typed before the first neighbour appears wait here instead of vanishing.
  let pending: string[] = [];

  let announced = false;
  const wire = (node: MeshNode): void => {
    node.on('message', (message: MeshMessage) => {
      const chat = decodeChat(message.data);
      if (!chat) {
        say(`* ${short(message.origin)} sent ${message.data.length} bytes that are not chat`);
        return;
      }
      names.set(message.origin, chat.name);
      if (chat.kind === 'line') say(`<${chat.name}> ${chat.text}`);
      else say(`* ${chat.name} ${chat.kind === 'joined' ? 'joined the mesh' : 'left the mesh'}`);
    });
    node.on('peer:up', (peer) => {
      say(`* link up: ${nameOf(peer)} (${peer.address})`);
      if (!announced) {
        announced = true;
        node.broadcast(encodeChat({ kind: 'joined', name: options.name }));
      }
      if (pending.length > 0) {
        const lines = pending;
        pending = [];
        for (const text of lines) {
          node.broadcast(encodeChat({ kind: 'line', name: options.name, text: unescapeSlash(text) }));
        }
        say(`* sent ${lines.length} waiting line(s)`);
      }
    });
    node.on('peer:down', (peer) => say(`* link down: ${nameOf(peer)} (${peer.address})`));
    node.on('identity:conflict', (address) =>
      say(
        `* the node at ${address} uses your identity, so neither of you can link to the other: ` +
          'start one of you with its own --identity file',
      ),
    );
  };
  const startNode = async (nodeOptions: NodeOptions): Promise<MeshNode> => {
    const node = createNode(nodeOptions);
    wire(node);
    await node.start();
    return node;
  };
  const node = await startNode(options.node).catch((error: unknown) => {
    // Only the start's lock can tell: a check before it let two chats started at one moment both
    // find the file free, and the second then refused to run.
    if (!(options.temporaryIdentityIfTaken && error instanceof IdentityInUseError)) throw error;
    say(
      `* ${error.path} is in use by another meshcast (process ${error.pid}): this chat has a temporary identity`,
    );
    return startNode({ ...options.node, identityFile: undefined, identity: generateIdentity() });
  });
  const address = node.address();
  say(`* you are ${options.name} (${short(node.id)}), links on port ${address?.port}; /help for commands`);
  say(
    node.network === undefined
      ? '* open network: any meshcast node on this LAN can join (--network-key for a private one)'
      : `* private network ${node.network}: only nodes with the same key can join`,
  );

  // Line editing only when a person types at a terminal: piped input would be echoed back.
  const terminal = isTerminal(input) && isTerminal(output);
  const rl = createInterface({ input, output, terminal, prompt: '' });
  // A terminal that hung up (its window closed) fails readline's last write or raw-mode switch with
  // EIO: nobody is left to tell, and the goodbye is still owed.
  rl.on('error', () => {});
  let inputClosed = false;
  if (terminal) {
    // A received line is written over the line being typed, which is then drawn again below it.
    say = (line) => {
      clearLine(output, 0);
      cursorTo(output, 0);
      output.write(`${line}\n`);
      // Once closed, readline must not prompt again: that would resume the input.
      if (!inputClosed) rl.prompt(true);
    };
  }
  let quitting: Promise<void> | undefined;
  let unsentLines = 0;
  const quit = (): Promise<void> => {
    quitting ??= (async () => {
      inputClosed = true;
      unsentLines = pending.length;
      if (unsentLines > 0) say(`* ${unsentLines} waiting line(s) not sent: no peer connected`);
      // The goodbye first: closing a terminal that hung up can fail, and nothing may stop it going out.
      if (node.peers().active.length > 0) node.broadcast(encodeChat({ kind: 'left', name: options.name }));
      try {
        rl.close();
      } catch {
        // EIO from a hung-up terminal, as above.
      }
      await node.stop();
    })();
    return quitting;
  };
  const onSignal = (): void => void quit();
  // SIGHUP: the terminal was closed; a goodbye is still owed. Listening (not once) until the node
  // has stopped: a second Ctrl+C or SIGTERM during the goodbye must not kill the process mid-way.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, onSignal);
  rl.on('SIGINT', onSignal); // a TTY readline swallows Ctrl+C and reports it here instead

  rl.on('line', (line) => {
    // Lines that came in the same chunk as /quit, or after Ctrl+C, are not the user's to send now.
    if (quitting !== undefined) return;
    const text = line.trim();
    if (text === '') return;
    if (text.startsWith('/') && !text.startsWith('//')) return command(text);
    if (text.length > MAX_LINE_CHARS)
      return say(`* not sent: lines are limited to ${MAX_LINE_CHARS} characters`);
    if (node.peers().active.length === 0) {
      pending.push(text);
      return say('* no peers yet: the line will be sent as soon as one connects');
    }
    node.broadcast(encodeChat({ kind: 'line', name: options.name, text: unescapeSlash(text) }));
  });
  // End of input; quit() closes rl itself, and this 'close' comes before quit() has returned.
  rl.on('close', () => {
    if (!inputClosed) void quit();
  });

  function command(text: string): void {
    const [name] = text.split(/\s+/);
    switch (name) {
      case '/peers': {
        const { active, passive } = node.peers();
        const list = (peers: PeerInfo[]): string => peers.map((p) => `${nameOf(p)}@${p.address}`).join(' ');
        say(`* active (${active.length}): ${list(active)}`);
        say(`* passive (${passive.length}): ${list(passive)}`);
        return;
      }
      case '/quit':
        void quit();
        return;
      case '/help':
        say('* /peers  list neighbours (active view) and reserve peers (passive view)');
        say('* /quit   leave the mesh (also Ctrl+C or end of input)');
        say('* //text  send a line that starts with /');
        return;
      default:
        say(`* unknown command ${name}; /help lists them`);
    }
  }

  await new Promise<void>((resolve) => node.once('stopped', resolve));
  for (const signal of signals) process.off(signal, onSignal);
  // readline only pauses its input, and a pipe that stays open (a script feeding the chat) would
  // keep the process alive after /quit.
  if (input === process.stdin) process.stdin.destroy();
  return { unsentLines };
}
