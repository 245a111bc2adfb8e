import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
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

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] as string;
}

function bootId(): string {
  return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}

describe('identity file lock', () => {
  it('is held by one node at a time, this process included, and free again once released', () => {
    const release = lockIdentityFile(identityPath);
    expect(readFileSync(lockPathOf(identityPath), 'utf8')).toBe(
      `${process.pid} ${startTime(process.pid)} ${bootId()}\n`,
    );
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
    // Signal 0 to process 0 would reach this process's group, which is alive.
    ['process 0, which no node can be', () => '0\n'],
    ['nothing', () => ''],
    // In a container every run is process 1, so the lock of a run killed with -9 names the next run.
    ['this process, which never took it', () => `${process.pid}\n`],
    // A restarted container whose process 2 is now a helper, not the node killed there: the id is
    // alive again, but the process started after the lock was written.
    ['a live process started after the lock was written', () => `${process.ppid} 1 ${bootId()}\n`],
    [
      'a live process, before the machine last started',
      () => `${process.ppid} ${startTime(process.ppid)} x\n`,
    ],
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
    // Through a linked directory: before, the lock went by that name, and the second node, finding
    // this process's id in a lock it had not taken, removed the first node's live lock as stale.
    symlinkSync(dir, join(dir, 'alias'));
    expect(() => lockIdentityFile(join(dir, 'alias', 'identity.key'))).toThrow(IdentityInUseError);
    expect(identityHolder(identityPath)).toBe(process.pid);
    release();
  });

  it('refuses a node whose identity file is a link to a file another process holds, naming the lock', () => {
    writeFileSync(identityPath, '');
    const link = join(dir, 'linked.key'); // say, ~/.config/meshcast/identity.key kept in a dotfiles repository
    symlinkSync(identityPath, link);
    writeFileSync(lockPathOf(identityPath), `${process.ppid} ${startTime(process.ppid)} ${bootId()}\n`);
    expect(identityHolder(link)).toBe(process.ppid);
    expect(() => lockIdentityFile(link)).toThrow(`delete ${lockPathOf(identityPath)}`);
    expect(existsSync(lockPathOf(link))).toBe(false);
  });

  it('holds a lock naming a live process with its start time', () => {
    writeFileSync(lockPathOf(identityPath), `${process.ppid} ${startTime(process.ppid)} ${bootId()}\n`);
    expect(identityHolder(identityPath)).toBe(process.ppid);
    expect(() => lockIdentityFile(identityPath)).toThrow(IdentityInUseError);
  });

  it("holds a lock naming another user's live process, which signal 0 may not reach (EPERM)", () => {
    const pid = deadPid();
    writeFileSync(lockPathOf(identityPath), `${pid}\n`);
    const kill = vi.spyOn(process, 'kill').mockImplementation((target) => {
      if (target !== pid) throw new Error(`unexpected signal to ${target}`);
      throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
    });
    try {
      expect(identityHolder(identityPath)).toBe(pid);
      expect(() => lockIdentityFile(identityPath)).toThrow(IdentityInUseError);
    } finally {
      kill.mockRestore();
    }
    expect(readFileSync(lockPathOf(identityPath), 'utf8')).toBe(`${pid}\n`);
  });

  it('ignores a late second release once this process has taken the lock again', () => {
    const first = lockIdentityFile(identityPath);
    first();
    const second = lockIdentityFile(identityPath);
    first(); // say, a stopped node's release run again by a shutdown hook
    expect(identityHolder(identityPath)).toBe(process.pid);
    expect(() => lockIdentityFile(identityPath)).toThrow(IdentityInUseError);
    second();
    expect(existsSync(lockPathOf(identityPath))).toBe(false);
  });

  it("never takes a lock it cannot read for stale: it may be another user's live one", () => {
    mkdirSync(lockPathOf(identityPath)); // EISDIR, as EACCES from a lock root took
    expect(identityHolder(identityPath)).toBeUndefined();
    expect(() => lockIdentityFile(identityPath)).toThrow(
      `cannot read the lock ${lockPathOf(identityPath)} (EISDIR): another user's node may hold it`,
    );
    expect(statSync(lockPathOf(identityPath)).isDirectory()).toBe(true);
  });

  it('leaves a lock that another process took over in the meantime', () => {
    const release = lockIdentityFile(identityPath);
    const other = `${process.ppid}\n`;
    writeFileSync(lockPathOf(identityPath), other);
    release();
    expect(readFileSync(lockPathOf(identityPath), 'utf8')).toBe(other);
  });
});
