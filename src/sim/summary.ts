import type { Millis } from '../core/types.js';
import { type BroadcastResult, MESSAGE_TYPES, type MessageCounts } from './metrics.js';

export interface MeanMin {
  readonly mean: number | null;
  readonly min: number | null;
}

export interface MeanMax {
  readonly mean: number | null;
  readonly max: number | null;
}

/** The figures of a group of broadcasts (one scenario phase). Null where there were none. */
export interface PhaseSummary {
  readonly broadcasts: number;
  readonly reliability: MeanMin;
  /** Broadcasts that reached every node they should have. */
  readonly complete: number;
  /** RMR; `afterFirst` leaves out the first broadcast, which may still be shaping a tree. */
  readonly rmr: MeanMax & { readonly afterFirst: number | null };
  /**
   * Last delivery hop; `repeated` (max) counts only broadcasts whose origin broadcast before (with
   * Plumtree, those that follow the origin's own tree), null when there were none.
   */
  readonly ldh: MeanMax & { readonly repeated: number | null };
  /** Time to the last delivery, ms. */
  readonly latency: MeanMax;
  /** Non-payload messages per broadcast window, by type (mean). */
  readonly controlPerBroadcast: Partial<MessageCounts>;
  readonly controlTotalPerBroadcast: number | null;
  readonly duplicateDeliveries: number;
}

export function summarise(results: readonly BroadcastResult[]): PhaseSummary {
  const rmrs = results.map((r) => r.rmr).filter((r): r is number => r !== null);
  const rmrsAfterFirst = results
    .slice(1)
    .map((r) => r.rmr)
    .filter((r): r is number => r !== null);
  const repeated = results.filter((r) => !r.originFirst);
  const controlPerBroadcast: Partial<MessageCounts> = {};
  for (const type of MESSAGE_TYPES) {
    if (type === 'gossip') continue;
    const value = mean(results.map((r) => r.control[type] ?? 0));
    if (value !== null) controlPerBroadcast[type] = round(value) as number;
  }
  return {
    broadcasts: results.length,
    reliability: {
      mean: round(mean(results.map((r) => r.reliability))),
      min: min(results.map((r) => r.reliability)),
    },
    complete: results.filter((r) => r.delivered === r.live).length,
    rmr: { mean: round(mean(rmrs)), max: round(max(rmrs)), afterFirst: round(mean(rmrsAfterFirst)) },
    ldh: {
      mean: round(mean(results.map((r) => r.ldh))),
      max: max(results.map((r) => r.ldh)),
      repeated: max(repeated.map((r) => r.ldh)),
    },
    latency: {
      mean: round(mean(results.map((r) => r.latency))),
      max: round(max(results.map((r) => r.latency))),
    },
    controlPerBroadcast,
    controlTotalPerBroadcast: round(mean(results.map((r) => r.controlTotal))),
    duplicateDeliveries: results.reduce((sum, r) => sum + r.duplicateDeliveries, 0),
  };
}

/**
 * Virtual time from a disruption until broadcasts reach every live node again: to the last delivery
 * of the first broadcast that is complete and followed only by complete ones. Null if the last one
 * is still incomplete. Resolution is the spacing of the broadcasts.
 */
export function healingTime(disruptedAt: Millis, results: readonly BroadcastResult[]): Millis | null {
  let healed: BroadcastResult | undefined;
  for (const result of results) {
    if (result.delivered < result.live) healed = undefined;
    else healed ??= result;
  }
  return healed === undefined ? null : round(healed.time + healed.latency - disruptedAt);
}

function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

function min(values: readonly number[]): number | null {
  return values.length === 0 ? null : Math.min(...values);
}

function max(values: readonly number[]): number | null {
  return values.length === 0 ? null : Math.max(...values);
}

/** Six significant decimals: enough for any figure here, and stable JSON. */
export function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1e6) / 1e6;
}
