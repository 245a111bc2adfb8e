import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LoadedIdentity, loadOrCreateIdentity } from '../../src/identity/identity-file.js';
import { IdentityInUseError, lockIdentityFile, lockPathOf } from '../../src/identity/identity-lock.js';

/**
 * Nodes starting at the same moment, made deterministic: the file system calls of the code under
 * test are wrapped so that, at chosen moments, another starter does its part before this one goes
 * on. The OS may schedule another process at any of these moments.
 */
type Moment =
  /** Just before this starter reads `path`. */
  | 'before-reading'
  /** Just after this starter read `path` (or failed to), before it acts on what it read. */
  | 'after-reading'
  /** Just before this starter creates a file whose name begins with `path`. */
  | 'before-creating'
  /** Between creating such a file and writing its contents: it exists, empty. */
  | 'while-creating';

interface Race {
  readonly moment: Moment;
  readonly path: string;
  /** How many of these moments go by first; none unless said. */
  passing?: number;
  readonly otherStarter: () => void;
}

/** The races still to come, in order; each runs once. */
const armed = vi.hoisted(() => ({ races: [] as Race[] }));

/** The next race if it is due at `moment` on `file`, taken off the list so that its starter runs undisturbed. */
function raceAt(moment: Moment, file: fs.PathOrFileDescriptor): Race | undefined {
  const race = armed.races[0];
  if (race === undefined || race.moment !== moment || typeof file !== 'string') return undefined;
  const creating = moment === 'before-creating' || moment === 'while-creating';
  if (!(creating ? file.startsWith(race.path) : file === race.path)) return undefined;
  if (race.passing) {
    race.passing--;
    return undefined;
  }
  armed.races.shift();
  return race;
}

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const readFileSync = ((file: fs.PathOrFileDescriptor, options?: unknown) => {
    raceAt('before-reading', file)?.otherStarter();
    try {
      return real.readFileSync(file, options as BufferEncoding);
    } finally {
      raceAt('after-reading', file)?.otherStarter();
    }
  }) as typeof real.readFileSync;
  const writeFileSync = (
    file: fs.PathOrFileDescriptor,
    data: string | NodeJS.ArrayBufferView,
    options?: fs.WriteFileOptions,
  ): void => {
    raceAt('before-creating', file)?.otherStarter();
    const race = raceAt('while-creating', file);
    if (race === undefined) {
      real.writeFileSync(file, data, options);
      return;
    }
    // What writeFileSync does inside: create (open), then write; the other starter runs in between.
    const { flag = 'w', mode } = typeof options === 'object' && options !== null ? options : {};
    const fd = real.openSync(file as string, flag, mode);
    try {
      race.otherStarter();
      real.writeFileSync(fd, data);
    } finally {
      real.closeSync(fd);
    }
  };
  return { ...real, default: { ...real, readFileSync, writeFileSync }, readFileSync, writeFileSync };
});

let dir: string;
let identityPath: string;
beforeEach(() => {
  dir = fs.mkdtempSync(join(tmpdir(), 'meshcast-races-'));
  identityPath = join(dir, 'meshcast', 'identity.key');
  fs.mkdirSync(join(dir, 'meshcast'));
});
afterEach(() => {
  armed.races = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The id of a process that has exited: nothing runs under it (until the system reuses it). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

/** Tries to take the lock as a starting node does; a lock it takes goes into `held`. */
function startLocking(held: Array<() => void>): 'locked' | 'refused' {
  try {
    held.push(lockIdentityFile(identityPath));
    return 'locked';
  } catch (error) {
    if (error instanceof IdentityInUseError) return 'refused';
    throw error;
  }
}

describe('two nodes starting at once with one identity file', () => {
  it('do not both clear a stale lock: the one that looks second leaves the lock the first took', () => {
    const lockPath = lockPathOf(identityPath);
    fs.writeFileSync(lockPath, `${deadPid()}\n`);
    const firstHolder = process.ppid; // alive, and not this process
    armed.races = [
      {
        moment: 'after-reading',
        path: lockPath,
        // It too found the lock stale: it cleared it and took the lock.
        otherStarter: () => {
          fs.rmSync(lockPath);
          fs.writeFileSync(lockPath, `${firstHolder}\n`);
        },
      },
    ];
    expect(() => lockIdentityFile(identityPath)).toThrow(IdentityInUseError);
    expect(armed.races).toEqual([]);
    expect(fs.readFileSync(lockPath, 'utf8')).toBe(`${firstHolder}\n`);
  });

  it.each([
    ['as it found the lock gone', 0],
    ['as it looked again', 1],
  ])('do not remove a lock that was let go as one looked, and that a third took %s', (_label, passing) => {
    const lockPath = lockPathOf(identityPath);
    fs.writeFileSync(lockPath, `${process.ppid}\n`);
    let third: 'locked' | undefined;
    armed.races = [
      { moment: 'before-reading', path: lockPath, otherStarter: () => fs.rmSync(lockPath) },
      {
        moment: 'after-reading',
        path: lockPath,
        passing,
        otherStarter: () => {
          fs.writeFileSync(lockPath, `${process.ppid}\n`); // alive, and not this process
          third = 'locked';
        },
      },
    ];
    const held: Array<() => void> = [];
    const holders = [startLocking(held), third].filter((outcome) => outcome === 'locked');
    armed.races = [];
    for (const release of held) release();
    expect(holders).toEqual(['locked']);
  });

  it('never see the lock file before it names its holder, so one of them holds it, not both', () => {
    const held: Array<() => void> = [];
    let other: 'locked' | 'refused' | undefined;
    armed.races = [
      {
        moment: 'while-creating',
        path: lockPathOf(identityPath),
        otherStarter: () => {
          other = startLocking(held);
        },
      },
    ];
    const first = startLocking(held);
    for (const release of held) release();
    expect([first, other].sort()).toEqual(['locked', 'refused']);
    expect(fs.readdirSync(join(dir, 'meshcast'))).toEqual([]);
    lockIdentityFile(identityPath)(); // and the lock is free again
  });
});

describe('two first runs at once', () => {
  /** Runs loadOrCreateIdentity twice, the second at `moment` of the first; both results. */
  function firstRunsAt(moment: Moment): [LoadedIdentity, LoadedIdentity | undefined] {
    let other: LoadedIdentity | undefined;
    armed.races = [
      {
        moment,
        path: identityPath,
        otherStarter: () => {
          other = loadOrCreateIdentity(identityPath);
        },
      },
    ];
    const first = loadOrCreateIdentity(identityPath);
    expect(armed.races).toEqual([]);
    return [first, other];
  }

  it.each<[string, Moment]>([
    ['just before this one creates it', 'before-creating'],
    ['while this one writes it', 'while-creating'],
  ])('share one identity when the other creates the file %s', (_label, moment) => {
    const [first, other] = firstRunsAt(moment);
    expect(other?.created).toBe(true);
    expect(first.created).toBe(false);
    expect(first.identity).toEqual(other?.identity);
    expect(loadOrCreateIdentity(identityPath)).toEqual({ identity: first.identity, created: false });
    expect(fs.statSync(identityPath).mode & 0o777).toBe(0o600);
  });
});
