import { join } from 'node:path';
import { generateIdentity, type Identity, identityFromSeed, seedOf } from './identity.js';
import { configDirectory, createSecretFile, KeyFileError, readSecretFile } from './key-file.js';

/** Tells a meshcast identity file from any other JSON; bump `version` on an incompatible change. */
const FILE_TYPE = 'meshcast-identity';
const FILE_VERSION = 1;

/** Where the CLI keeps the node's identity unless `--identity PATH` says otherwise. */
export function defaultIdentityPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDirectory(env), 'identity.key');
}

/** What an identity file holds: the seed is the secret; the id is there for people and for a check. */
interface IdentityFile {
  readonly type: typeof FILE_TYPE;
  readonly version: typeof FILE_VERSION;
  readonly id: string;
  readonly seed: string;
}

export interface LoadedIdentity {
  readonly identity: Identity;
  /** True when the file did not exist and was created with a fresh key pair. */
  readonly created: boolean;
}

/**
 * Loads the identity in `path`, or creates the file (mode 0600) with a new key pair if there is none.
 * Of first runs racing to create it, the first to land its file decides the identity for all.
 */
export function loadOrCreateIdentity(path: string): LoadedIdentity {
  const text = readSecretFile(path);
  if (text !== undefined) return { identity: parseIdentityFile(path, text), created: false };
  const identity = generateIdentity();
  const file: IdentityFile = {
    type: FILE_TYPE,
    version: FILE_VERSION,
    id: identity.id,
    seed: seedOf(identity).toString('hex'),
  };
  if (!createSecretFile(path, `${JSON.stringify(file, null, 2)}\n`)) {
    return { identity: loadIdentity(path), created: false };
  }
  return { identity, created: true };
}

/** Loads an existing identity file; throws KeyFileError if it is missing or unusable. */
export function loadIdentity(path: string): Identity {
  const text = readSecretFile(path);
  if (text === undefined) throw new KeyFileError(path, `identity file ${path} does not exist`);
  return parseIdentityFile(path, text);
}

function parseIdentityFile(path: string, text: string): Identity {
  const fail = (problem: string): KeyFileError =>
    new KeyFileError(path, `${path} is not a usable meshcast identity file: ${problem}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw fail('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw fail('not a JSON object');
  const file = parsed as Partial<Record<keyof IdentityFile, unknown>>;
  if (file.type !== FILE_TYPE) throw fail(`"type" is not "${FILE_TYPE}"`);
  if (file.version !== FILE_VERSION) throw fail(`version ${String(file.version)}, expected ${FILE_VERSION}`);
  if (typeof file.seed !== 'string' || !/^[0-9a-f]{64}$/.test(file.seed)) {
    throw fail('"seed" is not 64 lower-case hex characters');
  }
  const identity = identityFromSeed(Buffer.from(file.seed, 'hex'));
  // A hand-edited id would make the file lie about which node it is.
  if (file.id !== identity.id) throw fail('"id" does not match the key in "seed"');
  return identity;
}
