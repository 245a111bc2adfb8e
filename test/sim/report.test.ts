import { describe, expect, it } from 'vitest';
import { formatSimReport } from '../../src/sim/report.js';
import { runSimulation, type SimResult } from '../../src/sim/run.js';

/** A small real run, whose figures each test below replaces with ones it can recognise. */
const base = runSimulation({ nodes: 20, seed: 1, broadcasts: 2, settleTime: 2_000 });
const stable = base.phases.stable;
if (stable === undefined) throw new Error('a stable phase expected');

describe('formatSimReport', () => {
  it('prints the mean and the least reliability of each phase, each in its column', () => {
    const result: SimResult = {
      ...base,
      phases: { stable: { ...stable, reliability: { mean: 0.875, min: 0.5 } } },
    };
    expect(formatSimReport(result)).toMatch(/^stable\s+\d+\s+87\.50%\s+50\.00%\s/m);
  });

  it('says whether the crash was silent, and which half of a partition had how many nodes', () => {
    const crash = {
      time: 10_000,
      fraction: 0.5,
      crashed: 10,
      survivors: 10,
      firstBroadcastReliability: 1,
      healingTime: 1_500,
      healedWithinTwoShufflePeriods: true,
    };
    const partition = {
      start: 20_000,
      repairedAt: 30_000,
      sides: [7, 13] as const,
      reliabilityWithinSide: { mean: 1, min: 1 },
      healingTime: 2_000,
    };
    const silent = formatSimReport({ ...base, crash: { ...crash, silent: true }, partition });
    expect(silent).toMatch(/^crash: 10 nodes \(50\.00%\) went silent at 10\.00 s/m);
    expect(silent).toMatch(/^partition: halves of 7 and 13 nodes from 20\.00 s to 30\.00 s/m);
    const loud = formatSimReport({ ...base, crash: { ...crash, silent: false }, partition: null });
    expect(loud).toMatch(/^crash: 10 nodes \(50\.00%\) crashed at 10\.00 s/m);
  });

  it('tells a connected overlay from a split one', () => {
    expect(formatSimReport({ ...base, overlay: { ...base.overlay, connected: true } })).toMatch(
      /^overlay at [\d.]+ s: \d+ live nodes, connected,/m,
    );
    const split = { ...base.overlay, connected: false, components: 2, largestComponent: 15 };
    expect(formatSimReport({ ...base, overlay: split })).toMatch(
      /NOT connected \(2 components, largest 15\)/,
    );
  });

  it('prints each count of lost messages under its own cause', () => {
    const network = {
      ...base.network,
      droppedAtDeadNode: 11,
      droppedOnBrokenLink: 22,
      droppedByPartition: 33,
    };
    expect(formatSimReport({ ...base, network })).toMatch(
      /lost: 11 to dead nodes, 22 on broken links, 33 across the partition/,
    );
  });
});
