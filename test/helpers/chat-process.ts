import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { components, isSymmetric } from '../../src/core/graph.js';
import { waitUntil } from './wait.js';

/** The built CLI: process tests run what users run. `npm test` builds first. */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface ChatProcessOptions {
  /** Variables to set in its environment, on top of this process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** The network namespace to run it in (see VirtualLan); default: this process's. */
  readonly netns?: string;
  /** The address its peers reach it at (default 127.0.0.1). */
  readonly host?: string;
}

/** A `meshcast chat` child process whose output is collected line by line. */
export class ChatProcess extends EventEmitter {
  readonly lines: string[] = [];
  /** Everything it wrote to stderr (logs, and the error it exits with). */
  errors = '';
  readonly child: ChildProcess;
  exitCode: number | null | undefined = undefined;
  private buffered = '';

  readonly host: string;

  constructor(
    readonly name: string,
    args: readonly string[],
    options: ChatProcessOptions = {},
  ) {
    super();
    this.host = options.host ?? '127.0.0.1';
    const command = [process.execPath, CLI, 'chat', '--name', name, ...args];
    // `ip netns exec` execs the command itself, so the child's pid is the chat's.
    const [file, ...argv] =
      options.netns === undefined ? command : ['ip', 'netns', 'exec', options.netns, ...command];
    this.child = spawn(file as string, argv, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      this.buffered += chunk;
      let newline = this.buffered.indexOf('\n');
      while (newline >= 0) {
        this.lines.push(this.buffered.slice(0, newline));
        this.buffered = this.buffered.slice(newline + 1);
        newline = this.buffered.indexOf('\n');
      }
      this.emit('output');
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.errors += chunk;
    });
    this.child.on('exit', (code, signal) => {
      this.exitCode = code ?? (signal ? -1 : null);
      this.emit('output');
    });
  }

  type(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Waits for an output line matching `pattern` (counting from line `from`) and returns it. */
  async waitForLine(pattern: RegExp, timeoutMs = 15_000, from = 0): Promise<string> {
    let found: string | undefined;
    await waitUntil(
      `${this.name} to print ${pattern}`,
      () => {
        found = this.lines.slice(from).find((l) => pattern.test(l));
        if (!found && this.exitCode !== undefined) throw new Error(`${this.name} exited (${this.exitCode})`);
        return found !== undefined;
      },
      [[this, 'output']],
      timeoutMs,
    );
    return found as string;
  }

  count(pattern: RegExp): number {
    return this.lines.filter((l) => pattern.test(l)).length;
  }

  /** Port its links listen on, from the greeting line. */
  async port(): Promise<number> {
    const line = await this.waitForLine(/links on port \d+/);
    return Number(/links on port (\d+)/.exec(line)?.[1]);
  }

  /** Where peers reach its links: host:port. */
  async address(): Promise<string> {
    return `${this.host}:${await this.port()}`;
  }

  /** Its active view as listen addresses, asked through /peers. */
  async activeView(): Promise<string[]> {
    const from = this.lines.length;
    this.type('/peers');
    const line = await this.waitForLine(/^\* active \(\d+\):/, 10_000, from);
    return line
      .replace(/^\* active \(\d+\):\s*/, '')
      .split(' ')
      .filter(Boolean)
      .map((entry) => entry.slice(entry.lastIndexOf('@') + 1));
  }

  exited(): Promise<number | null> {
    if (this.exitCode !== undefined) return Promise.resolve(this.exitCode);
    return new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }
}

/** Asks every process for its neighbours until they form one connected overlay of live processes. */
export function waitConnected(chats: ChatProcess[], timeoutMs = 30_000): Promise<void> {
  return waitOverlay(chats, 'connected', () => true, timeoutMs);
}

/**
 * Asks every process for its neighbours until they form one connected overlay of live processes in
 * which `holds` is true of every active view.
 */
export async function waitOverlay(
  chats: ChatProcess[],
  what: string,
  holds: (view: string[]) => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const addresses = new Map<ChatProcess, string>();
  for (const chat of chats) addresses.set(chat, await chat.address());
  const live = new Set(addresses.values());
  for (;;) {
    const linkEvents = chats.map((c) => c.count(/^\* link (up|down)/));
    const graph = new Map<string, string[]>();
    for (const chat of chats) graph.set(addresses.get(chat) as string, await chat.activeView());
    const complete = [...graph.values()].every(
      (view) => view.length > 0 && view.every((a) => live.has(a)) && holds(view),
    );
    if (complete && isSymmetric(graph) && components(graph).length === 1) return;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`overlay not ${what}: ${JSON.stringify([...graph])}`);
    // Ask again only after some process reported a link change.
    await waitUntil(
      'a link change',
      () => chats.some((c, i) => c.count(/^\* link (up|down)/) > (linkEvents[i] ?? 0)),
      chats.map((c) => [c, 'output'] as const),
      remaining,
    );
  }
}

/** Every process types a line; resolves once each line has reached every other process. */
export async function everyoneSays(chats: ChatProcess[], text: (c: ChatProcess) => string): Promise<void> {
  for (const chat of chats) chat.type(text(chat));
  for (const sender of chats) {
    const line = new RegExp(`^<${sender.name}> ${text(sender)}$`);
    await Promise.all(chats.filter((c) => c !== sender).map((c) => c.waitForLine(line)));
  }
}
