import { expect, it } from 'vitest';
import { VerifyPool } from '../../src/node/verify-pool.js';

// A file of its own: process.getActiveResourcesInfo() counts every test's ports, and another
// test's pool closing at the same time would hide this one's.
it('keeps nothing alive once started: its workers are unref()ed for good', async () => {
  const ports = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
  const before = ports();
  const pool = new VerifyPool(1, { startRate: 0 });
  try {
    expect(await pool.ready()).toBe(true);
    // Before, unref() came before the 'message' listener, which refs the worker's port again.
    expect(ports()).toBe(before);
  } finally {
    pool.close();
  }
});
