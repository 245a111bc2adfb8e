import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateIdentity } from '../../src/identity/identity-file.js';
import { lockPathOf } from '../../src/identity/identity-lock.js';
import { transpileIdentityModules } from './transpile.js';

/**
 * The races of start-races.test.ts between real processes, as they happen: no order is imposed, so
 * each trial may or may not hit a race, but whatever happens exactly one starter may hold the lock
 * and all must end with the same identity.
 */

const TRIALS = 40;
const STARTERS = 4;
const MESSAGE_DEADLINE_MS = 10_000;

/**
 * A starter process does what a starting node does, once per trial: load (or create) its identity,
 * then lock it. It holds the lock until told to let go, so that the starters' holds overlap.
 */
const STARTER = `
import { loadOrCreateIdentity } from './identity/identity-file.js';
import { lockIdentityFile } from './identity/identity-lock.js';
let release = () => {};
process.on('message', (message) => {
  if (message === 'release') {
    release();
    release = () => {};
    process.send('released');
    return;
  }
  const { identityPath, startAt } = message;
  while (Date.now() < startAt) {} // line the starters up, to make the races likely
  const report = {};
  try {
    const { identity, created } = loadOrCreateIdentity(identityPath);
    Object.assign(report, { id: identity.id, created });
    release = lockIdentityFile(identityPath);
    report.locked = true;
  } catch (error) {
    report.error = error.name + ': ' + error.message;
  }
  process.send(report);
});
process.on('disconnect', () => process.exit(0));
process.send('ready');
`;

interface Report {
  readonly id?: string;
  readonly created?: boolean;
  readonly locked?: true;
  readonly error?: string;
}

let build: string;
let trialsDir: string;
let starters: ChildProcess[] = [];

beforeAll(async () => {
  build = mkdtempSync(join(tmpdir(), 'meshcast-starters-'));
  trialsDir = mkdtempSync(join(tmpdir(), 'meshcast-start-races-'));
  transpileIdentityModules(build);
  const starterScript = join(build, 'starter.js');
  writeFileSync(starterScript, STARTER);
  starters = Array.from({ length: STARTERS }, () =>
    fork(starterScript, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
  );
  await Promise.all(starters.map(nextMessage)); // 'ready'
});
afterAll(async () => {
  for (const starter of starters) starter.kill();
  await Promise.all(starters.map((starter) => starter.exitCode ?? once(starter, 'exit')));
  rmSync(build, { recursive: true, force: true });
  rmSync(trialsDir, { recursive: true, force: true });
});

function nextMessage(child: ChildProcess): Promise<unknown> {
  return once(child, 'message', { signal: AbortSignal.timeout(MESSAGE_DEADLINE_MS) }).then(
    ([message]) => message,
  );
}

/** The id of a process that has exited: nothing runs under it (until the system reuses it). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

/** Has every starter start at once on `identityPath`; what each reports. They let go of it after. */
async function startAtOnce(identityPath: string): Promise<Report[]> {
  const reports = starters.map(nextMessage);
  const startAt = Date.now() + 20;
  for (const starter of starters) starter.send({ identityPath, startAt });
  try {
    return (await Promise.all(reports)) as Report[];
  } finally {
    const released = starters.map(nextMessage);
    for (const starter of starters) starter.send('release');
    await Promise.all(released);
  }
}

describe('nodes starting at once in separate processes', () => {
  it(`share one identity, and one of them holds it (${TRIALS} trials of ${STARTERS})`, async () => {
    const staleLock = `${deadPid()}\n`;
    for (let trial = 0; trial < TRIALS; trial++) {
      const identityPath = join(trialsDir, `${trial}`, 'identity.key');
      // Every other trial is a restart after a kill: the identity exists, with its holder's stale lock.
      const restart = trial % 2 === 1;
      if (restart) {
        loadOrCreateIdentity(identityPath);
        writeFileSync(lockPathOf(identityPath), staleLock);
      }
      const reports = await startAtOnce(identityPath);
      const summary = JSON.stringify({ trial, reports });
      expect(reports.filter((report) => report.locked).length, summary).toBe(1);
      expect(reports.filter((report) => report.error?.startsWith('IdentityInUseError')).length, summary).toBe(
        STARTERS - 1,
      );
      expect(reports.filter((report) => report.created).length, summary).toBe(restart ? 0 : 1);
      expect(new Set(reports.map((report) => report.id)).size, summary).toBe(1);
    }
  });
});
