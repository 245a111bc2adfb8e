import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdentityInUseError, lockPathOf } from '../../src/identity/identity-lock.js';
import { createNode, type MeshNode } from '../../src/node/node.js';

// Opens real sockets: run only through scripts/in-loopback-netns.sh.

let dir: string;
let nodes: MeshNode[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshcast-node-identity-'));
});
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  nodes = [];
  rmSync(dir, { recursive: true, force: true });
});

function node(identityFile: string): MeshNode {
  const created = createNode({ host: '127.0.0.1', port: 0, discovery: false, identityFile });
  nodes.push(created);
  return created;
}

describe('a node started from an identity file', () => {
  it('holds the file while it runs: a second node with it is refused until the first stops', async () => {
    const path = join(dir, 'identity.key');
    const first = node(path);
    await first.start();
    expect(existsSync(lockPathOf(path))).toBe(true);

    const second = node(path);
    expect(second.id).toBe(first.id);
    await expect(second.start()).rejects.toBeInstanceOf(IdentityInUseError);
    expect(second.address()).toBeUndefined();
    expect(existsSync(lockPathOf(path))).toBe(true); // still the first one's

    await first.stop();
    expect(existsSync(lockPathOf(path))).toBe(false);
    const third = node(path);
    await third.start();
    expect(third.id).toBe(first.id);
  });
});
