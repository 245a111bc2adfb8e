import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Creates `path` holding `text`, whole: the text goes to a temporary file beside it, which is then
 * hard-linked into place. A file created and written in place exists empty for a moment, and a
 * process reading it then takes it for a broken or stale one; a link appears with its contents, and
 * of several processes linking at once exactly one succeeds. Returns false, changing nothing, if
 * `path` exists; throws on other failures (a read-only directory, say).
 */
export function createWhole(path: string, text: string, mode: number): boolean {
  const temporary = `${path}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, text, { flag: 'wx', mode });
    // The umask may have cleared bits of the mode but never adds any; chmod makes it exact anyway.
    chmodSync(temporary, mode);
    return linkUnlessTaken(temporary, path);
  } finally {
    rmSync(temporary, { force: true });
  }
}

function linkUnlessTaken(existing: string, path: string): boolean {
  try {
    linkSync(existing, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}
