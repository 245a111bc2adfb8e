import { afterEach, expect, it } from 'vitest';
import { createNode, type MeshNode } from '../../src/node/node.js';
import { acquireVerifyPool, releaseVerifyPool } from '../../src/node/verify-pool.js';

let node: MeshNode | undefined;
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

it("stop() releases the node's hold on the shared verify pool, so its workers stop", async () => {
  node = createNode({ host: '127.0.0.1', port: 0, discovery: false, verifyThreads: 1 });
  await node.start();
  const whileRunning = acquireVerifyPool(1); // the node's pool, shared
  releaseVerifyPool();
  await node.stop();
  const afterStop = acquireVerifyPool(1);
  releaseVerifyPool();
  // Nobody held the pool any more: it was closed, and this acquire made a new one.
  expect(afterStop).not.toBe(whileRunning);
});
