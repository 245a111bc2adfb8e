import type { Worker } from 'node:worker_threads';
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

it('stop() resolves only once the workers of the pool it closes have exited: no thread outlives it', async () => {
  // Workers at once, rather than at the start rate of checks that a test sees none of.
  const pool = acquireVerifyPool(1, { startRate: 0 });
  let exited = 0;
  try {
    expect(await pool.ready()).toBe(true);
    const workers = (pool as unknown as { checkers: { worker: Worker }[] }).checkers.map(
      (checker) => checker.worker,
    );
    expect(workers.length).toBe(1);
    for (const worker of workers) worker.once('exit', () => exited++);
    node = createNode({ host: '127.0.0.1', port: 0, discovery: false, verifyThreads: 1 });
    await node.start();
  } finally {
    releaseVerifyPool(); // the node's hold is now the last
  }
  await node.stop();
  expect(exited).toBe(1);
});
