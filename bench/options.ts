import { Command, InvalidArgumentError } from 'commander';
import { CONTENDER_NAMES, DEFAULT_CONTENDERS } from './contenders/registry.js';
import { ALL_PHASES, DEFAULT_WARMUP_MESSAGES, type PhaseName } from './scenario/config.js';

/** Most nodes `--procs node` puts in processes of their own; more would swamp a 2-core machine. */
export const MAX_PROCESS_PER_NODE = 30;
/** N of the scaling run (meshcast alone, one process). */
export const SCALING_SIZES: readonly number[] = [100, 300, 1_000];
/** A large overlay takes longer to form than the scenario's 20 s allow N = 100 GossipSub. */
export const SCALING_FORMATION_TIMEOUT_MS = 60_000;
/** Default bound on one run's wall time; a run past it is killed and reported as failed. */
export const DEFAULT_RUN_TIMEOUT_S = 1_200;
/** `--quick` runs take seconds; anything past this is a hang. */
export const QUICK_RUN_TIMEOUT_S = 90;

export interface BenchOptions {
  readonly sizes: readonly number[];
  readonly contenders: readonly string[];
  /** Processes per run: a number, or 'node' for one per node. */
  readonly procs: number | 'node';
  readonly quick: boolean;
  readonly scaling: boolean;
  readonly phases: readonly PhaseName[];
  readonly seed: number;
  readonly warmupMessages?: number;
  readonly latencyMessages?: number;
  readonly tputMessages?: number;
  readonly churnMessages?: number;
  readonly runTimeoutS: number;
  readonly out: string;
  readonly cpuProf: boolean;
  /** Node and V8 flags for every process that hosts nodes, the same for every contender. */
  readonly nodeArgs: readonly string[];
  readonly json: boolean;
  readonly markdown: boolean;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function sizes(value: string): number[] {
  const out = list(value).map(positiveInt);
  if (out.some((n) => n < 2)) throw new InvalidArgumentError('every N must be at least 2');
  return out;
}

function contenders(value: string): string[] {
  const out = list(value);
  const unknown = out.filter((name) => !CONTENDER_NAMES.includes(name));
  if (unknown.length > 0)
    throw new InvalidArgumentError(`unknown: ${unknown.join(', ')} (known: ${CONTENDER_NAMES.join(', ')})`);
  return out;
}

function phases(value: string): PhaseName[] {
  const out = list(value);
  const unknown = out.filter((p) => !(ALL_PHASES as readonly string[]).includes(p));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown phase: ${unknown.join(', ')}`);
  return out as PhaseName[];
}

/** Whitespace-separated flags, each starting with "-": what `node` takes before the script. */
function nodeArgs(value: string): string[] {
  const out = value.split(/\s+/).filter((s) => s.length > 0);
  const notFlags = out.filter((arg) => !arg.startsWith('-'));
  if (notFlags.length > 0) throw new InvalidArgumentError(`not a flag: ${notFlags.join(' ')}`);
  return out;
}

function procs(value: string): number | 'node' {
  return value === 'node' ? 'node' : positiveInt(value);
}

/** Parses the command line; prints help and exits on --help or a bad flag. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  const program = new Command('bench')
    .description(
      'Broadcast benchmark: meshcast vs js-libp2p GossipSub vs plain flooding (docs/benchmarks.md)',
    )
    .option('--n <list>', 'network sizes, comma-separated', sizes)
    .option(
      '--contenders <list>',
      `contenders, comma-separated (${CONTENDER_NAMES.join(', ')}; default ${DEFAULT_CONTENDERS.join(',')})`,
      contenders,
    )
    .option(
      '--procs <k|node>',
      `processes per run: node i runs in process i % k; "node" = one per node (N <= ${MAX_PROCESS_PER_NODE})`,
      procs,
      1,
    )
    .option('--quick', 'N = 10 and few messages: checks that the harness works (CI), not the figures', false)
    .option(
      '--scaling',
      `meshcast alone in one process at N = ${SCALING_SIZES.join(', ')} (formation, latency, throughput)`,
      false,
    )
    .option(
      '--phases <list>',
      `phases after formation (${ALL_PHASES.filter((p) => p !== 'formation').join(', ')})`,
      phases,
    )
    .option('--seed <n>', 'seed of the dial plan, publishers and kills', positiveInt, 1)
    .option(
      '--warmup <m>',
      `unmeasured messages from node 0 before the latency phase (default ${DEFAULT_WARMUP_MESSAGES})`,
      positiveInt,
    )
    .option('--messages <m>', 'messages per latency sub-run (default 200)', positiveInt)
    .option(
      '--tput-messages <m>',
      'throughput messages (default 5000, 2500 at N >= 60, 1500 at N >= 100)',
      positiveInt,
    )
    .option('--churn-messages <m>', 'messages published after the kill (default 50)', positiveInt)
    .option('--run-timeout <s>', 'kill a run that takes longer (seconds)', positiveInt)
    .option('--out <dir>', 'folder for the JSON results (and profiles)', 'bench/results')
    .option('--cpu-prof', 'write a V8 CPU profile of every run process to <out>/profiles', false)
    .option(
      '--node-args <flags>',
      'Node/V8 flags for every process that hosts nodes, every contender alike (--node-args="--v8-pool-size=1")',
      nodeArgs,
      [],
    )
    .option('--json', 'also print the JSON written to <out>', false)
    .option('--markdown', 'print the table as Markdown (for docs/benchmarks.md)', false)
    .allowExcessArguments(false);
  program.parse(argv as string[], { from: 'user' });
  const o = program.opts<{
    n?: number[];
    contenders?: string[];
    procs: number | 'node';
    quick: boolean;
    scaling: boolean;
    phases?: PhaseName[];
    seed: number;
    warmup?: number;
    messages?: number;
    tputMessages?: number;
    churnMessages?: number;
    runTimeout?: number;
    out: string;
    cpuProf: boolean;
    nodeArgs: string[];
    json: boolean;
    markdown: boolean;
  }>();
  const defaultSizes = o.quick ? [10] : o.scaling ? SCALING_SIZES : [10, 30, 100];
  const defaultContenders = o.scaling ? ['meshcast'] : DEFAULT_CONTENDERS;
  const defaultPhases: PhaseName[] = o.scaling ? ['formation', 'latency', 'throughput'] : [...ALL_PHASES];
  return {
    sizes: o.n ?? defaultSizes,
    contenders: o.contenders ?? defaultContenders,
    procs: o.procs,
    quick: o.quick,
    scaling: o.scaling,
    phases: ['formation', ...(o.phases ?? defaultPhases).filter((p) => p !== 'formation')],
    seed: o.seed,
    warmupMessages: o.warmup,
    latencyMessages: o.messages,
    tputMessages: o.tputMessages,
    churnMessages: o.churnMessages,
    runTimeoutS: o.runTimeout ?? (o.quick ? QUICK_RUN_TIMEOUT_S : DEFAULT_RUN_TIMEOUT_S),
    out: o.out,
    cpuProf: o.cpuProf,
    nodeArgs: o.nodeArgs,
    json: o.json,
    markdown: o.markdown,
  };
}
