/**
 * `npm run bench -- [flags]`: runs the broadcast scenario (shared with the GossipSub figures of the
 * issue) for each contender and N, each run in a fresh process, and prints one table with the
 * absolute figures and the ratio meshcast / libp2p. The JSON behind it goes to bench/results/.
 * `--help` lists the flags; docs/benchmarks.md explains every figure.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type BenchOptions, parseOptions } from './options.js';
import { planRuns } from './plan.js';
import { describeMachine, type MachineInfo, machineInfo } from './report/machine.js';
import { ProgressDisplay } from './report/progress-display.js';
import { comparisonRows, renderComparison, renderScaling, type TableRow } from './report/table.js';
import type { RunResult } from './scenario/result.js';
import { spawnRun } from './spawn-run.js';

/** Everything one invocation measured; the file in bench/results/ holds exactly this. */
export interface BenchReport {
  readonly version: 1;
  readonly command: string;
  readonly startedAt: string;
  readonly machine: MachineInfo;
  readonly options: BenchOptions;
  readonly runs: readonly RunResult[];
  readonly table: readonly TableRow[];
}

function summary(result: RunResult): string {
  if (!result.ok) return `FAILED: ${result.error}`;
  const parts: string[] = [];
  if (result.formation) parts.push(`formed ${result.formation.formedMs ?? '-'} ms`);
  if (result.latency) parts.push(`p50 ${result.latency.node0.last.p50 ?? '-'} ms`);
  if (result.throughput) parts.push(`${result.throughput.msgsPerSec ?? '-'} msgs/s`);
  if (result.churn) parts.push(`churn ${result.churn.ratioAll ?? '-'}`);
  return parts.join(', ');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const runs = planRuns(options);
  const display = new ProgressDisplay(process.stderr, runs.length);
  const startedAt = new Date();
  const outDir = resolve(options.out);
  mkdirSync(outDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');

  const results: RunResult[] = [];
  for (const [i, config] of runs.entries()) {
    display.startRun(
      i,
      `${config.contender} N=${config.n}${config.procs > 1 ? ` procs=${config.procs}` : ''}`,
    );
    const result = await spawnRun(config, {
      timeoutS: options.runTimeoutS,
      cpuProfDir: options.cpuProf ? join(outDir, 'profiles', stamp) : undefined,
      nodeArgs: options.nodeArgs,
      onProgress: (p) => display.update(p),
    });
    results.push(result);
    display.endRun(summary(result));
  }

  const table = comparisonRows(results, options.sizes, options.contenders);
  const report: BenchReport = {
    version: 1,
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    startedAt: startedAt.toISOString(),
    machine: machineInfo(),
    options,
    runs: results,
    table,
  };
  const kind = options.quick ? 'quick' : options.scaling ? 'scaling' : 'bench';
  const file = join(outDir, `${kind}-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);

  const out = process.stdout;
  out.write(`\nmachine: ${describeMachine(report.machine)}\n`);
  out.write(`command: ${report.command}\n\n`);
  out.write(`${renderComparison(table, options.contenders, options.markdown)}\n`);
  if (options.scaling) out.write(`\n${renderScaling(results, options.sizes, options.markdown)}\n`);
  for (const failed of results.filter((r) => !r.ok)) {
    out.write(`\nFAILED ${failed.contender} N=${failed.n}: ${failed.error}\n`);
  }
  if (options.json) out.write(`\n${JSON.stringify(report, null, 2)}\n`);
  out.write(`\nresults: ${file}\n`);
  process.exitCode = results.every((r) => r.ok) ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
