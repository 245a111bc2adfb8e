/**
 * Broadcasts that overlap: N simulated nodes (default 100), 100 broadcasts from random nodes a
 * few tens of milliseconds apart, over many seeds. A broadcast arrives in a graft timeout or two
 * when the trees hold, so a delivery later than the graft timeout means a tree was cut and
 * repaired by a Graft. One seed says little (a single cut can delay a thousand deliveries), so
 * compare two versions of the core over the same range of seeds. Run:
 * `npx tsc -p tsconfig.bench.json && node dist-bench/bench/plumtree-stress.js [first seed] [last seed] [intervals ms] [nodes]`
 * (default seeds 1-30, intervals 40,60,80, 100 nodes). Prints the totals and the runs that had
 * late deliveries (seed@interval:count). src/sim/README.md cites it.
 */
import { runSimulation } from '../src/sim/run.js';

const firstSeed = Number(process.argv[2] ?? 1);
const lastSeed = Number(process.argv[3] ?? 30);
const intervals = (process.argv[4] ?? '40,60,80').split(',').map(Number);
const nodes = Number(process.argv[5] ?? 100);

let late = 0;
let slowest = 0;
let rmrSum = 0;
let ihaveMessages = 0;
let runs = 0;
const lateRuns: string[] = [];
for (const interval of intervals) {
  for (let seed = firstSeed; seed <= lastSeed; seed++) {
    const result = runSimulation({ nodes, seed, broadcasts: 100, broadcastInterval: interval });
    runs++;
    late += result.slowDeliveries;
    slowest = Math.max(slowest, result.slowestDelivery);
    rmrSum += result.rmr ?? 0;
    ihaveMessages += result.messagesSent.ihave;
    if (result.slowDeliveries > 0) lateRuns.push(`${seed}@${interval}:${result.slowDeliveries}`);
  }
}
console.log(
  `${runs} runs (${nodes} nodes, seeds ${firstSeed}-${lastSeed}, every ${intervals.join('/')} ms): ` +
    `deliveries later than a graft timeout ${late}, slowest ${slowest.toFixed(0)} ms, ` +
    `mean RMR ${(rmrSum / runs).toFixed(5)}, IHave messages ${ihaveMessages}`,
);
console.log(`runs with late deliveries: ${lateRuns.join(' ') || 'none'}`);
