import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  IdentityInUseError,
  identityHolder,
  lockIdentityFile,
  lockPathOf,
} from '../../src/identity/identity-lock.js';

let dir: string;
let identityPath: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshcast-lock-'));
  identityPath = join(dir, 'identity.key');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The id of a process that has exited: nothing runs under it (until the system reuses it). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('identity file lock', () => {
  it('is held by one node at a time, this process included, and free again once released', () => {
    const release = lockIdentityFile(identityPath);
    expect(readFileSync(lockPathOf(identityPath), 'utf8')).toBe(`${process.pid}\n`);
    expect(statSync(lockPathOf(identityPath)).mode & 0o777).toBe(0o600);
    expect(identityHolder(identityPath)).toBe(process.pid);

    let refusal: unknown;
    try {
      lockIdentityFile(identityPath);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(IdentityInUseError);
    expect(refusal).toMatchObject({ path: identityPath, pid: process.pid });
    expect((refusal as Error).message).toContain(`delete ${lockPathOf(identityPath)}`);

    release();
    expect(existsSync(lockPathOf(identityPath))).toBe(false);
    expect(identityHolder(identityPath)).toBeUndefined();
    release(); // a second release changes nothing
    lockIdentityFile(identityPath)();
  });

  it.each([
    ['a process that has exited', () => `${deadPid()}\n`],
    ['no process id at all', () => 'not a pid\n'],
    ['nothing', () => ''],
    // In a container every run is process 1, so the lock of a run killed with -9 names the next run.
    ['this process, which never took it', () => `${process.pid}\n`],
  ])('takes over a stale lock that names %s', (_label, content) => {
    writeFileSync(lockPathOf(identityPath), content());
    expect(identityHolder(identityPath)).toBeUndefined();
    const release = lockIdentityFile(identityPath);
    expect(identityHolder(identityPath)).toBe(process.pid);
    release();
    expect(existsSync(lockPathOf(identityPath))).toBe(false);
  });

  it('clears a stale lock even when a process that was clearing it died, leaving only its own lock', () => {
    const lockPath = lockPathOf(identityPath);
    writeFileSync(lockPath, `${deadPid()}\n`);
    writeFileSync(`${lockPath}.break`, `${deadPid()}\n`);
    const release = lockIdentityFile(identityPath);
    expect(readdirSync(dir)).toEqual(['identity.key.lock']);
    expect(identityHolder(identityPath)).toBe(process.pid);
    release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('gives up on a stale lock that a live process keeps clearing, and says which file to delete', () => {
    const lockPath = lockPathOf(identityPath);
    writeFileSync(lockPath, `${deadPid()}\n`);
    writeFileSync(`${lockPath}.break`, `${process.ppid}\n`); // alive, and not this process
    expect(() => lockIdentityFile(identityPath)).toThrow(
      `process ${process.ppid} holds ${lockPath}.break to clear it. If no meshcast node is starting, delete ${lockPath}.break`,
    );
    rmSync(`${lockPath}.break`);
    lockIdentityFile(identityPath)();
  });

  it('refuses a second node of this process that names the same file by another path', () => {
    const release = lockIdentityFile(identityPath);
    expect(() => lockIdentityFile(relative(process.cwd(), identityPath))).toThrow(IdentityInUseError);
    release();
  });

  it('leaves a lock that another process took over in the meantime', () => {
    const release = lockIdentityFile(identityPath);
    const other = `${process.ppid}\n`;
    writeFileSync(lockPathOf(identityPath), other);
    release();
    expect(readFileSync(lockPathOf(identityPath), 'utf8')).toBe(other);
  });
});
