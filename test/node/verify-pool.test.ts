import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { getPriority } from 'node:os';
import type { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import sodium from 'sodium-native';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateIdentity } from '../../src/identity/identity.js';
import { GossipSigner, minSeqNow, SIGNING_SCRATCH_MAX_BYTES } from '../../src/node/gossip-signer.js';
import { threadIds } from '../../src/node/thread-priority.js';
import {
  acquireVerifyPool,
  INLINE_TURN_MAX_CHECKS,
  releaseVerifyPool,
  VERIFY_QUEUE_LIMIT,
  VERIFY_THREAD_NICENESS,
  VERIFY_THREADS_MIN_IDLE_CORES,
  type VerifyCallback,
  VerifyPool,
  WORKER_EXIT_DEADLINE_MS,
} from '../../src/node/verify-pool.js';
import { VERIFY_BATCH_MAX_BYTES, VERIFY_RECORD_HEADER_BYTES } from '../../src/node/verify-worker-source.js';

const publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES);
const secretKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES);
sodium.crypto_sign_seed_keypair(publicKey, secretKey, randomBytes(sodium.crypto_sign_SEEDBYTES));

/**
 * A batch deadline no loaded host misses, for the tests of verdicts rather than of the deadline:
 * beside three busy threads on its core, a worker took over VERIFY_BATCH_DEADLINE_MS over a batch,
 * and a test that expected its verdicts got undefined.
 */
const NO_BATCH_DEADLINE = { batchDeadlineMs: 60_000 };

/** Workers start at once and take every check, however few: what most tests here look at. */
const EVERY_CHECK_TO_A_WORKER = { startRate: 0, inlineTurnMax: 0, ...NO_BATCH_DEADLINE };

function signed(message: Uint8Array): Buffer {
  const signature = Buffer.alloc(sodium.crypto_sign_BYTES);
  sodium.crypto_sign_detached(signature, message, secretKey);
  return signature;
}

/** Resolves with the pool's verdicts on `checks`, all submitted within one tick. */
function verdicts(pool: VerifyPool, checks: readonly { signature: Uint8Array; message: Uint8Array }[]) {
  return Promise.all(
    checks.map(
      ({ signature, message }) =>
        new Promise<boolean | undefined>((resolve) => {
          expect(pool.submit(signature, publicKey, message, resolve)).toBe(true);
        }),
    ),
  );
}

/** Submits `checks` checks to a pool with no worker ready, each refused to be done inline. */
function submitRefused(pool: VerifyPool, checks: number): void {
  const message = Buffer.from('turns');
  const signature = signed(message);
  for (let i = 0; i < checks; i++) expect(pool.submit(signature, publicKey, message, () => {})).toBe(false);
}

/** submitRefused() in one turn of the event loop, resolving once the turn has ended. */
async function refusedTurn(pool: VerifyPool, checks: number): Promise<void> {
  submitRefused(pool, checks);
  await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A pool of one worker that starts at `startRate` checks a second of busy turns, on a host with a
 * core idle, and the setter of the milliseconds its clock reads (0 at first).
 */
function poolStartingAt(startRate: number): { pool: VerifyPool; setNow: (ms: number) => void } {
  let now = 0;
  const pool = new VerifyPool(1, { startRate, idleCores: () => 1, clock: () => now });
  return {
    pool,
    setNow: (ms) => {
      now = ms;
    },
  };
}

/** The promise's value, or 'unanswered' if it has none within five seconds. */
async function withTimeout<T>(promise: Promise<T>): Promise<T | 'unanswered'> {
  let deadline: NodeJS.Timeout | undefined;
  const unanswered = new Promise<'unanswered'>((resolve) => {
    deadline = setTimeout(() => resolve('unanswered'), 5_000);
  });
  try {
    return await Promise.race([promise, unanswered]);
  } finally {
    clearTimeout(deadline);
  }
}

/**
 * Submits two queues' worth of checks and one more, signed over one message: the first queue in a
 * turn of its own, whose end hands it to a worker, the rest in one long turn that the last check
 * holds open (a synchronous wait with a deadline) until the pool takes it, which only a worker
 * taking the full queue in the middle of the turn allows. `forged(i)` says which checks carry a
 * bad signature; `inTurn` runs before the turn ends. Resolves with each check's answers once all
 * are in ('unanswered' if some are not within five seconds).
 */
async function checksInALongTurn(
  pool: VerifyPool,
  forged: (i: number) => boolean,
  inTurn: () => void = () => {},
): Promise<(boolean | undefined)[][] | 'unanswered'> {
  const message = Buffer.from('a long turn');
  const genuine = signed(message);
  const bad = Buffer.from(genuine);
  bad[0] = (bad[0] as number) ^ 1;
  const checks = 2 * VERIFY_QUEUE_LIMIT + 1;
  const answers: (boolean | undefined)[][] = Array.from({ length: checks }, () => []);
  let answered = 0;
  let allAnswered: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allAnswered = resolve;
  });
  const submit = (i: number) =>
    pool.submit(forged(i) ? bad : genuine, publicKey, message, (valid) => {
      answers[i]?.push(valid);
      if (++answered === checks) allAnswered();
    });
  for (let i = 0; i < VERIFY_QUEUE_LIMIT; i++) expect(submit(i)).toBe(true);
  await new Promise((resolve) => setImmediate(resolve)); // the turn's end hands the batch over
  // One long turn from here on: the event loop cannot read a worker's message in it.
  for (let i = VERIFY_QUEUE_LIMIT; i < 2 * VERIFY_QUEUE_LIMIT; i++) expect(submit(i)).toBe(true);
  const deadline = Date.now() + 5_000;
  let taken = submit(checks - 1);
  while (!taken && Date.now() < deadline) taken = submit(checks - 1);
  expect(taken).toBe(true);
  // Never inside submit(), whose caller is in the middle of another message: once it returns.
  expect(answered).toBe(0);
  inTurn();
  const outcome = await withTimeout(done);
  return outcome === 'unanswered' ? outcome : answers;
}

/** The first worker's count of batches finished, as the pool reads it (its private shared word). */
function finishedCount(pool: VerifyPool): Int32Array {
  return (pool as unknown as { checkers: { finished: Int32Array }[] }).checkers[0]?.finished as Int32Array;
}

/**
 * Makes the pool's workers seem to be still checking their batches, whether or not they have
 * finished, until the function returned is called: a deadline then finds each batch unfinished.
 * Call it before the next await, so that the worker's message finds the count it expects.
 */
function seemUnfinished(pool: VerifyPool): () => void {
  const checkers = (pool as unknown as { checkers: { sent: number }[] }).checkers.slice();
  for (const checker of checkers) checker.sent = (checker.sent + 1) | 0;
  return () => {
    for (const checker of checkers) checker.sent = (checker.sent - 1) | 0;
  };
}

/** What checksInALongTurn() resolves with when every check gets libsodium's verdict once. */
function eachAnsweredOnce(forged: (i: number) => boolean): boolean[][] {
  return Array.from({ length: 2 * VERIFY_QUEUE_LIMIT + 1 }, (_, i) => [!forged(i)]);
}

describe('VerifyPool', () => {
  const pool = new VerifyPool(1, EVERY_CHECK_TO_A_WORKER);
  beforeAll(() => pool.ready());
  afterAll(() => pool.close());

  it("gives libsodium's verdict on every check, in order, batch after batch", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            message: fc.uint8Array({ minLength: 0, maxLength: 3_000 }),
            tamper: fc.constantFrom('none', 'signature', 'message'),
          }),
          { minLength: 1, maxLength: VERIFY_QUEUE_LIMIT },
        ),
        async (cases) => {
          const checks = cases.map(({ message, tamper }) => {
            const signature = signed(message);
            if (tamper === 'signature') signature[7] = (signature[7] as number) ^ 1;
            const sent = tamper === 'message' ? Uint8Array.from([...message, 1]) : message;
            return { signature, message: sent };
          });
          const expected = cases.map(({ tamper }) => tamper === 'none');
          expect(await verdicts(pool, checks)).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('copies what it is given: the caller may reuse its buffers at once', async () => {
    const message = Buffer.from('first');
    const signature = signed(message);
    const answer = new Promise<boolean | undefined>((resolve) => {
      pool.submit(signature, publicKey, message, resolve);
    });
    message.write('other');
    signature.fill(0);
    expect(await answer).toBe(true);
  });

  it('refuses a check beyond its queue limit or its batch size, so that the caller checks inline', async () => {
    const busy = new VerifyPool(1, EVERY_CHECK_TO_A_WORKER);
    expect(await busy.ready()).toBe(true);
    // Its worker seems to check a batch it never finishes, so the queue is all there is: an idle
    // worker would take a full queue at once (see below).
    type Inside = { sent: number; inFlight: VerifyCallback[] | undefined };
    const worker = (busy as unknown as { checkers: Inside[] }).checkers[0] as Inside;
    worker.sent++;
    worker.inFlight = [];
    const message = Buffer.from('queued');
    const signature = signed(message);
    for (let i = 0; i < VERIFY_QUEUE_LIMIT; i++) {
      expect(busy.submit(signature, publicKey, message, () => {})).toBe(true);
    }
    expect(busy.submit(signature, publicKey, message, () => {})).toBe(false);
    busy.close();
    const big = new VerifyPool(1, EVERY_CHECK_TO_A_WORKER);
    await big.ready();
    expect(big.submit(signature, publicKey, Buffer.alloc(VERIFY_BATCH_MAX_BYTES), () => {})).toBe(false);
    big.close();
  });

  it('takes a check whose record fills a batch exactly, and gives its verdict', async () => {
    const largest = Buffer.alloc(VERIFY_BATCH_MAX_BYTES - VERIFY_RECORD_HEADER_BYTES, 3);
    expect(await verdicts(pool, [{ signature: signed(largest), message: largest }])).toEqual([true]);
  });

  it('starts its workers once checks come at the start rate, and takes checks once one is ready', async () => {
    let now = 0;
    const lazy = new VerifyPool(1, { startRate: 3, inlineTurnMax: 0, idleCores: () => 1, clock: () => now });
    const message = Buffer.from('early');
    const signature = signed(message);
    expect(lazy.submit(signature, publicKey, message, () => {})).toBe(false);
    expect(lazy.submit(signature, publicKey, message, () => {})).toBe(false);
    expect(lazy.submit(signature, publicKey, message, () => {})).toBe(false);
    // At the rate, but too soon to tell whether the host has an idle core.
    expect(lazy.threads).toBe(0);
    now = 150;
    // This one starts the worker, but is refused until it has loaded libsodium.
    expect(lazy.submit(signature, publicKey, message, () => {})).toBe(false);
    expect(lazy.threads).toBe(1);
    expect(await lazy.ready()).toBe(true);
    const answer = new Promise<boolean | undefined>((resolve) => {
      expect(lazy.submit(signature, publicKey, message, resolve)).toBe(true);
    });
    expect(await answer).toBe(true);
    lazy.close();
  });

  it('neither starts nor asks the host while it wants no worker, whatever the checks', () => {
    let now = 0;
    let asked = 0;
    const idleCores = () => {
      asked++;
      return 1;
    };
    const pool = new VerifyPool(0, { startRate: 1, idleCores, clock: () => now });
    try {
      const message = Buffer.from('none wanted');
      for (now = 0; now <= 300; now += 150) {
        expect(pool.submit(signed(message), publicKey, message, () => {})).toBe(false);
      }
      expect(asked).toBe(0);
      // Asked for one later, it waits for the checks to come at the start rate, as any pool does.
      pool.grow(1);
      expect(pool.threads).toBe(0);
    } finally {
      pool.close();
    }
  });

  it('does not start on a host without an idle core, and asks again 100 ms after the refusal', () => {
    let now = 0;
    // The first answer is the window's baseline, not a measurement.
    const idle = [undefined, 0.2, 0.9];
    const asked: number[] = [];
    const busyHost = new VerifyPool(1, {
      startRate: 2,
      inlineTurnMax: 0,
      idleCores: () => {
        asked.push(now);
        return idle.shift();
      },
      clock: () => now,
    });
    const message = Buffer.from('busy');
    const signature = signed(message);
    const submitAt = (time: number): void => {
      now = time;
      expect(busyHost.submit(signature, publicKey, message, () => {})).toBe(false);
    };
    try {
      submitAt(0);
      submitAt(10); // at the rate, but too soon to measure
      submitAt(200);
      submitAt(250);
      // A fifth of a core was idle: no worker, and no second question within 100 ms of the first.
      expect(busyHost.threads).toBe(0);
      expect(asked).toEqual([0, 200]);
      submitAt(300);
      // Measured from the refusal, most of a core was idle: the worker starts in the same window.
      expect(busyHost.threads).toBe(1);
      expect(asked).toEqual([0, 200, 300]);
    } finally {
      busyHost.close();
    }
  });

  it("hands a quiet turn's few checks back to be done inline, and a busier turn's to a worker", async () => {
    const pool = new VerifyPool(1, { startRate: 0, ...NO_BATCH_DEADLINE });
    expect(await pool.ready()).toBe(true);
    const message = Buffer.from('turn');
    const check = { signature: signed(message), message };
    const few = await verdicts(pool, Array(INLINE_TURN_MAX_CHECKS).fill(check));
    expect(few).toEqual(Array(INLINE_TURN_MAX_CHECKS).fill(undefined));
    const more = await verdicts(pool, Array(INLINE_TURN_MAX_CHECKS + 1).fill(check));
    expect(more).toEqual(Array(INLINE_TURN_MAX_CHECKS + 1).fill(true));
    pool.close();
  });

  it("sends even a quiet turn's checks to a worker while one is checking, to wait for it", async () => {
    const pool = new VerifyPool(1, { startRate: 0, ...NO_BATCH_DEADLINE });
    try {
      expect(await pool.ready()).toBe(true);
      // A full batch keeps the worker busy for a few milliseconds, past the next turn's end.
      const big = Buffer.alloc(3_900, 7);
      const check = { signature: signed(big), message: big };
      const batch = verdicts(pool, Array(VERIFY_QUEUE_LIMIT).fill(check));
      await new Promise((resolve) => setImmediate(resolve)); // the turn's end hands the batch over
      const message = Buffer.from('quiet');
      expect(await verdicts(pool, [{ signature: signed(message), message }])).toEqual([true]);
      expect(await batch).toEqual(Array(VERIFY_QUEUE_LIMIT).fill(true));
    } finally {
      pool.close();
    }
  });

  it('hands a full queue to a worker that sits idle, without waiting for the end of the turn', async () => {
    const pool = new VerifyPool(1, EVERY_CHECK_TO_A_WORKER);
    try {
      expect(await pool.ready()).toBe(true);
      const message = Buffer.from('an idle worker');
      const check = { signature: signed(message), message };
      // All in one turn, with the worker idle from its start: the queue fills, then one more comes.
      const answers = verdicts(pool, Array(VERIFY_QUEUE_LIMIT + 1).fill(check));
      expect(await withTimeout(answers)).toEqual(Array(VERIFY_QUEUE_LIMIT + 1).fill(true));
    } finally {
      pool.close();
    }
  });

  it('hands a full queue to a worker that finished during the same long turn, answering each check once', async () => {
    const pool = new VerifyPool(1, EVERY_CHECK_TO_A_WORKER);
    try {
      expect(await pool.ready()).toBe(true);
      // Forgeries at other places in each batch: a batch read from the wrong moment shows.
      const forged = (i: number) => (i < VERIFY_QUEUE_LIMIT ? i % 5 === 3 : i % 7 === 2);
      expect(await checksInALongTurn(pool, forged)).toEqual(eachAnsweredOnce(forged));
    } finally {
      pool.close();
    }
  });

  it('keeps collecting its batches once the count of batches finished passes 2^31 and wraps', async () => {
    const pool = new VerifyPool(1, EVERY_CHECK_TO_A_WORKER);
    try {
      expect(await pool.ready()).toBe(true);
      const checker = (pool as unknown as { checkers: { sent: number; finished: Int32Array }[] })
        .checkers[0] as { sent: number; finished: Int32Array };
      // As after 2^31 - 1 batches: at the next, the worker's 32-bit count (Atomics.add) wraps.
      checker.sent = 2 ** 31 - 1;
      Atomics.store(checker.finished, 0, 2 ** 31 - 1);
      const message = Buffer.from('wraps');
      const check = { signature: signed(message), message };
      for (let batch = 0; batch < 2; batch++) {
        expect(await withTimeout(verdicts(pool, [check]))).toEqual([true]);
      }
    } finally {
      pool.close();
    }
  });

  it("answers a batch collected mid-turn with its own verdicts, though the worker writes the next batch's over them first", async () => {
    const pool = new VerifyPool(1, EVERY_CHECK_TO_A_WORKER);
    try {
      expect(await pool.ready()).toBe(true);
      const finished = finishedCount(pool);
      // The first batch all genuine, the second all forged: verdicts read from the wrong batch show.
      const forged = (i: number) => i >= VERIFY_QUEUE_LIMIT && i < 2 * VERIFY_QUEUE_LIMIT;
      const answers = await checksInALongTurn(pool, forged, () => {
        // Still in the turn, the worker checks the second batch, its verdicts where the first one's were.
        const deadline = Date.now() + 5_000;
        let count = Atomics.load(finished, 0);
        while (count < 2 && Date.now() < deadline) count = Atomics.load(finished, 0);
        expect(count).toBe(2);
      });
      expect(answers).toEqual(eachAnsweredOnce(forged));
    } finally {
      pool.close();
    }
  });

  it('leaves a finished batch to its message while the queue has room: submit() collects only once it is full', async () => {
    const pool = new VerifyPool(1, EVERY_CHECK_TO_A_WORKER);
    try {
      expect(await pool.ready()).toBe(true);
      const finished = finishedCount(pool);
      const message = Buffer.from('room');
      const check = { signature: signed(message), message };
      const first: (boolean | undefined)[] = [];
      expect(pool.submit(check.signature, publicKey, message, (valid) => first.push(valid))).toBe(true);
      await new Promise((resolve) => setImmediate(resolve)); // the turn's end hands the batch over
      // One long turn from here on: the worker finishes, its message waits for the turn's end.
      const deadline = Date.now() + 5_000;
      let count = Atomics.load(finished, 0);
      while (count < 1 && Date.now() < deadline) count = Atomics.load(finished, 0);
      expect(count).toBe(1);
      const second = verdicts(pool, [check]);
      await Promise.resolve(); // microtasks run, the turn goes on
      expect(first).toEqual([]);
      expect(await withTimeout(second)).toEqual([true]);
      expect(first).toEqual([true]);
    } finally {
      pool.close();
    }
  });

  it('collects the finished batch of any worker on a full queue, past one still checking', async () => {
    const pool = new VerifyPool(2, EVERY_CHECK_TO_A_WORKER);
    try {
      type Inside = { worker: Worker; ready: boolean; sent: number; inFlight: VerifyCallback[] | undefined };
      const checkers = (pool as unknown as { checkers: Inside[] }).checkers;
      for (const checker of checkers) if (!checker.ready) await once(checker.worker, 'message');
      expect(checkers.map((checker) => checker.ready)).toEqual([true, true]);
      // The first worker seems to check a batch it never finishes (a slow one): the second gets them.
      const slow = checkers[0] as Inside;
      slow.sent++;
      slow.inFlight = [];
      const genuine = () => false;
      expect(await checksInALongTurn(pool, genuine)).toEqual(eachAnsweredOnce(genuine));
    } finally {
      pool.close();
    }
  });

  it('counts toward its start only the checks of turns busier than inlineTurnMax, each such turn whole', async () => {
    const { pool, setNow } = poolStartingAt(INLINE_TURN_MAX_CHECKS + 1);
    const turnOf = (checks: number) => refusedTurn(pool, checks);
    try {
      // Quiet turns, however many: the event loop checks them itself, so no worker is worth its start.
      for (let turn = 0; turn < 5; turn++) await turnOf(INLINE_TURN_MAX_CHECKS);
      setNow(150);
      await turnOf(INLINE_TURN_MAX_CHECKS);
      expect(pool.threads).toBe(0);
      // One busy turn reaches the rate with its earlier checks, and the idle cores were measured
      // since the first quiet check, long enough ago: the worker starts at once.
      await turnOf(INLINE_TURN_MAX_CHECKS + 1);
      expect(pool.threads).toBe(1);
    } finally {
      pool.close();
    }
  });

  it('counts nothing of a turn of exactly inlineTurnMax, and each check of a busier turn once', async () => {
    // Above two busy turns' worth of counting each check once, below it counting them twice.
    const startRate = 2 * (INLINE_TURN_MAX_CHECKS + 1) + 1;
    const { pool, setNow } = poolStartingAt(startRate);
    try {
      await refusedTurn(pool, 1); // opens the window: the idle cores are measured from here
      setNow(150);
      // As many turns as the rate, each one check short of busy.
      for (let turn = 0; turn < startRate; turn++) await refusedTurn(pool, INLINE_TURN_MAX_CHECKS);
      expect(pool.threads).toBe(0);
      // inlineTurnMax + 2 checks: the one that makes the turn busy brings the earlier ones, the next
      // counts once; startRate - 1 counted twice would reach the rate.
      await refusedTurn(pool, INLINE_TURN_MAX_CHECKS + 2);
      expect(pool.threads).toBe(0);
      await refusedTurn(pool, INLINE_TURN_MAX_CHECKS + 2);
      expect(pool.threads).toBe(1);
    } finally {
      pool.close();
    }
  });

  it("counts a turn's checks together across the turn's callbacks, as those of one poll's sockets", async () => {
    const { pool, setNow } = poolStartingAt(INLINE_TURN_MAX_CHECKS + 1);
    try {
      await refusedTurn(pool, 1); // opens the window: the idle cores are measured from here
      setNow(150);
      // Two callbacks of one turn (immediates queued together), neither busy alone: a busy turn.
      const first = Math.floor((INLINE_TURN_MAX_CHECKS + 1) / 2);
      await new Promise<void>((resolve) => {
        setImmediate(() => submitRefused(pool, first));
        setImmediate(() => {
          submitRefused(pool, INLINE_TURN_MAX_CHECKS + 1 - first);
          resolve();
        });
      });
      expect(pool.threads).toBe(1);
    } finally {
      pool.close();
    }
  });

  it('starts on a host with exactly VERIFY_THREADS_MIN_IDLE_CORES idle', () => {
    let now = 0;
    let asked = 0;
    // The first question is each window's baseline; the second, the measurement.
    const idleCores = () => (asked++ === 0 ? undefined : VERIFY_THREADS_MIN_IDLE_CORES);
    const pool = new VerifyPool(1, { startRate: 1, inlineTurnMax: 0, idleCores, clock: () => now });
    try {
      const message = Buffer.from('edge');
      expect(pool.submit(signed(message), publicKey, message, () => {})).toBe(false);
      now = 150;
      expect(pool.submit(signed(message), publicKey, message, () => {})).toBe(false);
      expect(pool.threads).toBe(1);
    } finally {
      pool.close();
    }
  });

  it.runIf(process.platform === 'linux')(
    'runs its workers at VERIFY_THREAD_NICENESS, the event loop at its own priority',
    async () => {
      const niced = (): string[] =>
        [...(threadIds() ?? [])].filter((id) => {
          try {
            return getPriority(Number(id)) === VERIFY_THREAD_NICENESS;
          } catch {
            return false; // the thread ended since it was listed
          }
        });
      const before = niced();
      const two = new VerifyPool(2, EVERY_CHECK_TO_A_WORKER);
      try {
        expect(await two.ready()).toBe(true);
        expect(niced().filter((id) => !before.includes(id))).toHaveLength(2);
        expect(getPriority(process.pid)).toBe(0);
      } finally {
        two.close();
      }
    },
  );

  it('without workers refuses every check; closed, it hands queued checks back undecided', async () => {
    const none = new VerifyPool(0, EVERY_CHECK_TO_A_WORKER);
    expect(await none.ready()).toBe(false);
    expect(none.submit(Buffer.alloc(64), publicKey, Buffer.alloc(1), () => {})).toBe(false);
    const closing = new VerifyPool(1, EVERY_CHECK_TO_A_WORKER);
    await closing.ready();
    const message = Buffer.from('late');
    const answer = new Promise<boolean | undefined>((resolve) => {
      closing.submit(signed(message), publicKey, message, resolve);
    });
    closing.close();
    expect(await answer).toBeUndefined();
    expect(closing.submit(signed(message), publicKey, message, () => {})).toBe(false);
  });

  it('says it is not ready when its workers die while loading, and starts again only as many as asked for', async () => {
    const pool = new VerifyPool(2, EVERY_CHECK_TO_A_WORKER);
    try {
      const ready = pool.ready();
      const workers = (pool as unknown as { checkers: { worker: Worker }[] }).checkers.map((c) => c.worker);
      expect(workers).toHaveLength(2);
      const exited = workers.map((worker) => once(worker, 'exit'));
      for (const worker of workers) void worker.terminate();
      await Promise.all(exited);
      expect(await withTimeout(ready)).toBe(false);
      expect(pool.threads).toBe(0);
      pool.grow(1); // another node of the process asks for one: the two that died are not restarted
      expect(pool.threads).toBe(1);
    } finally {
      pool.close();
    }
  });

  it('hands a waiting check back undecided when its only worker dies', async () => {
    const pool = new VerifyPool(1, EVERY_CHECK_TO_A_WORKER);
    try {
      expect(await pool.ready()).toBe(true);
      // A full batch keeps the worker busy; one more check then waits for it.
      const big = Buffer.alloc(3_900, 7);
      const batch = verdicts(pool, Array(VERIFY_QUEUE_LIMIT).fill({ signature: signed(big), message: big }));
      await new Promise((resolve) => setImmediate(resolve)); // the turn's end hands the batch over
      const worker = (pool as unknown as { checkers: { worker: Worker }[] }).checkers[0]?.worker as Worker;
      const message = Buffer.from('waiting');
      const waiting = verdicts(pool, [{ signature: signed(message), message }]);
      void worker.terminate();
      await batch;
      expect(await withTimeout(waiting)).toEqual([undefined]);
    } finally {
      pool.close();
    }
  });

  it("re-arms its one timer for a batch not yet due, hands the batch back once the pool's clock reaches the deadline, and leaves no timer after close", async () => {
    let now = 1_000;
    const pool = new VerifyPool(1, { ...EVERY_CHECK_TO_A_WORKER, batchDeadlineMs: 50, clock: () => now });
    const timer = () => (pool as unknown as { deadlineTimer: NodeJS.Timeout | undefined }).deadlineTimer;
    try {
      expect(await pool.ready()).toBe(true);
      // The pool's timer runs only when the test advances it: the worker's answer, a message, comes
      // in a later turn than everything below up to the next await.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const answers: (boolean | undefined)[] = [];
      const message = Buffer.from('deadline');
      expect(pool.submit(signed(message), publicKey, message, (valid) => answers.push(valid))).toBe(true);
      await new Promise((resolve) => setImmediate(resolve)); // the turn's end hands the batch over
      // The worker may have finished already (see the next test): here it has not, at the deadline.
      let finishes = seemUnfinished(pool);
      expect(vi.getTimerCount()).toBe(1);
      expect(timer()?.hasRef()).toBe(false); // it never keeps the process alive
      now = 1_040;
      vi.advanceTimersByTime(50);
      expect(answers).toEqual([]); // 10 ms short of the deadline: the timer comes again for it
      expect(vi.getTimerCount()).toBe(1);
      now = 1_050;
      vi.advanceTimersByTime(9);
      expect(answers).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(answers).toEqual([undefined]); // the deadline itself: back to be checked inline
      expect(vi.getTimerCount()).toBe(0);
      finishes();
      expect(await pool.ready()).toBe(true); // the worker answers, late
      expect(answers).toEqual([undefined]);
      // Two batches one after another, the second sent while the first one's timer is armed: still
      // one timer, and the second batch, late in its turn, goes back too.
      const second: (boolean | undefined)[] = [];
      const answered = new Promise<void>((resolve) => {
        expect(
          pool.submit(signed(message), publicKey, message, (valid) => resolve(void second.push(valid))),
        ).toBe(true);
      });
      await answered;
      expect(second).toEqual([true]);
      expect(vi.getTimerCount()).toBe(1);
      now = 1_060;
      expect(pool.submit(signed(message), publicKey, message, (valid) => second.push(valid))).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      finishes = seemUnfinished(pool);
      expect(vi.getTimerCount()).toBe(1);
      now = 1_110;
      vi.advanceTimersByTime(50);
      expect(second).toEqual([true, undefined]);
      finishes();
      // A batch out at close: its timer goes with the workers.
      expect(await pool.ready()).toBe(true);
      expect(pool.submit(signed(message), publicKey, message, (valid) => second.push(valid))).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(vi.getTimerCount()).toBe(1);
      const closing = pool.close();
      expect(timer()).toBeUndefined(); // the batch's deadline goes at once
      await closing; // and the wait for the workers' exit leaves none behind
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
      pool.close();
    }
  });

  it("answers a batch the worker finished in time with its verdicts, though the deadline comes before the worker's message is read", async () => {
    let now = 1_000;
    const pool = new VerifyPool(1, { ...EVERY_CHECK_TO_A_WORKER, batchDeadlineMs: 50, clock: () => now });
    try {
      expect(await pool.ready()).toBe(true);
      const finished = finishedCount(pool);
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const answers: (boolean | undefined)[] = [];
      const genuine = Buffer.from('finished in time');
      const forged = Buffer.from('forged, finished in time');
      expect(pool.submit(signed(genuine), publicKey, genuine, (valid) => answers.push(valid))).toBe(true);
      expect(pool.submit(Buffer.alloc(64, 1), publicKey, forged, (valid) => answers.push(valid))).toBe(true);
      await new Promise((resolve) => setImmediate(resolve)); // the turn's end hands the batch over
      // One long turn from here on, as of an event loop held past the deadline: the worker
      // finishes, and its message waits for the turn's end, after the timers.
      const deadline = Date.now() + 5_000;
      let count = Atomics.load(finished, 0);
      while (count < 1 && Date.now() < deadline) count = Atomics.load(finished, 0);
      expect(count).toBe(1);
      now = 1_050;
      vi.advanceTimersByTime(50);
      // Its verdicts: handed back, the two would be checked again on the event loop.
      expect(answers).toEqual([true, false]);
      expect(vi.getTimerCount()).toBe(0);
      // Not late: it takes the next batch at once, and its message answers nothing a second time.
      const check = { signature: signed(genuine), message: genuine };
      expect(await withTimeout(verdicts(pool, [check]))).toEqual([true]);
      expect(answers).toEqual([true, false]);
    } finally {
      vi.useRealTimers();
      pool.close();
    }
  });

  it('keeps checks staged for a worker within its deadline, and never hands a late worker a batch', async () => {
    let now = 1_000;
    const pool = new VerifyPool(2, { ...EVERY_CHECK_TO_A_WORKER, batchDeadlineMs: 50, clock: () => now });
    try {
      const checkers = (pool as unknown as { checkers: { worker: Worker; ready: boolean }[] }).checkers;
      for (const checker of checkers) if (!checker.ready) await once(checker.worker, 'message');
      expect(checkers.map((checker) => checker.ready)).toEqual([true, true]);
      // From here on the test runs in one turn: no worker's answer comes, and a batch goes out when
      // the test flushes, as a worker's answer would.
      const flush = (pool as unknown as { flush: () => void }).flush;
      // Nor does a deadline find a batch finished (see above), though the worker may well finish it.
      const finishes = seemUnfinished(pool);
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const genuine = Buffer.from('genuine');
      const forged = Buffer.from('forged');
      const a: (boolean | undefined)[] = [];
      const b: (boolean | undefined)[] = [];
      const staged: (boolean | undefined)[] = [];
      expect(pool.submit(signed(genuine), publicKey, genuine, (valid) => a.push(valid))).toBe(true);
      flush(); // to worker A, sent at 1000
      now = 1_020;
      expect(pool.submit(signed(genuine), publicKey, genuine, (valid) => b.push(valid))).toBe(true);
      flush(); // to worker B, sent at 1020
      expect(pool.submit(Buffer.alloc(64, 1), publicKey, forged, (valid) => staged.push(valid))).toBe(true);
      flush(); // both busy: it stays staged
      now = 1_045;
      vi.advanceTimersByTime(50);
      expect(a).toEqual([]); // the timer comes again for the first one due, A
      now = 1_050;
      vi.advanceTimersByTime(5);
      expect(a).toEqual([undefined]); // A is late
      expect(b).toEqual([]);
      expect(staged).toEqual([]); // B, within its deadline, may still take it
      // A still reads its batch from the shared memory: whatever is staged does not go to it.
      flush();
      now = 1_070;
      vi.advanceTimersByTime(20);
      expect(b).toEqual([undefined]);
      expect(staged).toEqual([undefined]); // no worker left to take it
      finishes();
    } finally {
      vi.useRealTimers();
      pool.close();
    }
  });

  it('answers a waiting check when its worker dies while another still loads', async () => {
    const pool = new VerifyPool(1, EVERY_CHECK_TO_A_WORKER);
    try {
      expect(await pool.ready()).toBe(true);
      // A full batch keeps worker A busy; one more check then waits for a free worker.
      const big = Buffer.alloc(3_900, 7);
      const batch = Array.from(
        { length: VERIFY_QUEUE_LIMIT },
        () =>
          new Promise<boolean | undefined>((resolve) => pool.submit(signed(big), publicKey, big, resolve)),
      );
      await new Promise((resolve) => setImmediate(resolve)); // the turn's end hands the batch to A
      const a = (pool as unknown as { checkers: { worker: Worker }[] }).checkers[0]?.worker as Worker;
      const message = Buffer.from('waiting');
      const waiting = new Promise<boolean | undefined>((resolve) => {
        expect(pool.submit(signed(message), publicKey, message, resolve)).toBe(true);
      });
      const exited = once(a, 'exit');
      void a.terminate();
      pool.grow(2); // worker B starts loading (another node of the process asked for two)
      await exited;
      await Promise.all(batch);
      // Before, it stayed staged until some later check scheduled a flush: on a quiet mesh, never.
      let deadline: NodeJS.Timeout | undefined;
      const unanswered = new Promise<'unanswered'>((resolve) => {
        deadline = setTimeout(() => resolve('unanswered'), 5_000);
      });
      expect([true, undefined]).toContain(await Promise.race([waiting, unanswered]));
      clearTimeout(deadline);
    } finally {
      pool.close();
    }
  });

  it('close() resolves once its workers have exited, or at WORKER_EXIT_DEADLINE_MS if one never does', async () => {
    const pool = new VerifyPool(1, EVERY_CHECK_TO_A_WORKER);
    expect(await pool.ready()).toBe(true);
    const worker = (pool as unknown as { checkers: { worker: Worker }[] }).checkers[0]?.worker as Worker;
    const exited = once(worker, 'exit');
    // As a thread that never exits would: terminate() asks, and its promise never settles.
    const terminate = worker.terminate.bind(worker);
    worker.terminate = () => {
      void terminate();
      return new Promise<number>(() => {});
    };
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let closed = false;
      const closing = pool.close().then(() => {
        closed = true;
      });
      // A turn, not one microtask: close() settles a few microtasks after what it waits for, so
      // one would find it pending even if it waited for the event, or for less than the deadline.
      const aTurn = () => new Promise((resolve) => setImmediate(resolve));
      await exited;
      await aTurn();
      expect(closed).toBe(false); // the exit's promise is what close() waits for, not the event
      vi.advanceTimersByTime(WORKER_EXIT_DEADLINE_MS - 1);
      await aTurn();
      expect(closed).toBe(false);
      vi.advanceTimersByTime(1);
      await closing;
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
    // A pool whose worker exits normally: close() waits for no timer.
    const quick = new VerifyPool(1, EVERY_CHECK_TO_A_WORKER);
    expect(await quick.ready()).toBe(true);
    const quickWorker = (quick as unknown as { checkers: { worker: Worker }[] }).checkers[0]
      ?.worker as Worker;
    let quickExited = false;
    quickWorker.once('exit', () => {
      quickExited = true;
    });
    await quick.close();
    expect(quickExited).toBe(true);
    await new VerifyPool(1).close(); // no worker: resolves at once
  });
});

describe('acquireVerifyPool', () => {
  it('stops the workers at the last release, even after a release too many', () => {
    releaseVerifyPool(); // unmatched: must not leave the count below zero
    const pool = acquireVerifyPool(1, EVERY_CHECK_TO_A_WORKER);
    expect(pool.threads).toBe(1);
    expect(acquireVerifyPool(1)).toBe(pool);
    releaseVerifyPool();
    expect(pool.threads).toBe(1);
    releaseVerifyPool();
    expect(pool.threads).toBe(0);
  });
});

describe('GossipSigner.checkAhead', () => {
  const NOW = 1_800_000_000_000;
  const clock = () => NOW;
  const alice = generateIdentity();
  const aliceSigner = new GossipSigner(alice, 60_000, clock);
  const pool = new VerifyPool(1, EVERY_CHECK_TO_A_WORKER);
  const verifier = new GossipSigner(generateIdentity(), 60_000, clock, pool);
  beforeAll(() => pool.ready());
  afterAll(() => pool.close());
  const seq = minSeqNow(clock);

  function gossip(payload: Uint8Array, signature: Uint8Array, at = seq) {
    return { type: 'gossip' as const, origin: alice.id, seq: at, hops: 0, payload, signature };
  }

  function checkedAhead(message: ReturnType<typeof gossip>): Promise<void> {
    return new Promise((resolve) => {
      expect(verifier.checkAhead(message, resolve)).toBe(true);
    });
  }

  it('hands verify() the worker verdict: valid, forged, and stale as without a pool', async () => {
    const payload = Buffer.from('hello');
    const genuine = gossip(payload, aliceSigner.sign(alice.id, seq, payload));
    const altered = gossip(Buffer.from('hellO'), genuine.signature);
    const oldSeq = minSeqNow(() => NOW - 3_600_000);
    const old = gossip(payload, aliceSigner.sign(alice.id, oldSeq, payload), oldSeq);
    await Promise.all([checkedAhead(genuine), checkedAhead(altered), checkedAhead(old)]);
    const judge = (m: ReturnType<typeof gossip>) => verifier.verify(m.origin, m.seq, m.payload, m.signature);
    expect(judge(genuine)).toBe('valid');
    expect(judge(altered)).toBe('forged');
    expect(judge(old)).toBe('stale');
  });

  it("takes the pool's verdict instead of checking again (a pool that approves everything is believed)", async () => {
    class ApprovingPool extends VerifyPool {
      override submit(
        _s: Uint8Array,
        _k: Uint8Array,
        _m: Uint8Array,
        done: (valid: boolean) => void,
      ): boolean {
        queueMicrotask(() => done(true));
        return true;
      }
    }
    const believer = new GossipSigner(generateIdentity(), 60_000, clock, new ApprovingPool(0));
    const payload = Buffer.from('forged');
    const forged = gossip(payload, new Uint8Array(64));
    await new Promise<void>((resolve) => believer.checkAhead(forged, resolve));
    expect(believer.verify(forged.origin, forged.seq, forged.payload, forged.signature)).toBe('valid');
    // The verdict is used once: the same forgery checked again is caught.
    expect(believer.verify(forged.origin, forged.seq, forged.payload, forged.signature)).toBe('forged');
  });

  it('checks inline what the pool leaves undecided: a forgery is still caught, a genuine one still valid', async () => {
    class UndecidedPool extends VerifyPool {
      override submit(_s: Uint8Array, _k: Uint8Array, _m: Uint8Array, done: VerifyCallback): boolean {
        queueMicrotask(() => done(undefined)); // a quiet turn's check, or a worker that died
        return true;
      }
    }
    const checker = new GossipSigner(generateIdentity(), 60_000, clock, new UndecidedPool(0));
    const payload = Buffer.from('undecided');
    const forged = gossip(payload, new Uint8Array(64));
    const genuine = gossip(payload, aliceSigner.sign(alice.id, seq, payload));
    for (const message of [forged, genuine]) {
      await new Promise<void>((resolve) => expect(checker.checkAhead(message, resolve)).toBe(true));
    }
    expect(checker.verify(forged.origin, forged.seq, forged.payload, forged.signature)).toBe('forged');
    expect(checker.verify(genuine.origin, genuine.seq, genuine.payload, genuine.signature)).toBe('valid');
  });

  it("never lends a verdict to another payload: a valid one's signature on altered bytes is checked anew", async () => {
    const payload = Buffer.from('genuine');
    const message = gossip(payload, aliceSigner.sign(alice.id, seq, payload));
    await checkedAhead(message);
    expect(verifier.verify(alice.id, seq, Buffer.from('genuinE'), message.signature)).toBe('forged');
  });

  it('leaves a message without a usable signature, or without a pool, to verify()', () => {
    const payload = Buffer.from('x');
    expect(verifier.checkAhead(gossip(payload, new Uint8Array(10)), () => {})).toBe(false);
    // Too large for libsodium's path (and a batch): verify() checks it with node:crypto.
    const large = Buffer.alloc(SIGNING_SCRATCH_MAX_BYTES, 5);
    const largeMessage = gossip(large, aliceSigner.sign(alice.id, seq, large));
    expect(verifier.checkAhead(largeMessage, () => {})).toBe(false);
    expect(verifier.verify(alice.id, seq, large, largeMessage.signature)).toBe('valid');
    const noPool = new GossipSigner(generateIdentity(), 60_000, clock);
    expect(noPool.checkAhead(gossip(payload, aliceSigner.sign(alice.id, seq, payload)), () => {})).toBe(
      false,
    );
  });
});
