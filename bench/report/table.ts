import type { RunResult } from '../scenario/result.js';
import { describeTarget, FIGURES, type Figure, judge, SCALING_FIGURES, type Verdict } from './figures.js';
import { formatRatio, formatValue, markdownTable, textTable, unitSuffix } from './format.js';

export interface TableRow {
  readonly n: number;
  readonly figure: string;
  readonly values: Record<string, number | null>;
  /** meshcast / libp2p, when both ran. */
  readonly ratio: number | null;
  readonly target: string | null;
  readonly verdict: Verdict | null;
}

const MESHCAST = 'meshcast';
const LIBP2P = 'libp2p';

/** undefined: not measured (no such run or phase); null: measured as never (see judge). */
function figureValue(figure: Figure, run: RunResult | undefined): number | null | undefined {
  const value = run ? figure.get(run) : undefined;
  if (value === undefined) return undefined;
  return value === null || !Number.isFinite(value) ? null : value;
}

/** The comparison table: one row per figure and N, one column per contender. */
export function comparisonRows(
  runs: readonly RunResult[],
  sizes: readonly number[],
  contenders: readonly string[],
): TableRow[] {
  const rows: TableRow[] = [];
  for (const n of sizes) {
    const byContender = new Map(runs.filter((r) => r.n === n).map((r) => [r.contender, r] as const));
    for (const figure of FIGURES) {
      const measured = new Map(contenders.map((c) => [c, figureValue(figure, byContender.get(c))] as const));
      if ([...measured.values()].every((v) => v === undefined)) continue;
      const values: Record<string, number | null> = {};
      for (const [c, value] of measured) values[c] = value ?? null;
      const mine = measured.get(MESHCAST);
      const theirs = measured.get(LIBP2P);
      const ratio =
        typeof mine === 'number' && typeof theirs === 'number' && theirs !== 0 ? mine / theirs : null;
      const judged = figure.target && contenders.includes(MESHCAST);
      rows.push({
        n,
        figure: figure.key,
        values,
        ratio,
        target: judged && figure.target ? describeTarget(figure.target) : null,
        verdict: judged && figure.target ? judge(figure.target, mine, theirs) : null,
      });
    }
  }
  return rows;
}

function figureByKey(key: string): Figure {
  const figure = FIGURES.find((f) => f.key === key);
  if (!figure) throw new Error(`no figure ${key}`);
  return figure;
}

export function renderComparison(
  rows: readonly TableRow[],
  contenders: readonly string[],
  markdown: boolean,
): string {
  const withRatio = contenders.includes(MESHCAST) && contenders.includes(LIBP2P);
  const header = [
    'N',
    'figure',
    ...contenders,
    ...(withRatio ? ['meshcast/libp2p'] : []),
    'target',
    'verdict',
  ];
  const cells = rows.map((row) => {
    const figure = figureByKey(row.figure);
    return [
      String(row.n),
      `${figure.label}${unitSuffix(figure.unit)}`,
      ...contenders.map((c) => formatValue(row.values[c], figure.unit)),
      ...(withRatio ? [formatRatio(row.ratio)] : []),
      row.target ?? '',
      row.verdict === 'missed' ? 'MISSED' : (row.verdict ?? ''),
    ];
  });
  return markdown ? markdownTable(header, cells) : textTable(header, cells);
}

/** The scaling table: figures down, N across (one contender). */
export function renderScaling(
  runs: readonly RunResult[],
  sizes: readonly number[],
  markdown: boolean,
): string {
  const header = ['figure', ...sizes.map((n) => `N = ${n}`)];
  const cells = SCALING_FIGURES.map((key) => {
    const figure = figureByKey(key);
    return [
      `${figure.label}${unitSuffix(figure.unit)}`,
      ...sizes.map((n) =>
        formatValue(
          figureValue(
            figure,
            runs.find((r) => r.n === n),
          ),
          figure.unit,
        ),
      ),
    ];
  });
  return markdown ? markdownTable(header, cells, 1) : textTable(header, cells, 1);
}
