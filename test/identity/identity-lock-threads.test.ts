import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { identityHolder, lockIdentityFile, lockPathOf } from '../../src/identity/identity-lock.js';
import { transpileIdentityModules } from './transpile.js';

const MESSAGE_DEADLINE_MS = 10_000;

/**
 * A worker thread that does what a node started on it does: lock its identity file, and hold it
 * until told to let go. It shares this process's id but not this thread's modules.
 */
const STARTER = `
import { parentPort, workerData } from 'node:worker_threads';
import { lockIdentityFile } from './identity/identity-lock.js';
let release = () => {};
try {
  release = lockIdentityFile(workerData);
  parentPort.postMessage({ locked: true });
} catch (error) {
  parentPort.postMessage({ error: error.name });
}
parentPort.once('message', (how) => {
  // A thread that dies without stopping its node: its sockets close with it, its lock stays.
  if (how === 'throw') throw new Error('the node thread failed');
  if (how === 'exit') process.exit(1);
  release();
  parentPort.close();
});
`;

let build: string;
let dir: string;
let identityPath: string;
beforeAll(() => {
  build = mkdtempSync(join(tmpdir(), 'meshcast-thread-starters-'));
  transpileIdentityModules(build);
  writeFileSync(join(build, 'starter.js'), STARTER);
});
afterAll(() => rmSync(build, { recursive: true, force: true }));
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshcast-lock-threads-'));
  identityPath = join(dir, 'identity.key');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Starts a node's lock on a worker thread; what it reports, and what makes it exit: letting go of
 * the lock, or (`how`) dying of an uncaught exception or process.exit() without letting go.
 */
async function lockOnThread(
  path: string,
): Promise<{ report: unknown; stop: (how?: 'throw' | 'exit') => Promise<void> }> {
  const worker = new Worker(join(build, 'starter.js'), { workerData: path });
  // Not once(worker, 'exit'): it rejects on the 'error' that comes first when the thread throws.
  const exited = new Promise<void>((resolve) => worker.on('exit', () => resolve()));
  worker.on('error', () => {});
  const [report] = await once(worker, 'message', { signal: AbortSignal.timeout(MESSAGE_DEADLINE_MS) });
  const stop = async (how: 'throw' | 'exit' | 'release' = 'release'): Promise<void> => {
    worker.postMessage(how);
    const deadline = AbortSignal.timeout(MESSAGE_DEADLINE_MS);
    await new Promise<void>((resolve, reject) => {
      exited.then(resolve);
      deadline.addEventListener('abort', () => reject(new Error('the worker thread did not exit')));
    });
  };
  return { report, stop };
}

describe('identity file lock across threads of one process', () => {
  it('refuses a node on another thread while a node on this one holds the file', async () => {
    const release = lockIdentityFile(identityPath);
    const record = readFileSync(lockPathOf(identityPath), 'utf8');
    const other = await lockOnThread(identityPath);
    await other.stop();
    // Before, the other thread, finding this process's id in a lock its own modules had not taken,
    // removed the live lock as stale and took it: two nodes ran with one identity.
    expect(other.report).toEqual({ error: 'IdentityInUseError' });
    expect(readFileSync(lockPathOf(identityPath), 'utf8')).toBe(record);
    expect(identityHolder(identityPath)).toBe(process.pid);
    release();
  });

  it('lets a node on another thread take the file once this thread let go of it', async () => {
    lockIdentityFile(identityPath)();
    const other = await lockOnThread(identityPath);
    try {
      expect(other.report).toEqual({ locked: true });
      expect(() => lockIdentityFile(identityPath)).toThrow('in use by another meshcast node');
    } finally {
      await other.stop();
    }
    lockIdentityFile(identityPath)();
  });

  it.each(['throw', 'exit'] as const)(
    'lets a node on this thread take the file once the thread holding it died (%s) without letting go',
    async (how) => {
      const other = await lockOnThread(identityPath);
      expect(other.report).toEqual({ locked: true });
      await other.stop(how);
      // Before, the dead thread's lock named this process with its own record, taken for live: the
      // identity was refused to every node of this process until it exited.
      expect(identityHolder(identityPath)).toBeUndefined();
      lockIdentityFile(identityPath)();
    },
  );
});
