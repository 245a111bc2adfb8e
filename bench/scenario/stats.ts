/** Summary statistics; an unreachable sample is Infinity so that losses show in the tail. */

export interface Distribution {
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  readonly mean: number | null;
}

/** Nearest-rank percentile of sorted samples; null when empty or when it lands on a loss. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  const value = sorted[rank] as number;
  return Number.isFinite(value) ? round(value) : null;
}

export function distribution(samples: readonly number[]): Distribution {
  const sorted = [...samples].sort((a, b) => a - b);
  const finite = sorted.filter(Number.isFinite);
  const mean = finite.length === 0 ? null : round(finite.reduce((s, v) => s + v, 0) / finite.length);
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: percentile(sorted, 100),
    mean,
  };
}

/** Three decimals: microseconds for millisecond figures, and stable JSON. */
export function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** part / whole to four decimals, 1 only when part is all of whole: 44,999 of 45,000 is 0.9999. */
export function ratio(part: number, whole: number): number | null {
  if (whole === 0) return null;
  const rounded = round(part / whole, 4);
  return part < whole ? Math.min(rounded, 0.9999) : rounded;
}

export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length;
}
