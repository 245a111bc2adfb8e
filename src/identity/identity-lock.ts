import { readFileSync, realpathSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createWhole } from './create-whole.js';
import { SECRET_FILE_MODE } from './key-file.js';

/**
 * A running node marks its identity file as taken with a lock file beside it, `<file>.lock`, named
 * after the file itself (symbolic links followed), holding its process id, the process's start time
 * and the machine's boot id. Two nodes with one identity share a node id: each takes the other's
 * beacons for its own, so they never link, and their neighbours keep one link for the pair. The
 * lock stops the second node on one machine; a copy on another machine is caught by discovery
 * (the 'identity:conflict' event).
 *
 * A lock whose process is gone (killed, crashed, or the machine restarted) is stale and taken over,
 * and so is one naming a process id the system has since given to another program (its start time
 * differs), and one naming this process's id that an earlier process wrote (in a container every
 * run is process 1). Two containers that share the file on a volume cannot see each other's processes:
 * the second takes the first's lock, and discovery reports the conflict.
 */
export class IdentityInUseError extends Error {
  override readonly name = 'IdentityInUseError';

  constructor(
    /** The identity file. */
    readonly path: string,
    /** The process that holds it. */
    readonly pid: number,
    /** Its lock file: beside the file that `path` names, symbolic links followed. */
    lockPath = lockPathOf(path),
  ) {
    super(
      `identity file ${path} is in use by another meshcast node (process ${pid}): give each running ` +
        `node its own identity file. If no node runs with it, delete ${lockPath}.`,
    );
  }
}

/**
 * The lock files this copy of the module holds, by absolute path. A lock naming this process's id
 * alone is live only if it is one of them: a run killed before this one may have had the same id
 * (every run of a container is process 1), and its lock must not stop this one forever.
 */
const locksHeldHere = new Set<string>();

/** Gives the lock back; does nothing the second time, or if the lock is no longer ours. */
export type ReleaseIdentity = () => void;

export function lockPathOf(identityPath: string): string {
  return `${identityPath}.lock`;
}

/**
 * Takes `identityPath`'s lock for this process. Throws IdentityInUseError if a live process holds
 * it, this one included (two nodes of one process). Where no lock file can be written (a read-only
 * directory, say) the node runs unlocked: refusing to start would be worse than the risk guarded.
 */
export function lockIdentityFile(identityPath: string): ReleaseIdentity {
  const lockPath = lockPathOf(canonicalPath(identityPath));
  const attempt = takeLock(lockPath);
  switch (attempt.outcome) {
    case 'taken':
      return attempt.release;
    case 'held':
      throw new IdentityInUseError(identityPath, attempt.holder, lockPath);
    case 'unwritable':
      return () => {};
  }
}

/** The live process that holds `identityPath`'s lock, or undefined if none does (or none can tell). */
export function identityHolder(identityPath: string): number | undefined {
  const lock = readLock(lockPathOf(canonicalPath(identityPath)));
  return typeof lock === 'number' ? lock : undefined;
}

/**
 * The file `path` names, symbolic links followed, so that every name of one identity file (through
 * a linked directory, or a dotfile linked to a repository) has one lock.
 */
function canonicalPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

/** How long a start waits for another process to finish clearing a stale lock (it takes microseconds). */
const CLEARING_PATIENCE_MS = 1000;

const CLEARING_POLL_MS = 1;

/** What trying to take a lock file came to. */
type Attempt =
  | { readonly outcome: 'taken'; readonly release: ReleaseIdentity }
  | { readonly outcome: 'held'; readonly holder: number }
  /** No lock file can be written or removed there (a read-only directory, say). */
  | { readonly outcome: 'unwritable' };

/**
 * Takes the lock file `lockPath`, clearing it first if it is stale. A stale lock is removed only by
 * a process that holds `<lockPath>.break` and has read it stale again while holding that: two
 * starters that both read it stale would otherwise both remove it, the second removing the lock
 * the first had just taken. The break lock is a lock file too, cleared the same way if stale.
 */
function takeLock(lockPath: string): Attempt {
  const giveUpAt = Date.now() + CLEARING_PATIENCE_MS;
  for (;;) {
    let created: boolean;
    try {
      // Whole, never empty: a racer reading an empty lock would take it for stale and remove it.
      created = createWhole(lockPath, OWN_RECORD, SECRET_FILE_MODE);
    } catch {
      return { outcome: 'unwritable' };
    }
    if (created) return { outcome: 'taken', release: holdUntilReleased(lockPath) };
    const lock = readLock(lockPath);
    if (typeof lock === 'number') return { outcome: 'held', holder: lock };
    if (typeof lock === 'object') throw unreadableLockError(lockPath, lock.unreadable);
    // Gone already (let go, or cleared, since we tried), it needs no clearing: try again.
    const clearing = lock === 'absent' ? 'cleared' : clearStaleLock(lockPath);
    if (clearing === 'unwritable') return { outcome: 'unwritable' };
    if (Date.now() > giveUpAt) throw stuckLockError(lockPath, clearing);
    // Another process is clearing it: it will have taken the lock, or left it free, in a moment.
    if (clearing !== 'cleared') pause(CLEARING_POLL_MS);
  }
}

/**
 * Removes `lockPath` if it is still stale when read again under its break lock; 'cleared' also when
 * it is gone or taken by then. `clearer` when another process holds the break lock.
 */
function clearStaleLock(lockPath: string): 'cleared' | 'unwritable' | { readonly clearer: number } {
  const breakLock = takeLock(breakLockPathOf(lockPath));
  if (breakLock.outcome === 'unwritable') return 'unwritable';
  if (breakLock.outcome === 'held') return { clearer: breakLock.holder };
  try {
    // A stale lock cannot change while we hold the break lock: no live process holds it, and no other
    // may remove it. An absent one is left alone: another process may be creating it this moment.
    if (readLock(lockPath) === 'stale') rmSync(lockPath, { force: true });
    return 'cleared';
  } catch {
    return 'unwritable'; // say, another user's stale lock in a sticky directory such as /tmp
  } finally {
    breakLock.release();
  }
}

function unreadableLockError(lockPath: string, error: NodeJS.ErrnoException): Error {
  return new Error(
    `cannot read the lock ${lockPath} (${error.code ?? error.message}): another user's node may hold it. ` +
      'If no meshcast node runs with this identity file, delete the lock.',
  );
}

function breakLockPathOf(lockPath: string): string {
  return `${lockPath}.break`;
}

function stuckLockError(lockPath: string, clearing: 'cleared' | { readonly clearer: number }): Error {
  const why =
    clearing === 'cleared'
      ? 'it kept changing hands, or going stale again'
      : `process ${clearing.clearer} holds ${breakLockPathOf(lockPath)} to clear it. If no meshcast ` +
        `node is starting, delete ${breakLockPathOf(lockPath)}`;
  return new Error(`cannot take the lock ${lockPath} within ${CLEARING_PATIENCE_MS} ms: ${why}`);
}

/** Blocks this thread for `ms`: locking is synchronous, as createNode() and start-up are. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Records the lock just created as this process's, and returns what gives it back. */
function holdUntilReleased(lockPath: string): ReleaseIdentity {
  // Resolved now: a relative path would name another file once the working directory changes.
  const heldPath = resolve(lockPath);
  if (locksHeldHere.size === 0) process.on('exit', releaseLocksHeldHere);
  locksHeldHere.add(heldPath);
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    // Only our own: a lock taken over as stale (we were thought gone) belongs to its new holder.
    if (readText(heldPath) === OWN_RECORD) rmSync(heldPath, { force: true });
    locksHeldHere.delete(heldPath);
    if (locksHeldHere.size === 0) process.off('exit', releaseLocksHeldHere);
  };
}

/**
 * Removes the locks still held here when this thread exits without releasing them: a worker thread
 * that died of an uncaught exception or called process.exit(). Its nodes' sockets are gone with it,
 * but its locks name this process, which a node on another thread takes for live (see readLock):
 * left, they would refuse that identity to every later node of the process until it exits. (A
 * worker ended by terminate() runs no 'exit' listener: its locks stay.)
 */
function releaseLocksHeldHere(): void {
  for (const heldPath of locksHeldHere) {
    try {
      if (readText(heldPath) === OWN_RECORD) rmSync(heldPath, { force: true });
    } catch {
      // Exiting: a lock we cannot remove is left for the next start to judge.
    }
  }
  locksHeldHere.clear();
}

/**
 * The live process that holds the lock file, 'absent' if there is none, 'stale' (naming no process,
 * one that is gone, one started after the lock was written, a lock from before the machine last
 * started, or this process's id in a record that is neither one of the locks held here nor this
 * process's own, start time included), or the error that kept it unread: a lock we cannot read may
 * well be live, and is never taken for stale.
 */
function readLock(
  lockPath: string,
): number | 'absent' | 'stale' | { readonly unreadable: NodeJS.ErrnoException } {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch (error) {
    const failure = error as NodeJS.ErrnoException;
    return failure.code === 'ENOENT' ? 'absent' : { unreadable: failure };
  }
  // "pid start-time boot-id"; a lock written before either was recorded holds the pid alone.
  const [pidText = '', started, boot] = text.trim().split(' ');
  const pid = Number(pidText);
  if (!/^[0-9]+$/.test(pidText) || !Number.isSafeInteger(pid) || pid <= 0) return 'stale';
  if (boot !== undefined && BOOT_ID !== undefined && boot !== BOOT_ID) return 'stale';
  if (pid === process.pid) {
    if (locksHeldHere.has(resolve(lockPath))) return pid;
    // locksHeldHere is one copy of this module's: a node on another worker thread (or loaded from
    // another copy of meshcast) has its own. This process's own record, start time and boot id
    // included, cannot have been written by an earlier process of the same id, so such a node holds it.
    return OWN_RECORD_NAMES_THIS_PROCESS && text === OWN_RECORD ? pid : 'stale';
  }
  if (!isAlive(pid)) return 'stale';
  const startedNow = startTimeOf(pid);
  return started !== undefined && startedNow !== undefined && started !== startedNow ? 'stale' : pid;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Linux's id of this boot of the machine; undefined elsewhere. */
const BOOT_ID = readText('/proc/sys/kernel/random/boot_id')?.trim();

/**
 * When process `pid` started, in clock ticks since boot (field 22 of /proc/PID/stat), which tells a
 * process from a later one given the same id; undefined where /proc does not say.
 */
function startTimeOf(pid: number | 'self'): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces and parentheses: count from its closing one.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields?.[19];
}

/** What this process writes in a lock it takes: the pid alone where /proc does not say the rest. */
const OWN_START_TIME = startTimeOf('self');
/** Whether OWN_RECORD tells this process from an earlier one given its id (a pid alone does not). */
const OWN_RECORD_NAMES_THIS_PROCESS = OWN_START_TIME !== undefined && BOOT_ID !== undefined;
const OWN_RECORD = OWN_RECORD_NAMES_THIS_PROCESS
  ? `${process.pid} ${OWN_START_TIME} ${BOOT_ID}\n`
  : `${process.pid}\n`;

/** Signal 0 checks that a process exists without touching it; EPERM means it exists as another user's. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
