import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import type { Gossip } from '../../src/core/messages.js';
import { generateIdentity } from '../../src/identity/identity.js';
import { GossipSigner, minSeqNow } from '../../src/node/gossip-signer.js';
import type { MeshNode } from '../../src/node/node.js';
import { SEND_WAIT_MAX_IDLE_TIMEOUTS } from '../../src/transport/defaults.js';
import { becomeNeighbour, TestMesh } from '../helpers/mesh.js';
import { RawPeer } from '../transport/helpers.js';

let mesh: TestMesh | undefined;
let socket: Socket | undefined;
let pinger: NodeJS.Timeout | undefined;
afterEach(async () => {
  clearInterval(pinger);
  socket?.destroy();
  await mesh?.stopAll();
});

it.each([
  ['keeps pinging', true],
  ['goes silent', false],
])(
  'closes a link it retired within SEND_WAIT_MAX_IDLE_TIMEOUTS when the peer %s',
  async (_what, pings) => {
    // A neighbour disconnected for a forgery that ignores our FIN. A first version of session 21's
    // linger rule counted from the peer's last word without a bound, and one that kept pinging held
    // the socket for good (found by a review).
    const idleTimeoutMs = 300;
    mesh = new TestMesh({ transport: { idleTimeoutMs, keepAliveIntervalMs: 300 } });
    const [target] = (await mesh.start(1)) as [MeshNode];
    socket = createConnection({ host: '127.0.0.1', port: target.address()!.port, allowHalfOpen: true });
    socket.on('error', () => {}); // our RST, once the peer writes to the closed socket
    await once(socket, 'connect');
    const peer = new RawPeer(socket, true);
    await peer.secured;
    await becomeNeighbour(peer, target);
    const ended = once(socket, 'end'); // our FIN: the link is retired
    const signer = generateIdentity();
    const seq = minSeqNow();
    const payload = Buffer.from('forged');
    const signature = new GossipSigner(signer, 60_000).sign(signer.id, seq, payload);
    const forged: Gossip = {
      type: 'gossip',
      origin: generateIdentity().id,
      seq,
      hops: 1,
      signature,
      payload,
    };
    peer.send(forged);
    await ended;
    if (pings) pinger = setInterval(() => peer.send({ type: 'ping' }), 200);
    // The time under test, not a synchronisation: the bound, and an idle timeout to spare.
    await new Promise((resolve) => setTimeout(resolve, (SEND_WAIT_MAX_IDLE_TIMEOUTS + 1) * idleTimeoutMs));
    expect(target.stats().transport.linksClosed).toBe(1);
  },
  20_000,
);
