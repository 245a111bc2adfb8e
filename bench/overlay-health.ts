/**
 * How an overlay of N meshcast nodes in this one process forms and holds, with no broadcast at all:
 * the benchmark's dial plan (node i > 0 dials 3 random earlier nodes, all at once), then every 2 s
 * the CPU this process used, the active-view sizes, links opened and closed, handshake failures,
 * refusals by reason and the membership counters that show churn. Run:
 * `npx tsc -p tsconfig.bench.json && scripts/in-loopback-netns.sh node dist-bench/bench/overlay-health.js [N] [seconds]`
 * (default 1,000 nodes for 130 s). docs/benchmarks.md (Scaling) cites it.
 */
import { performance } from 'node:perf_hooks';
import { seededRandom } from '../src/core/random.js';
import { createNode, type MeshNode } from '../src/node/node.js';
import { freePort } from './contenders/free-port.js';
import { PER_HOST_LIMIT } from './contenders/meshcast.js';
import { dialPlan } from './scenario/formation.js';

const REPORT_EVERY_MS = 2_000;
/** Nodes below this many active peers are counted: the benchmark's mesh target. */
const MESH_TARGET = 4;
const MEMBERSHIP_COUNTERS = [
  'neighborRequestsSent',
  'neighborRequestTimeouts',
  'evictions',
  'failures',
  'shufflesStarted',
] as const;

const n = Number(process.argv[2] ?? 1_000);
const seconds = Number(process.argv[3] ?? 130);

const addresses: Record<number, string> = {};
for (let i = 0; i < n; i++) addresses[i] = `127.0.0.1:${await freePort()}`;
const plan = dialPlan(addresses, n, 3, seededRandom(1));
const nodes: MeshNode[] = [];
for (let i = 0; i < n; i++) {
  const port = Number((addresses[i] ?? '').split(':')[1]);
  nodes.push(
    createNode({
      host: '127.0.0.1',
      port,
      discovery: false,
      bootstrap: plan[i] ?? [],
      transport: { maxPendingHandshakesPerHost: PER_HOST_LIMIT, maxLinksPerHost: PER_HOST_LIMIT },
    }),
  );
}

const started = performance.now();
await Promise.all(nodes.map((node) => node.start()));
let lastCpu = process.cpuUsage();
let lastAt = performance.now();

function report(): void {
  const cpu = process.cpuUsage(lastCpu);
  const now = performance.now();
  const cpuPercent = Math.round(((cpu.user + cpu.system) / 1_000 / (now - lastAt)) * 100);
  lastCpu = process.cpuUsage();
  lastAt = now;
  const views: Record<number, number> = {};
  const refused: Record<string, number> = {};
  const membership: Record<string, number> = {};
  let belowTarget = 0;
  let opened = 0;
  let closed = 0;
  let handshakeFailures = 0;
  for (const node of nodes) {
    const active = node.peers().active.length;
    views[active] = (views[active] ?? 0) + 1;
    if (active < MESH_TARGET) belowTarget++;
    const { transport, protocol } = node.stats();
    opened += transport.linksOpened;
    closed += transport.linksClosed;
    handshakeFailures += transport.handshakeFailures;
    for (const [reason, count] of Object.entries(transport.rejections)) {
      if (count > 0) refused[reason] = (refused[reason] ?? 0) + count;
    }
    for (const key of MEMBERSHIP_COUNTERS) membership[key] = (membership[key] ?? 0) + protocol[key];
  }
  const at = Math.round((now - started) / 1_000);
  console.log(
    `${at} s  cpu ${cpuPercent}%  below ${MESH_TARGET}: ${belowTarget}  views ${JSON.stringify(views)}`,
    `links opened ${opened} closed ${closed} (both ends count)  handshake failures ${handshakeFailures}`,
    `refused ${JSON.stringify(refused)}  ${JSON.stringify(membership)}`,
  );
}

const reporter = setInterval(report, REPORT_EVERY_MS);
setTimeout(async () => {
  clearInterval(reporter);
  report();
  await Promise.all(nodes.map((node) => node.stop({ goodbye: false })));
  process.exit(0);
}, seconds * 1_000);
