import { defaultIdentityPath, loadOrCreateIdentity } from '../identity/identity-file.js';
import { writeNetworkKeyFile } from '../identity/network-key.js';

export interface CommandOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const stdio: CommandOutput = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};

/**
 * `meshcast id`: prints this node's id (its public key), creating the identity file on first use
 * exactly as `meshcast chat` would. Only the id goes to stdout, so scripts can capture it.
 */
export function runId(identityPath: string | undefined, output: CommandOutput = stdio): void {
  const path = identityPath ?? defaultIdentityPath();
  const { identity, created } = loadOrCreateIdentity(path);
  if (created) output.err(`created a new identity in ${path}`);
  output.out(identity.id);
}

/**
 * `meshcast keygen FILE`: writes a new network key (mode 0600, never over an existing file). Give
 * the file to every node of the private network, by a channel you trust, and start them with
 * `--network-key FILE`.
 */
export function runKeygen(path: string, output: CommandOutput = stdio): void {
  const key = writeNetworkKeyFile(path);
  output.out(`network key written to ${path} (fingerprint ${key.fingerprint})`);
  output.err('copy it to every node of the network over a channel you trust; anyone holding it can join');
}
