/**
 * `node dist-bench/bench/render.js bench/results/FILE.json [--markdown]`: prints the table of a
 * saved run again, e.g. as Markdown for docs/benchmarks.md.
 */
import { readFileSync } from 'node:fs';
import { describeMachine } from './report/machine.js';
import { renderComparison, renderScaling } from './report/table.js';
import type { BenchReport } from './run.js';

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    process.stderr.write('usage: render FILE.json [--markdown]\n');
    process.exitCode = 2;
    return;
  }
  const markdown = args.includes('--markdown');
  const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
  const out = process.stdout;
  out.write(
    `machine: ${describeMachine(report.machine)}\ncommand: ${report.command}\nstarted: ${report.startedAt}\n\n`,
  );
  out.write(`${renderComparison(report.table, report.options.contenders, markdown)}\n`);
  if (report.options.scaling) out.write(`\n${renderScaling(report.runs, report.options.sizes, markdown)}\n`);
}

main();
