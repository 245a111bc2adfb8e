import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { waitUntil } from './wait.js';

/** The built CLI: process tests run what users run. `npm test` builds first. */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** A `meshcast chat` child process whose output is collected line by line. */
export class ChatProcess extends EventEmitter {
  readonly lines: string[] = [];
  /** Everything it wrote to stderr (logs, and the error it exits with). */
  errors = '';
  readonly child: ChildProcess;
  exitCode: number | null | undefined = undefined;
  private buffered = '';

  constructor(
    readonly name: string,
    args: readonly string[],
    /** Variables to set in its environment, on top of this process's. */
    env: NodeJS.ProcessEnv = {},
  ) {
    super();
    this.child = spawn(process.execPath, [CLI, 'chat', '--name', name, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
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
