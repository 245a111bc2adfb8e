import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../bench/options.js';
import { planRuns } from '../../bench/plan.js';
import { DEFAULT_WARMUP_MESSAGES } from '../../bench/scenario/config.js';

describe('bench run plan', () => {
  it('runs the scenario warm-up unless --warmup changes it', () => {
    const plain = planRuns(parseOptions(['--n', '10', '--contenders', 'meshcast']));
    expect(plain.map((run) => run.warmupMessages)).toEqual([DEFAULT_WARMUP_MESSAGES]);
    const warm = planRuns(
      parseOptions(['--n', '10,30', '--contenders', 'meshcast,libp2p', '--warmup', '200']),
    );
    expect(warm.map((run) => run.warmupMessages)).toEqual([200, 200, 200, 200]);
  });

  it('compares the default contenders unless --contenders names others', () => {
    expect(parseOptions([]).contenders).toEqual(['meshcast', 'meshcast-nosig', 'flood', 'libp2p']);
    expect(parseOptions(['--contenders', 'meshcast,meshcast-noworker']).contenders).toEqual([
      'meshcast',
      'meshcast-noworker',
    ]);
    expect(() => parseOptions(['--contenders', 'meshcast,gossip'])).toThrow();
  });

  it('gives the run processes no Node flags unless --node-args names some, and only flags', () => {
    expect(parseOptions([]).nodeArgs).toEqual([]);
    expect(parseOptions(['--node-args=--v8-pool-size=1  --max-semi-space-size=4']).nodeArgs).toEqual([
      '--v8-pool-size=1',
      '--max-semi-space-size=4',
    ]);
    expect(() => parseOptions(['--node-args', 'v8-pool-size=1'])).toThrow();
  });

  it('takes --node-args in its space form, and reads no empty flag from the whitespace around its flags', () => {
    // A value is what follows the option, even one that starts with "--".
    expect(parseOptions(['--node-args', '--v8-pool-size=1']).nodeArgs).toEqual(['--v8-pool-size=1']);
    expect(parseOptions(['--node-args', ' --v8-pool-size=1 ']).nodeArgs).toEqual(['--v8-pool-size=1']);
    expect(parseOptions(['--node-args', '']).nodeArgs).toEqual([]);
  });

  it('refuses a warm-up that is not a positive integer', () => {
    expect(() => parseOptions(['--warmup', '0'])).toThrow();
  });
});
