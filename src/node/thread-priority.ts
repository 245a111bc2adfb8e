import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * The ids of this process's threads, where the OS lists them (Linux: /proc/self/task), else
 * undefined. Taken just before a Worker is constructed, it tells which thread is the worker's:
 * Node names no worker's OS thread, and its constructor starts that thread before it returns.
 */
export function threadIds(): ReadonlySet<string> | undefined {
  try {
    return new Set(readdirSync('/proc/self/task'));
  } catch {
    return undefined;
  }
}

/**
 * Gives the one thread started since `before` was taken the scheduling niceness `niceness` (Linux
 * applies setpriority to a single thread; lowering a priority needs no privilege). Returns whether
 * it did: without a list, with not exactly one new thread (another part of the program started one
 * meanwhile), where the thread already has that niceness or a greater one, or where the OS refuses,
 * nothing changes. Never a raise: in a process started at a greater niceness (`nice -n 15`), with
 * the privilege to raise priorities (root), the thread would otherwise run ahead of its creator.
 */
export function lowerPriorityOfNewThread(before: ReadonlySet<string> | undefined, niceness: number): boolean {
  const now = before === undefined ? undefined : threadIds();
  if (before === undefined || now === undefined) return false;
  const started = [...now].filter((id) => !before.has(id));
  if (started.length !== 1) return false;
  const id = Number(started[0]);
  try {
    if (getPriority(id) >= niceness) return false;
    setPriority(id, niceness);
    return true;
  } catch {
    return false;
  }
}
