import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../src/sim/run.js';

describe('simulation with Plumtree', () => {
  it('N = 1,000, stable: RMR below 0.1 once the tree has formed, every node reached once', () => {
    const result = runSimulation({
      nodes: 1_000,
      seed: 1,
      broadcasts: 10,
      protocol: { broadcast: 'plumtree' },
    });
    expect(result.parameters.broadcastStrategy).toBe('plumtree');
    expect(result.reliability).toEqual({ mean: 1, min: 1 });
    expect(result.phases.stable?.duplicateDeliveries).toBe(0);
    expect(result.rmr).not.toBeNull();
    expect(result.rmr as number).toBeLessThan(0.1);
  });
});
