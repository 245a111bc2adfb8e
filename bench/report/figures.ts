import type { RunResult } from '../scenario/result.js';

/**
 * A target of the issue for meshcast: a ratio to GossipSub's figure from the same invocation, or
 * an absolute value.
 */
export type Target =
  | { readonly kind: 'ratioMax'; readonly value: number }
  | { readonly kind: 'ratioMin'; readonly value: number }
  | { readonly kind: 'absMax'; readonly value: number }
  | { readonly kind: 'absEq'; readonly value: number };

export type Unit = 'ms' | 'ratio' | 'count' | 'per-s' | 'us' | 'bytes' | 'index';

export interface Figure {
  readonly key: string;
  readonly label: string;
  readonly unit: Unit;
  readonly get: (run: RunResult) => number | null | undefined;
  readonly target?: Target;
  /** Why the target is what it is, or what the figure means, for docs/benchmarks.md. */
  readonly note?: string;
}

const half: Target = { kind: 'ratioMax', value: 0.5 };
const fifth: Target = { kind: 'ratioMax', value: 0.2 };
const rmrTarget: Target = { kind: 'absMax', value: 0.1 };
const all: Target = { kind: 'absEq', value: 1 };

/** The rows of one latency sub-run: `node0` (node 0 publishes every message) or `random`. */
function latencyFigures(publisher: 'node0' | 'random'): Figure[] {
  const of = (r: RunResult) => r.latency?.[publisher];
  const label = `latency ${publisher}:`;
  const last = (p: 'p50' | 'p90' | 'p99' | 'max', target?: Target): Figure => ({
    key: `latency.${publisher}.last.${p}`,
    label: `${label} last delivery ${p}`,
    unit: 'ms',
    get: (r) => of(r)?.last[p],
    ...(target === undefined ? {} : { target }),
  });
  return [
    last('p50', fifth),
    last('p90'),
    last('p99', fifth),
    last('max'),
    {
      key: `latency.${publisher}.first.p50`,
      label: `${label} first delivery p50`,
      unit: 'ms',
      get: (r) => of(r)?.first.p50,
    },
    {
      key: `latency.${publisher}.deliveryRatio`,
      label: `${label} delivery ratio`,
      unit: 'ratio',
      get: (r) => of(r)?.deliveryRatio,
      target: all,
    },
  ];
}

/** The rows of the table, in order. */
export const FIGURES: readonly Figure[] = [
  {
    key: 'formation.allDialsMs',
    label: 'formation: all dials done',
    unit: 'ms',
    get: (r) => r.formation?.allDialsMs,
  },
  {
    key: 'formation.firstMeshPeerMs',
    label: 'formation: every node has a mesh peer',
    unit: 'ms',
    get: (r) => r.formation?.firstMeshPeerMs,
  },
  {
    key: 'formation.formedMs',
    label: 'formation: formed',
    unit: 'ms',
    get: (r) => r.formation?.formedMs,
    target: half,
  },
  ...latencyFigures('node0'),
  ...latencyFigures('random'),
  {
    key: 'latency.rmr',
    label: 'latency: RMR',
    unit: 'ratio',
    get: (r) => r.latency?.traffic.rmr,
    target: rmrTarget,
  },
  {
    key: 'throughput.msgsPerSec',
    label: 'throughput: 1 KiB msgs fully delivered/s',
    unit: 'per-s',
    get: (r) => r.throughput?.msgsPerSec,
    target: { kind: 'ratioMin', value: 20 },
  },
  {
    key: 'throughput.deliveriesPerSec',
    label: 'throughput: deliveries/s',
    unit: 'per-s',
    get: (r) => r.throughput?.deliveriesPerSec,
  },
  {
    key: 'throughput.durationMs',
    label: 'throughput: first publish to last delivery',
    unit: 'ms',
    get: (r) => r.throughput?.durationMs,
  },
  {
    key: 'throughput.deliveryRatio',
    label: 'throughput: delivery ratio',
    unit: 'ratio',
    get: (r) => r.throughput?.deliveryRatio,
    target: all,
  },
  {
    key: 'throughput.cpuPerDeliveryUs',
    label: 'throughput: CPU per delivery',
    unit: 'us',
    get: (r) => r.throughput?.cpuPerDeliveryUs,
    target: { kind: 'ratioMax', value: 0.1 },
  },
  {
    key: 'throughput.cpuPerMessageUs',
    label: 'throughput: CPU per fully delivered msg',
    unit: 'us',
    get: (r) => r.throughput?.cpuPerMessageUs,
  },
  {
    key: 'throughput.rmr',
    label: 'throughput: RMR',
    unit: 'ratio',
    get: (r) => r.throughput?.traffic.rmr,
    target: rmrTarget,
  },
  {
    key: 'churn.survivorsReachableFromPublisher',
    label: 'churn: survivors reachable (pre-kill graph)',
    unit: 'count',
    get: (r) => r.churn?.survivorsReachableFromPublisher,
  },
  {
    key: 'churn.ratioFirst10',
    label: 'churn: delivery to survivors, first 10 msgs',
    unit: 'ratio',
    get: (r) => r.churn?.ratioFirst10,
  },
  {
    key: 'churn.ratioLast10',
    label: 'churn: delivery to survivors, last 10 msgs',
    unit: 'ratio',
    get: (r) => r.churn?.ratioLast10,
  },
  {
    key: 'churn.ratioAll',
    label: 'churn: delivery to survivors, all msgs',
    unit: 'ratio',
    get: (r) => r.churn?.ratioAll,
    target: all,
  },
  {
    key: 'churn.ofReachable.ratioAll',
    label: 'churn: delivery to reachable survivors',
    unit: 'ratio',
    get: (r) => r.churn?.ofReachable.ratioAll,
  },
  {
    key: 'churn.timeToFull100Ms',
    label: 'churn: kill to first msg of an all-100% run',
    unit: 'ms',
    get: (r) => r.churn?.timeToFull100Ms,
  },
  {
    key: 'churn.firstFullMessage',
    label: 'churn: first msg of an all-100% run (0 = first)',
    unit: 'index',
    get: (r) => r.churn?.firstFullMessage,
    target: { kind: 'absEq', value: 0 },
  },
  {
    key: 'resources.rssPerNodeAfterFormation',
    label: 'memory per node after formation (net)',
    unit: 'bytes',
    get: (r) => r.resources?.rssPerNodeAfterFormation,
    target: half,
  },
  {
    key: 'resources.peakRssPerNodeNet',
    label: 'peak memory per node (net)',
    unit: 'bytes',
    get: (r) => r.resources?.peakRssPerNodeNet,
    target: half,
  },
  {
    key: 'resources.peakRssPerNode',
    label: 'peak RSS / N (baseline included)',
    unit: 'bytes',
    get: (r) => r.resources?.peakRssPerNode,
  },
  {
    key: 'resources.peakRss',
    label: 'peak RSS, all processes',
    unit: 'bytes',
    get: (r) => r.resources?.peakRss,
  },
];

/** The rows of the scaling table (meshcast alone, N = 100 .. 1,000). */
export const SCALING_FIGURES: readonly string[] = [
  'formation.formedMs',
  'latency.node0.last.p50',
  'latency.node0.last.p99',
  'latency.random.last.p50',
  'latency.random.last.p99',
  'latency.rmr',
  'throughput.msgsPerSec',
  'throughput.deliveriesPerSec',
  'throughput.cpuPerDeliveryUs',
  'throughput.deliveryRatio',
  'resources.rssPerNodeAfterFormation',
  'resources.peakRssPerNodeNet',
  'resources.peakRss',
];

export type Verdict = 'met' | 'missed' | 'n/a';

/**
 * Judges meshcast's figure against its target; `reference` is GossipSub's from the same N.
 * undefined is a figure not measured (n/a); null one measured as never (a lost message's latency,
 * an overlay that never formed, no complete message): the worst it can be, an infinite time or a
 * zero rate, so that a contender's failure counts against it and never hides as n/a.
 */
export function judge(
  target: Target,
  value: number | null | undefined,
  reference: number | null | undefined,
): Verdict {
  if (value === undefined) return 'n/a';
  switch (target.kind) {
    case 'absMax':
      return value !== null && value <= target.value ? 'met' : 'missed';
    case 'absEq':
      return value === target.value ? 'met' : 'missed';
    case 'ratioMax': {
      if (reference === undefined) return 'n/a';
      const mine = value ?? Number.POSITIVE_INFINITY;
      const theirs = reference ?? Number.POSITIVE_INFINITY;
      if (theirs === Number.POSITIVE_INFINITY) return mine === theirs ? 'n/a' : 'met';
      if (mine === Number.POSITIVE_INFINITY) return 'missed';
      return theirs === 0 ? 'n/a' : mine / theirs <= target.value ? 'met' : 'missed';
    }
    case 'ratioMin': {
      if (reference === undefined) return 'n/a';
      const mine = value ?? 0;
      const theirs = reference ?? 0;
      if (theirs === 0) return mine > 0 ? 'met' : 'n/a';
      return mine / theirs >= target.value ? 'met' : 'missed';
    }
  }
}

export function describeTarget(target: Target): string {
  switch (target.kind) {
    case 'absMax':
      return `<= ${target.value}`;
    case 'absEq':
      return `= ${target.value}`;
    case 'ratioMax':
      return `ratio <= ${target.value}`;
    case 'ratioMin':
      return `ratio >= ${target.value}`;
  }
}
