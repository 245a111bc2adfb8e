import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addNetworkFlags, type NetworkFlags, nodeOptionsFromFlags } from '../../src/cli/network-options.js';
import { NETWORK_KEY_FILE_ENV } from '../../src/identity/network-key.js';
import { silentLogger } from '../../src/log/logger.js';
import { CLI } from '../helpers/chat-process.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshcast-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the built CLI with a private config directory; no sockets are opened by these commands. */
function meshcast(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'config') },
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('meshcast id', () => {
  it('creates the default identity file on first run (mode 0600) and prints the same id after', () => {
    const first = meshcast('id');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^[0-9a-f]{64}\n$/);
    const path = join(dir, 'config', 'meshcast', 'identity.key');
    expect(first.err).toContain(`created a new identity in ${path}`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const second = meshcast('id');
    expect(second).toEqual({ code: 0, out: first.out, err: '' });
    expect(readFileSync(path, 'utf8')).toContain(first.out.trim());
  });

  it('uses --identity PATH, and refuses a key file others can read', () => {
    const path = join(dir, 'mine.key');
    const created = meshcast('id', '--identity', path);
    expect(created.code).toBe(0);
    expect(meshcast('id').out).not.toBe(created.out);
    chmodSync(path, 0o644);
    const refused = meshcast('id', '--identity', path);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/other users may read it.*chmod 600/);
  });
});

describe('meshcast keygen', () => {
  it('writes a 32-byte key with mode 0600 and never overwrites one', () => {
    const path = join(dir, 'net.key');
    const made = meshcast('keygen', path);
    expect(made.code).toBe(0);
    expect(made.out).toMatch(/network key written to .*net\.key \(fingerprint [0-9a-f]{16}\)/);
    expect(readFileSync(path, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const key = readFileSync(path, 'utf8');
    const again = meshcast('keygen', path);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already exists/);
    expect(readFileSync(path, 'utf8')).toBe(key);
  });
});

/** Parses `args` as commander parses the flags of `meshcast chat`; a refused flag throws its message. */
function parseNetworkFlags(...args: string[]): NetworkFlags {
  const command = addNetworkFlags(new Command(), 'silent')
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  command.parse(args, { from: 'user' });
  return command.opts<NetworkFlags>();
}

describe('network flags', () => {
  const base = { bootstrap: [], discovery: true, logLevel: 'silent' as const };

  it('takes an IPv4 address as --interface, and refuses anything else naming the flag', () => {
    expect(parseNetworkFlags('-i', '192.168.1.255').interface).toBe('192.168.1.255');
    for (const text of ['10.0.0', '10.0.0.1.2', '10.0.0.256', '10.0.0.0001', 'eth0', '']) {
      expect(() => parseNetworkFlags('--interface', text)).toThrow(
        /option '-i, --interface <address>' argument .* is invalid\. expected an IPv4 address/,
      );
    }
  });

  it('refuses an --interface or --group with a leading zero, which resolvers read as octal', () => {
    // getaddrinfo takes 127.0.0.010 for 127.0.0.8: with --no-discovery, links were taken there.
    for (const text of ['127.0.0.010', '010.0.0.1', '192.168.01.20']) {
      expect(() => parseNetworkFlags('--interface', text)).toThrow(
        /option '-i, --interface <address>' argument .* is invalid\. expected an IPv4 address/,
      );
    }
    expect(() => parseNetworkFlags('--group', '239.255.077.1')).toThrow(/expected an IPv4 address/);
    expect(parseNetworkFlags('-i', '10.0.0.0').interface).toBe('10.0.0.0');
  });

  it('takes a multicast group from 224.0.0.0 to 239.255.255.255 as --group, and nothing else', () => {
    expect(parseNetworkFlags('-g', '224.0.0.1').group).toBe('224.0.0.1');
    expect(parseNetworkFlags('-g', '239.255.255.255').group).toBe('239.255.255.255');
    for (const text of ['223.255.255.255', '240.0.0.1']) {
      expect(() => parseNetworkFlags('--group', text)).toThrow(/expected an IPv4 multicast group/);
    }
    for (const text of ['239.1.1.256', 'group']) {
      expect(() => parseNetworkFlags('--group', text)).toThrow(/expected an IPv4 address/);
    }
  });

  it('takes every --bootstrap given, and refuses one that does not parse naming the flag', () => {
    const flags = parseNetworkFlags('-b', '127.0.0.1:7000', '--bootstrap', ' 127.0.0.2:7001 ');
    expect(nodeOptionsFromFlags(flags, silentLogger()).bootstrap).toEqual([
      '127.0.0.1:7000',
      '127.0.0.2:7001',
    ]);
    expect(() => parseNetworkFlags('-b', '127.0.0.1:7000', '-b', '300.0.0.1:7000')).toThrow(
      /option '-b, --bootstrap <host:port>' argument '300\.0\.0\.1:7000' is invalid\. invalid address .*"300\.0\.0\.1" is not a valid IPv4 address/,
    );
  });

  it('refuses --discovery-port 0: every node must agree on the port, so "any free one" cannot be', () => {
    expect(() => parseNetworkFlags('--discovery-port', '0')).toThrow(
      /option '--discovery-port <port>' argument '0' is invalid\. expected a port number from 1 to 65535/,
    );
  });

  it('hands every flag to the node', () => {
    const flags = parseNetworkFlags(
      ...['--port', '0', '--interface', '127.0.0.1', '--group', '239.1.2.3', '--discovery-port', '40000'],
      ...['--no-discovery', '--no-signatures'],
    );
    expect(nodeOptionsFromFlags(flags, silentLogger())).toMatchObject({
      port: 0,
      interface: '127.0.0.1',
      group: '239.1.2.3',
      discoveryPort: 40000,
      discovery: false,
      signatures: false,
    });
    const defaults = nodeOptionsFromFlags(parseNetworkFlags(), silentLogger());
    expect(defaults).toMatchObject({ discovery: true, signatures: true, bootstrap: [] });
    expect(defaults.port).toBeUndefined();
  });

  it('takes the network key file from --network-key, else from the environment', () => {
    const saved = process.env[NETWORK_KEY_FILE_ENV];
    try {
      process.env[NETWORK_KEY_FILE_ENV] = '/from/env.key';
      expect(nodeOptionsFromFlags(base, silentLogger()).networkKeyFile).toBe('/from/env.key');
      expect(nodeOptionsFromFlags({ ...base, networkKey: '/flag.key' }, silentLogger()).networkKeyFile).toBe(
        '/flag.key',
      );
      delete process.env[NETWORK_KEY_FILE_ENV];
      expect(nodeOptionsFromFlags(base, silentLogger()).networkKeyFile).toBeUndefined();
      // As a shell's `export MESHCAST_NETWORK_KEY_FILE=` means: none.
      process.env[NETWORK_KEY_FILE_ENV] = '';
      expect(nodeOptionsFromFlags(base, silentLogger()).networkKeyFile).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env[NETWORK_KEY_FILE_ENV];
      else process.env[NETWORK_KEY_FILE_ENV] = saved;
    }
  });

  it('uses the identity file from --identity, else the default one', () => {
    expect(nodeOptionsFromFlags({ ...base, identity: '/my.key' }, silentLogger()).identityFile).toBe(
      '/my.key',
    );
    expect(nodeOptionsFromFlags(base, silentLogger()).identityFile).toMatch(/meshcast\/identity\.key$/);
  });
});
