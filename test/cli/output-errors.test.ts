import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/chat-process.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshcast-out-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI with stdout on /dev/full: every write fails with ENOSPC, as on a full disk. */
function toFullDisk(...args: string[]) {
  const full = openSync('/dev/full', 'w');
  try {
    const result = spawnSync(process.execPath, [CLI, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', full, 'pipe'],
      timeout: 30_000,
    });
    return { code: result.status, err: result.stderr };
  } finally {
    closeSync(full);
  }
}

describe('output that cannot be written', () => {
  // Commands without a socket: `id` and `sim`; `meshcast chat > log` on a full disk ends the same way.
  it.each([
    ['id', '--identity', 'ID'],
    ['sim', '--nodes', '3', '--broadcasts', '1', '--no-progress'],
  ])('%s: a clear error and status 1, not a stack trace', (...args) => {
    const { code, err } = toFullDisk(...args.map((a) => (a === 'ID' ? join(dir, 'id.key') : a)));
    expect(code).toBe(1);
    expect(err).not.toMatch(/^\s+at /m); // a stack frame
    expect(err).not.toMatch(/throw error/);
    expect(err).toMatch(/^meshcast: .*(ENOSPC|no space)/m);
  });
});
