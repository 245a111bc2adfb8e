import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { lowerPriorityOfNewThread, threadIds } from '../../src/node/thread-priority.js';

const linux = process.platform === 'linux';

/** Threads listed now that `before` did not list. */
function startedSince(before: ReadonlySet<string> | undefined): string[] {
  return [...(threadIds() ?? [])].filter((id) => !before?.has(id));
}

/** A worker that stays up until terminated. */
function idleWorker(): Worker {
  return new Worker('setInterval(() => {}, 60_000)', { eval: true });
}

/** Runs `check` with the thread list taken just before one idle worker started, then ends the worker. */
async function withOneNewWorker(check: (before: ReadonlySet<string> | undefined) => void): Promise<void> {
  const before = threadIds();
  const worker = idleWorker();
  try {
    check(before);
  } finally {
    await worker.terminate();
  }
}

describe.runIf(linux)('thread priority (Linux)', () => {
  it("lists this process's threads, the main thread among them", () => {
    expect(threadIds()?.has(String(process.pid))).toBe(true);
  });

  it('lowers the priority of the worker started since the list was taken, and of no other thread', async () => {
    await withOneNewWorker((before) => {
      expect(lowerPriorityOfNewThread(before, 13)).toBe(true);
      const started = startedSince(before);
      expect(started).toHaveLength(1);
      expect(getPriority(Number(started[0]))).toBe(13);
      expect(getPriority(process.pid)).toBe(0);
    });
  });

  it('changes nothing when no thread, or more than one, started since the list was taken', async () => {
    expect(lowerPriorityOfNewThread(threadIds(), 13)).toBe(false);
    expect(lowerPriorityOfNewThread(undefined, 13)).toBe(false);
    const before = threadIds();
    const workers = [idleWorker(), idleWorker()];
    try {
      expect(lowerPriorityOfNewThread(before, 13)).toBe(false);
      const started = startedSince(before);
      expect(started.map((id) => getPriority(Number(id)))).toEqual([0, 0]);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });

  it('never raises a priority: a thread already at a greater niceness keeps it', async () => {
    // As a process started at niceness 15 (`nice -n 15`) gives its threads; with the privilege to
    // raise priorities (root), a worker set to 10 would run ahead of its event loop.
    await withOneNewWorker((before) => {
      expect(lowerPriorityOfNewThread(before, 15)).toBe(true);
      expect(lowerPriorityOfNewThread(before, 10)).toBe(false);
      const started = startedSince(before);
      expect(started.map((id) => getPriority(Number(id)))).toEqual([15]);
    });
  });

  it('changes nothing, and says so, where the priority cannot be set', async () => {
    await withOneNewWorker((before) => {
      // Beyond the lowest priority (19): os.setPriority throws, as it does where the OS refuses.
      expect(lowerPriorityOfNewThread(before, 20)).toBe(false);
      const started = startedSince(before);
      expect(started.map((id) => getPriority(Number(id)))).toEqual([getPriority(process.pid)]);
    });
  });
});
