import type { TrafficCounters } from '../contenders/contender.js';
import type { TrafficResult } from './result.js';
import { round } from './stats.js';

/** Scenario §6 over one measurement window: RMR = copies / deliveries - 1. */
export function trafficBetween(before: TrafficCounters, after: TrafficCounters): TrafficResult {
  const copies = after.copies - before.copies;
  const deliveries = after.deliveries - before.deliveries;
  const control: Record<string, number> = {};
  for (const [kind, count] of Object.entries(after.control))
    control[kind] = count - (before.control[kind] ?? 0);
  return { rmr: deliveries === 0 ? null : round(copies / deliveries - 1, 4), copies, deliveries, control };
}
