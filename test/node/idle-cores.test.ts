import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import { type CoreTimes, hostIdleCores, idleCoresFrom } from '../../src/node/idle-cores.js';

describe('idle cores', () => {
  it('is the idle time of all cores over the time that passed per core, from the second reading on', () => {
    const readings: (CoreTimes | undefined)[] = [
      { cores: 2, idle: 1_000, total: 4_000 },
      // 100 ms passed on each of 2 cores; 150 ms of the 200 were idle: 1.5 cores.
      { cores: 2, idle: 1_150, total: 4_200 },
      // Both cores busy throughout.
      { cores: 2, idle: 1_150, total: 4_400 },
      // The host stopped saying; then it said again, so a baseline comes first.
      undefined,
      { cores: 2, idle: 1_200, total: 4_600 },
      // No time passed.
      { cores: 2, idle: 1_200, total: 4_600 },
    ];
    const probe = idleCoresFrom(() => readings.shift());
    expect([probe(), probe(), probe(), probe(), probe(), probe()]).toEqual([
      undefined,
      1.5,
      0,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('takes a new baseline when the number of cores changed (a CPU taken offline)', () => {
    const readings: CoreTimes[] = [
      { cores: 2, idle: 1_000, total: 4_000 },
      { cores: 1, idle: 1_050, total: 4_100 },
      { cores: 1, idle: 1_100, total: 4_200 },
    ];
    const probe = idleCoresFrom(() => readings.shift());
    expect([probe(), probe(), probe()]).toEqual([undefined, undefined, 0.5]);
  });

  it('reads this host: nothing at first, then between none and every core', () => {
    const probe = hostIdleCores();
    expect(probe()).toBeUndefined();
    let idle: number | undefined;
    // os.cpus() times tick every 10 ms: read until some time has passed.
    for (let reads = 0; idle === undefined && reads < 1_000_000; reads++) idle = probe();
    expect(idle).toBeGreaterThanOrEqual(0);
    expect(idle).toBeLessThanOrEqual(cpus().length);
  });
});
