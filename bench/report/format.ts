import type { Unit } from './figures.js';

const KIB = 1024;
const MIB = 1024 * 1024;

/** A figure as the table shows it; '-' for a figure that does not exist (phase not run, or lost). */
export function formatValue(value: number | null | undefined, unit: Unit): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  switch (unit) {
    case 'ms':
      return value < 10 ? value.toFixed(2) : value < 1000 ? value.toFixed(1) : value.toFixed(0);
    case 'ratio':
      return String(Number(value.toFixed(4)));
    case 'per-s':
    case 'count':
    case 'index':
      return value.toFixed(0);
    case 'us':
      return value.toFixed(1);
    case 'bytes':
      return value >= 10 * MIB ? `${(value / MIB).toFixed(1)} MiB` : `${(value / KIB).toFixed(0)} KiB`;
  }
}

export function unitSuffix(unit: Unit): string {
  switch (unit) {
    case 'ms':
      return ' (ms)';
    case 'us':
      return ' (µs)';
    case 'per-s':
      return ' (/s)';
    default:
      return '';
  }
}

/** Three significant digits: enough for a ratio against a target. */
export function formatRatio(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '-';
  if (value === 0) return '0';
  return Number(value.toPrecision(3)).toString();
}

/** Plain-text table with aligned columns: the first `left` left-aligned, the rest right-aligned. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[], left = 2): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (c < left ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  left = 2,
): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  const align = header.map((_, c) => (c < left ? '---' : '---:'));
  return [line(header), line(align), ...rows.map(line)].join('\n');
}
