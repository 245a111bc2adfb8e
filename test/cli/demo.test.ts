import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/chat-process.js';

/** Runs `meshcast demo ...args` to its end; with `readOneLine`, closes its stdout after one line. */
function runDemo(
  args: readonly string[],
  readOneLine = false,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    // As `| head -1` does: the reader goes away, and the demo's next line meets a closed pipe.
    if (readOneLine && stdout.includes('\n')) child.stdout.destroy();
  });
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('meshcast demo', () => {
  it('succeeds when the crash leaves a single node, which has nothing to heal', async () => {
    const { code, stdout } = await runDemo(['--nodes', '2', '--kill', '0.5', '--broadcasts', '1']);
    expect(stdout).toMatch(/result\s+OK/);
    expect(code).toBe(0);
  });

  it('ends normally when the reader of its output goes away (| head -1)', async () => {
    const { code, stderr } = await runDemo(['--nodes', '3', '--broadcasts', '1'], true);
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  });
});
