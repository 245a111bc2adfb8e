import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createWhole } from './create-whole.js';

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
  if (!createSecretFile(path, text)) {
    throw new KeyFileError(path, `cannot create key file ${path}: it already exists`);
  }
}

/**
 * As writeSecretFile, but returns false, changing nothing, if the file exists. The file appears
 * whole, already 0600: a process reading it at any moment finds it complete or absent.
 */
export function createSecretFile(path: string, text: string): boolean {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    return createWhole(path, text, SECRET_FILE_MODE);
  } catch (error) {
    throw new KeyFileError(path, `cannot create key file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
