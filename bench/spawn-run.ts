import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRunMessage, type RunRequest } from './run-protocol.js';
import type { ScenarioConfig } from './scenario/config.js';
import type { Progress } from './scenario/progress.js';
import type { RunResult } from './scenario/result.js';

const CHILD_PATH = fileURLToPath(new URL('./child.js', import.meta.url));

/**
 * The run's process starts through sh to raise its open-file limit to the hard limit first: a
 * thousand nodes in one process hold several thousand sockets, past the usual soft limit of 1024.
 */
const RAISE_FD_LIMIT = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"';

export interface SpawnOptions {
  readonly timeoutS: number;
  /** Folder for V8 CPU profiles, or undefined for none. */
  readonly cpuProfDir?: string;
  /** Flags for the run's process, which the processes it forks inherit (`--node-args`). */
  readonly nodeArgs: readonly string[];
  readonly onProgress: (progress: Progress) => void;
}

function failed(config: ScenarioConfig, error: string, wallMs: number): RunResult {
  return {
    contender: config.contender,
    description: '',
    n: config.n,
    procs: config.procs,
    ok: false,
    error,
    wallMs,
    config,
  };
}

/**
 * Runs one scenario in a fresh process (its own process group, so that a run past its timeout is
 * killed with every worker it forked).
 */
export function spawnRun(config: ScenarioConfig, options: SpawnOptions): Promise<RunResult> {
  const nodeArgs: string[] = [...options.nodeArgs];
  if (options.cpuProfDir !== undefined) {
    mkdirSync(options.cpuProfDir, { recursive: true });
    const name = `${config.contender}-n${config.n}-p${config.procs}`;
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${join(options.cpuProfDir, name)}`);
  }
  const startedAt = performance.now();
  const child = spawn('/bin/sh', ['-c', RAISE_FD_LIMIT, process.execPath, ...nodeArgs, CHILD_PATH], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
    detached: true,
  });
  return new Promise((resolve) => {
    let result: RunResult | undefined;
    let timedOut = false;
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutS * 1000);
    child.on('message', (message: unknown) => {
      if (!isRunMessage(message)) return;
      if (message.type === 'progress') options.onProgress(message.progress);
      else result = message.result;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!result) killGroup(); // workers a crashed run left behind
      const wallMs = Math.round(performance.now() - startedAt);
      if (result) resolve(result);
      else if (timedOut) resolve(failed(config, `timed out after ${options.timeoutS} s`, wallMs));
      else
        resolve(
          failed(config, `run process exited (code ${code}, signal ${signal}) without a result`, wallMs),
        );
    });
    const request: RunRequest = { type: 'run', config };
    child.send(request);
  });
}
