import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/identity/identity.js';
import type { MeshNode } from '../../src/node/node.js';
import { TestMesh } from '../helpers/mesh.js';
import { closedPort, eventually, nextEvent } from '../transport/helpers.js';

let mesh: TestMesh | undefined;
afterEach(async () => {
  await mesh?.stopAll();
  mesh = undefined;
});

describe('MeshNode: behaviour found untested by mutation', () => {
  it("emits 'identity:conflict' with the address of another node that runs with its identity", async () => {
    mesh = new TestMesh();
    const identity = generateIdentity();
    const a = mesh.add({ identity });
    const b = mesh.add({ identity });
    const conflict = nextEvent<[string]>(a, 'identity:conflict', () => true, 15_000);
    await Promise.all([a.start(), b.start()]);
    const [address] = await conflict;
    expect(address).toBe(`127.0.0.1:${b.address()?.port}`);
  });

  it('never dials its own bootstrap address again, while it retries the others', async () => {
    mesh = new TestMesh({ discovery: false });
    const ownPort = await closedPort();
    const deadPort = await closedPort();
    let unreachable = 0;
    const logger = pino(
      { level: 'warn' },
      {
        write(line: string) {
          if (line.includes('bootstrap address unreachable')) unreachable++;
        },
      },
    );
    // A bootstrap list shared by every node names this one too, and a node that is down.
    const node = mesh.add({
      port: ownPort,
      logger,
      bootstrap: [`127.0.0.1:${ownPort}`, `127.0.0.1:${deadPort}`],
    });
    await node.start();
    // The first round, then two retries (BOOTSTRAP_RETRY_MS apart) of the address that is down.
    await eventually('two retries of the dead address', () => unreachable === 3, 20_000);
    // The dial to itself failed its handshake at both ends once; the dead address, once a round.
    expect(node.stats().transport.handshakeFailures).toBe(2 + 3);
  });

  it('does not dial again, as a late contact, a bootstrap address that answered at the start', async () => {
    mesh = new TestMesh({ discovery: false, protocol: { mergeInterval: 200 } });
    const [b] = (await mesh.start(1)) as [MeshNode];
    const deadPort = await closedPort();
    let unreachable = 0;
    const logger = pino(
      { level: 'debug' },
      {
        write(line: string) {
          if (line.includes('bootstrap address unreachable')) unreachable++;
        },
      },
    );
    const a = mesh.add({ logger, bootstrap: [`127.0.0.1:${b.address()?.port}`, `127.0.0.1:${deadPort}`] });
    await a.start();
    // The first round, then two late-contact rounds (BOOTSTRAP_RETRY_MS apart) of the dead address.
    await eventually('two late rounds', () => unreachable === 3, 20_000);
    // B answered the first round: A's one link to it is the only one it ever opened.
    expect(a.stats().transport.linksOpened).toBe(1);
  });
});
