import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { createWhole } from './create-whole.js';
import { SECRET_FILE_MODE } from './key-file.js';

/**
 * A running node marks its identity file as taken with a lock file beside it, `<file>.lock`,
 * holding its process id. Two nodes with one identity share a node id: each takes the other's
 * beacons for its own, so they never link, and their neighbours keep one link for the pair. The
 * lock stops the second node on one machine; a copy on another machine is caught by discovery
 * (the 'identity:conflict' event).
 *
 * A lock whose process is gone (killed, crashed) is stale and taken over, and so is one naming this
 * process that this process did not take (in a container every run is process 1). A process id the
 * system has since given to another program makes a stale lock look held: the error says which file
 * to delete then.
 */
export class IdentityInUseError extends Error {
  override readonly name = 'IdentityInUseError';

  constructor(
    /** The identity file. */
    readonly path: string,
    /** The process that holds it. */
    readonly pid: number,
  ) {
    super(
      `identity file ${path} is in use by another meshcast node (process ${pid}): give each running ` +
        `node its own identity file. If no node runs with it, delete ${lockPathOf(path)}.`,
    );
  }
}

/**
 * The lock files this process holds, by absolute path. A lock naming this process's id is live only
 * if it is one of them: a run killed before this one may have had the same id (every run of a
 * container is process 1), and its lock must not stop this one forever.
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
  const attempt = takeLock(lockPathOf(identityPath));
  switch (attempt.outcome) {
    case 'taken':
      return attempt.release;
    case 'held':
      throw new IdentityInUseError(identityPath, attempt.holder);
    case 'unwritable':
      return () => {};
  }
}

/** The live process that holds `identityPath`'s lock, or undefined if none does. */
export function identityHolder(identityPath: string): number | undefined {
  const lock = readLock(lockPathOf(identityPath));
  return typeof lock === 'number' ? lock : undefined;
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
      created = createWhole(lockPath, `${process.pid}\n`, SECRET_FILE_MODE);
    } catch {
      return { outcome: 'unwritable' };
    }
    if (created) return { outcome: 'taken', release: holdUntilReleased(lockPath) };
    const lock = readLock(lockPath);
    if (typeof lock === 'number') return { outcome: 'held', holder: lock };
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
  locksHeldHere.add(heldPath);
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    // Only our own: a lock taken over as stale (we were thought gone) belongs to its new holder.
    if (readLock(heldPath) === process.pid) rmSync(heldPath, { force: true });
    locksHeldHere.delete(heldPath);
  };
}

/**
 * The live process that holds the lock file, 'absent' if there is none, or 'stale': naming no
 * process, or one that is gone, or this process without being one of the locks it holds.
 */
function readLock(lockPath: string): number | 'absent' | 'stale' {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'stale';
  }
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return 'stale';
  if (pid === process.pid) return locksHeldHere.has(resolve(lockPath)) ? pid : 'stale';
  return isAlive(pid) ? pid : 'stale';
}

/** Signal 0 checks that a process exists without touching it; EPERM means it exists as another user's. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
