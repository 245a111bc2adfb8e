import type { Random } from '../core/random.js';
import type { Millis } from '../core/types.js';

/** One-way delay of a message on a link, drawn independently for every message. */
export type LatencyModel =
  | { readonly kind: 'constant'; readonly ms: Millis }
  | { readonly kind: 'uniform'; readonly min: Millis; readonly max: Millis }
  /** `min` plus an exponential tail of mean `mean - min`: mostly fast, occasionally slow. */
  | { readonly kind: 'exponential'; readonly mean: Millis; readonly min: Millis };

/**
 * Uniform 1-10 ms: from a quiet switched LAN (well under 1 ms, rounded up to the 1 ms floor) to a
 * busy Wi-Fi segment or a loaded host. The tenfold spread makes copies of one broadcast race each
 * other along different paths, which is what duplicate suppression and Plumtree's eager/lazy
 * choices must cope with; a constant latency would hide those races.
 */
export const DEFAULT_LATENCY: LatencyModel = { kind: 'uniform', min: 1, max: 10 };

export function sampleLatency(model: LatencyModel, random: Random): Millis {
  switch (model.kind) {
    case 'constant':
      return model.ms;
    case 'uniform':
      return model.min + (model.max - model.min) * random.next();
    case 'exponential':
      // 1 - next() is in (0, 1], so the logarithm is finite.
      return model.min - (model.mean - model.min) * Math.log(1 - random.next());
  }
}

/**
 * Parses "constant:MS", "uniform:MIN:MAX" or "exponential:MEAN[:MIN]" (milliseconds). Returns an
 * error message for anything else, never throws.
 */
export function parseLatency(text: string): LatencyModel | string {
  const [kind, ...rest] = text.split(':');
  // Number('') is 0: "constant:" would otherwise be a latency of 0 ms.
  if (rest.some((field) => field.trim() === '')) return 'latencies must be non-negative numbers of ms';
  const numbers = rest.map(Number);
  if (numbers.some((n) => !Number.isFinite(n) || n < 0))
    return 'latencies must be non-negative numbers of ms';
  const [first, second] = numbers as [number, number | undefined];
  switch (kind) {
    case 'constant':
      if (numbers.length === 1) return { kind, ms: first };
      break;
    case 'uniform':
      if (numbers.length === 2 && second !== undefined && second >= first) {
        return { kind, min: first, max: second };
      }
      break;
    case 'exponential': {
      const min = second ?? 0;
      if ((numbers.length === 1 || numbers.length === 2) && first >= min) return { kind, mean: first, min };
      break;
    }
  }
  return 'expected constant:MS, uniform:MIN:MAX (MIN <= MAX) or exponential:MEAN[:MIN] (MIN <= MEAN)';
}

export function formatLatency(model: LatencyModel): string {
  switch (model.kind) {
    case 'constant':
      return `constant:${model.ms}`;
    case 'uniform':
      return `uniform:${model.min}:${model.max}`;
    case 'exponential':
      return `exponential:${model.mean}:${model.min}`;
  }
}
