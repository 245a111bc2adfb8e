import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../bench/run.js';

const run = promisify(execFile);
/** vitest runs from the repository root (npm test). */
const root = process.cwd();
/** Compiling src and bench takes 10-20 s on a loaded 2-core machine; the runs a few seconds each. */
const COMPILE_TIMEOUT_MS = 45_000;
const BENCH_TIMEOUT_MS = 50_000;

/**
 * `npm run bench -- --quick` for meshcast and flood (libp2p is left out to keep CI short): checks
 * that the harness runs every phase end to end and writes the JSON the docs describe. The figures
 * of a quick run mean nothing; only exact delivery is asserted.
 */
beforeAll(async () => {
  await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.bench.json'], {
    cwd: root,
    timeout: COMPILE_TIMEOUT_MS,
  });
}, COMPILE_TIMEOUT_MS);

describe('bench --quick', () => {
  const out = mkdtempSync(join(tmpdir(), 'meshcast-bench-'));
  let report: BenchReport;
  let stdout: string;

  beforeAll(async () => {
    const result = await run(
      process.execPath,
      ['dist-bench/bench/run.js', '--quick', '--contenders', 'meshcast,flood', '--out', out],
      { cwd: root, timeout: BENCH_TIMEOUT_MS },
    );
    stdout = result.stdout;
    const files = readdirSync(out).filter((f) => f.startsWith('quick-') && f.endsWith('.json'));
    expect(files).toHaveLength(1);
    report = JSON.parse(readFileSync(join(out, files[0] as string), 'utf8')) as BenchReport;
  }, BENCH_TIMEOUT_MS);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs both contenders at N = 10 without a failure', () => {
    expect(report.runs.map((r) => [r.contender, r.n, r.ok, r.error])).toEqual([
      ['meshcast', 10, true, undefined],
      ['flood', 10, true, undefined],
    ]);
  });

  it('delivers every message of the latency and throughput phases exactly once', () => {
    for (const r of report.runs) {
      expect(r.latency?.node0.deliveryRatio).toBe(1);
      expect(r.latency?.random.deliveryRatio).toBe(1);
      expect(r.throughput?.deliveryRatio).toBe(1);
      expect(r.throughput?.completeMessages).toBe(r.throughput?.messages);
      expect(r.latency?.node0.appDuplicates).toBe(0);
      expect(r.throughput?.appDuplicates).toBe(0);
    }
  });

  it('reports every figure of every phase', () => {
    for (const r of report.runs) {
      expect(r.formation?.formedMs).toBeGreaterThan(0);
      expect(r.latency?.node0.last.p50).toBeGreaterThan(0);
      expect(r.latency?.random.last.p99).toBeGreaterThan(0);
      expect(r.latency?.traffic.rmr).toBeGreaterThanOrEqual(0);
      expect(r.throughput?.msgsPerSec).toBeGreaterThan(0);
      expect(r.throughput?.cpuPerDeliveryUs).toBeGreaterThan(0);
      expect(r.throughput?.traffic.rmr).toBeGreaterThanOrEqual(0);
      expect(r.churn?.killed).toBe(5);
      expect(r.churn?.perMessage).toHaveLength(10);
      expect(r.churn?.ratioAll).toBeGreaterThanOrEqual(0);
      expect(r.churn?.ratioAll).toBeLessThanOrEqual(1);
      expect(r.resources?.peakRss).toBeGreaterThan(0);
      expect(r.resources?.rssPerNodeAfterFormation).not.toBeNull();
    }
  });

  it('writes the table it prints, with the machine and the command', () => {
    expect(report.machine.cpuCount).toBeGreaterThan(0);
    expect(report.command).toContain('--quick');
    expect(report.table.some((row) => row.figure === 'throughput.msgsPerSec' && row.n === 10)).toBe(true);
    expect(stdout).toContain('throughput: 1 KiB msgs fully delivered/s');
    expect(stdout).toContain(out);
  });
});

describe('bench --procs node --cpu-prof --node-args', () => {
  it(
    'writes the CPU profile of every worker process, not only of the run process, and passes --node-args',
    async () => {
      const out = mkdtempSync(join(tmpdir(), 'meshcast-bench-prof-'));
      try {
        await run(
          process.execPath,
          [
            'dist-bench/bench/run.js',
            '--quick',
            '--contenders',
            'meshcast',
            '--procs',
            'node',
            '--phases',
            'formation',
            '--cpu-prof',
            '--node-args=--v8-pool-size=1',
            '--out',
            out,
          ],
          { cwd: root, timeout: BENCH_TIMEOUT_MS },
        );
        const reports = readdirSync(out).filter((f) => f.endsWith('.json'));
        expect(reports).toHaveLength(1);
        const report = JSON.parse(readFileSync(join(out, reports[0] as string), 'utf8')) as BenchReport;
        expect(report.runs[0]?.nodeArgs).toContain('--v8-pool-size=1');
        expect(report.runs[0]?.nodeArgs).toContain('--cpu-prof');
        const profiles = readdirSync(join(out, 'profiles'), { recursive: true })
          .map(String)
          .filter((name) => name.endsWith('.cpuprofile'));
        // Named CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; a process may add its threads'.
        const processes = new Set(profiles.map((name) => basename(name).split('.')[3]));
        // The quick run's ten nodes, one worker process each, and the run's own process.
        expect(processes.size).toBe(11);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
    BENCH_TIMEOUT_MS,
  );
});
