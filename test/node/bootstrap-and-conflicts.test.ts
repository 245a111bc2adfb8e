import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateIdentity } from '../../src/identity/identity.js';
import type { MeshNode } from '../../src/node/node.js';
import { TestMesh, transportOf } from '../helpers/mesh.js';
import { closedPort, eventually, nextEvent, RawPeer } from '../transport/helpers.js';

let mesh: TestMesh | undefined;
let raw: RawPeer | undefined;
afterEach(async () => {
  raw?.socket.destroy();
  raw = undefined;
  await mesh?.stopAll();
  mesh = undefined;
});

/** Whether the node's beacons say it wants peers (they then go out at the fast cadence). */
function beaconsWantPeers(node: MeshNode): boolean {
  return (node as unknown as { discovery: { wantsPeers: boolean } }).discovery.wantsPeers;
}

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

  it('has one dial in flight to a bootstrap address at a time, even to one the list names twice', async () => {
    mesh = new TestMesh({ discovery: false });
    const address = `127.0.0.1:${await closedPort()}`;
    // Two spellings of one address, as two config lines give it; the refusal comes a round trip later.
    const node = mesh.add({ bootstrap: [address, ` ${address}\r\n`] });
    const dials = vi.spyOn(transportOf(node), 'dialAddress');
    await node.start();
    expect(dials.mock.calls).toEqual([[address]]);
  });

  it('reaches again for a neighbour whose link went silent: a partition may hide it', async () => {
    mesh = new TestMesh({
      discovery: false,
      transport: { idleTimeoutMs: 300, keepAliveIntervalMs: 100 },
      protocol: { reconnectInterval: 200 },
    });
    const [node] = (await mesh.start(1)) as [MeshNode];
    // A neighbour that stops sending (no FIN): its link ends on the idle timeout.
    raw = await RawPeer.dial(`127.0.0.1:${node.address()?.port}`);
    raw.hello(await closedPort());
    const up = nextEvent(node, 'peer:up');
    raw.send({ type: 'neighbor', priority: 'high' });
    await up;
    await nextEvent(node, 'peer:down');
    await eventually('a Neighbor{high} to the silent neighbour', () => node.stats().protocol.reconnects >= 1);
  });

  it('beacons as a node that wants no peers once its active view is full, and as one that does once it is not', async () => {
    mesh = new TestMesh({ protocol: { activeViewSize: 1 } });
    const [a, b] = (await mesh.start(2)) as [MeshNode, MeshNode];
    await mesh.waitConnected();
    expect(beaconsWantPeers(a)).toBe(false);
    const down = nextEvent(a, 'peer:down');
    await mesh.leave(b);
    await down;
    expect(beaconsWantPeers(a)).toBe(true);
  });
});
