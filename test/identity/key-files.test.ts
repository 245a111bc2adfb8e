import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultIdentityPath, loadIdentity, loadOrCreateIdentity } from '../../src/identity/identity-file.js';
import { configDirectory, KeyFileError } from '../../src/identity/key-file.js';
import { loadNetworkKey, networkKeyFromSecret, writeNetworkKeyFile } from '../../src/identity/network-key.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshcast-keys-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('identity file', () => {
  it('is created on first use with mode 0600, in a new 0700 directory, and loads the same identity after', () => {
    const path = join(dir, 'config', 'meshcast', 'identity.key');
    const first = loadOrCreateIdentity(path);
    expect(first.created).toBe(true);
    expect(mode(path)).toBe(0o600);
    expect(mode(join(dir, 'config', 'meshcast'))).toBe(0o700);
    const again = loadOrCreateIdentity(path);
    expect(again.created).toBe(false);
    expect(again.identity).toEqual(first.identity);
    expect(loadIdentity(path)).toEqual(first.identity);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ id: first.identity.id });
  });

  it.each([0o644, 0o640, 0o604, 0o660])(
    'refuses a key file others may read (mode %o) and says how to fix it',
    (bits) => {
      const path = join(dir, 'identity.key');
      loadOrCreateIdentity(path);
      chmodSync(path, bits);
      expect(() => loadOrCreateIdentity(path)).toThrow(KeyFileError);
      expect(() => loadOrCreateIdentity(path)).toThrow(/other users may read it.*chmod 600/);
    },
  );

  it.each([
    ['not JSON', 'hello'],
    ['another kind of file', JSON.stringify({ type: 'x', version: 1 })],
    ['a short seed', JSON.stringify({ type: 'meshcast-identity', version: 1, id: 'a', seed: 'ab' })],
  ])('refuses %s', (_label, text) => {
    const path = join(dir, 'identity.key');
    writeFileSync(path, text, { mode: 0o600 });
    expect(() => loadOrCreateIdentity(path)).toThrow(/not a usable meshcast identity file/);
  });

  it('refuses a file whose id was edited to another node', () => {
    const path = join(dir, 'identity.key');
    loadOrCreateIdentity(path);
    const file = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...file, id: 'ab'.repeat(32) }), { mode: 0o600 });
    expect(() => loadIdentity(path)).toThrow(/does not match/);
  });

  it('lives under $XDG_CONFIG_HOME, or ~/.config when that is unset or relative', () => {
    expect(defaultIdentityPath({ XDG_CONFIG_HOME: '/x/conf' })).toBe('/x/conf/meshcast/identity.key');
    expect(configDirectory({ XDG_CONFIG_HOME: 'relative' })).toMatch(/\.config\/meshcast$/);
    expect(configDirectory({})).toMatch(/\.config\/meshcast$/);
  });
});

describe('network key file', () => {
  it('is written once with mode 0600 and reads back as the same key', () => {
    const path = join(dir, 'net.key');
    const written = writeNetworkKeyFile(path);
    expect(mode(path)).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(loadNetworkKey(path)).toEqual(written);
    expect(() => writeNetworkKeyFile(path)).toThrow(/already exists/);
    expect(loadNetworkKey(path)).toEqual(written);
  });

  it('derives distinct keys for the handshake and for beacons, and a fingerprint that tells keys apart', () => {
    const a = networkKeyFromSecret(Buffer.alloc(32, 1));
    const b = networkKeyFromSecret(Buffer.alloc(32, 2));
    expect(a.handshakeKey).not.toEqual(a.beaconKey);
    expect(a.handshakeKey).toHaveLength(32);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(networkKeyFromSecret(Buffer.alloc(32, 1))).toEqual(a);
  });

  it('is not written for a secret that is no network key', () => {
    const path = join(dir, 'net.key');
    // Before, the file was written first: a key that could be neither loaded nor overwritten.
    expect(() => writeNetworkKeyFile(path, Buffer.alloc(16, 7))).toThrow(RangeError);
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a missing file, a world-readable one, and one that is not a key', () => {
    const path = join(dir, 'net.key');
    expect(() => loadNetworkKey(path)).toThrow(/does not exist/);
    writeFileSync(path, 'not a key\n', { mode: 0o600 });
    expect(() => loadNetworkKey(path)).toThrow(/expected 64 hex characters/);
    chmodSync(path, 0o644);
    expect(() => loadNetworkKey(path)).toThrow(/other users may read it/);
  });
});
