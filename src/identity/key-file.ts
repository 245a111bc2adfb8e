import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Secret files (identity keys, network keys): created owner-only, refused when others may read them.
 * Synchronous on purpose: createNode() needs the node id before it returns, and these run once at
 * start-up.
 */

/** rw for the owner only, as ssh requires of a private key. */
export const SECRET_FILE_MODE = 0o600;

/** Group and other permission bits: any of them set means someone else may read or replace the key. */
const SHARED_PERMISSION_BITS = 0o077;

/** A key file that cannot be used as it is; the message says what to do about it. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';

  constructor(
    readonly path: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** `${XDG_CONFIG_HOME:-~/.config}/meshcast`, where the CLI keeps its identity by default. */
export function configDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  // The XDG Base Directory spec says a relative value is invalid and must be ignored.
  const base = xdg?.startsWith('/') ? xdg : join(homedir(), '.config');
  return join(base, 'meshcast');
}

/** The file's text, or undefined if it does not exist. Refuses one that others may read. */
export function readSecretFile(path: string): string | undefined {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KeyFileError(path, `cannot read key file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if ((mode & SHARED_PERMISSION_BITS) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(3, '0');
    throw new KeyFileError(
      path,
      `key file ${path} has mode ${octal}: other users may read it. Run \`chmod 600 ${path}\` if it is still secret, or replace it.`,
    );
  }
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new KeyFileError(path, `cannot read key file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Writes `text` to a new file with mode 0600, creating its directory (0700) if needed. Never
 * overwrites: an existing key may be the only copy of an identity or a network's key.
 */
export function writeSecretFile(path: string, text: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, text, { mode: SECRET_FILE_MODE, flag: 'wx' });
    // The umask may have cleared bits of the mode but never adds any; chmod makes it exact anyway.
    chmodSync(path, SECRET_FILE_MODE);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EEXIST' ? 'it already exists' : (error as Error).message;
    throw new KeyFileError(path, `cannot create key file ${path}: ${reason}`, { cause: error });
  }
}
