import { performance } from 'node:perf_hooks';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { MAX_APPLICATION_PAYLOAD_BYTES } from '../codec/index.js';
import { BROADCAST_KINDS } from '../core/broadcast/strategy.js';
import { DEFAULT_PROTOCOL_OPTIONS } from '../core/protocol.js';
import { parseLatency } from '../sim/latency.js';
import { BROADCAST_INDEX_BYTES } from '../sim/metrics.js';
import { BYTES_PER_SECOND_PER_MBIT } from '../sim/network.js';
import {
  checkSimOptions,
  DEFAULT_ORIGINS,
  resolveSimOptions,
  type SimOptions,
  type SimProgress,
} from '../sim/options.js';
import { formatSimReport } from '../sim/report.js';
import { runSimulation } from '../sim/run.js';
import { nonNegative, openFraction, positive, probability, whole } from './number-flags.js';

interface SimFlags {
  nodes: number;
  seed: number;
  broadcasts: number;
  origins?: number;
  payloadBytes?: number;
  strategy?: string;
  activeView?: number;
  passiveView?: number;
  shuffleInterval?: number;
  joinInterval?: number;
  settle?: number;
  broadcastInterval?: number;
  discoveryInterval?: number;
  latency?: ReturnType<typeof latencyFlag>;
  latencyPerLink?: boolean;
  loss?: number;
  bandwidth?: number;
  connectTimeout?: number;
  idleTimeout?: number;
  crash?: number;
  silentCrash?: boolean;
  afterCrash?: number;
  afterCrashInterval?: number;
  churn?: number;
  joinRate?: number;
  leaveRate?: number;
  churnDuration?: number;
  gracefulLeave?: boolean;
  partition?: boolean;
  partitionDuration?: number;
  afterRepair?: number;
  json?: boolean;
  progress: boolean;
}

/** Runs longer than this get a progress line on a non-terminal stderr too (e.g. a CI log). */
const QUIET_RUN_MS = 3_000;
/** Progress lines on a non-terminal stderr come this far apart, so a log stays short. */
const LOG_PROGRESS_EVERY_MS = 5_000;
/** A terminal's bar is redrawn at most this often. */
const TTY_REDRAW_MS = 100;
const BAR_WIDTH = 30;

/** Adds `meshcast sim`: the discrete-event simulator over the real protocol core. */
export function registerSimCommand(program: Command): Command {
  return program
    .command('sim')
    .description(
      'simulate a large network in virtual time, driving the real protocol core: joins, broadcasts, ' +
        'and optionally churn, a partition and a crash; prints the figures as a table or JSON',
    )
    .option('--nodes <n>', 'nodes that join one by one through random contacts', whole(1, 10_000_000), 1000)
    .option('--seed <n>', 'seed of every random choice: same seed, same result', whole(0, 0xffff_ffff), 1)
    .option(
      '--broadcasts <n>',
      'broadcasts from random nodes once the joins have settled',
      whole(0, 1_000_000),
      10,
    )
    .option(
      '--origins <n>',
      `how many nodes broadcast, picked at random (default ${DEFAULT_ORIGINS}; 0: a new node each time)`,
      whole(0, 10_000_000),
    )
    .option(
      '--payload-bytes <n>',
      `bytes of each broadcast's payload (default ${BROADCAST_INDEX_BYTES}: its index); see --bandwidth`,
      whole(BROADCAST_INDEX_BYTES, MAX_APPLICATION_PAYLOAD_BYTES),
    )
    .addOption(
      new Option(
        '--strategy <name>',
        `broadcast strategy (default ${DEFAULT_PROTOCOL_OPTIONS.broadcast})`,
      ).choices(BROADCAST_KINDS),
    )
    .option(
      '--active-view <n>',
      `active view size (default ${DEFAULT_PROTOCOL_OPTIONS.activeViewSize})`,
      whole(1, 1000),
    )
    .option(
      '--passive-view <n>',
      `passive view size (default ${DEFAULT_PROTOCOL_OPTIONS.passiveViewSize})`,
      whole(1, 10_000),
    )
    .option(
      '--shuffle-interval <ms>',
      `mean time between shuffles (default ${DEFAULT_PROTOCOL_OPTIONS.shuffleInterval})`,
      positive,
    )
    .option('--join-interval <ms>', 'virtual time between two joins (default 2)', nonNegative)
    .option(
      '--settle <ms>',
      'virtual time between the last join and the first broadcast (default 20000)',
      nonNegative,
    )
    .option(
      '--broadcast-interval <ms>',
      'spacing of broadcasts, outside crash and repair (default 1000); each is measured until the next, so copies after that count as late',
      positive,
    )
    .option(
      '--discovery-interval <ms>',
      'each node hears a random discovery beacon this often (default 0: off)',
      nonNegative,
    )
    .option(
      '--latency <spec>',
      'link latency: constant:MS, uniform:MIN:MAX or exponential:MEAN[:MIN] (default uniform:1:10)',
      latencyFlag,
    )
    .option(
      '--latency-per-link',
      'draw one latency per pair of nodes (a stable path) instead of one per message',
    )
    .option(
      '--loss <p>',
      'probability that a message breaks its link, as TCP gives up on it (default 0)',
      probability,
    )
    .option(
      '--bandwidth <mbit>',
      "Mbit/s of each node's network interface, each way: messages queue to leave and to come in (default: no limit)",
      positive,
    )
    .option(
      '--connect-timeout <ms>',
      'a dial to a silent or cut-off node fails after this (default 5000)',
      positive,
    )
    .option('--idle-timeout <ms>', 'a silent link is declared dead after this (default 5000)', positive)
    .option(
      '--crash <fraction>',
      'crash this fraction of the nodes at once (after the other phases)',
      openFraction,
    )
    .option('--silent-crash', 'crashed nodes go silent instead of closing their sockets')
    .option(
      '--after-crash <n>',
      'broadcasts after the crash: at once, then every shuffle period (default 5)',
      whole(0, 10_000),
    )
    .option(
      '--after-crash-interval <ms>',
      'spacing of those broadcasts (default: the shuffle interval)',
      positive,
    )
    .option('--churn <rate>', 'continuous churn: joins and departures per second', nonNegative)
    .option('--join-rate <rate>', 'joins per second during churn (default: --churn)', nonNegative)
    .option('--leave-rate <rate>', 'departures per second during churn (default: --churn)', nonNegative)
    .option('--churn-duration <ms>', 'length of the churn phase (default 60000)', positive)
    .option('--graceful-leave', 'departing nodes say goodbye instead of crashing')
    .option('--partition', 'split the nodes into two halves, then repair the cut')
    .option('--partition-duration <ms>', 'how long the halves stay apart (default 30000)', positive)
    .option(
      '--after-repair <n>',
      'broadcasts after the repair: at once, then every shuffle period (default 5)',
      whole(0, 10_000),
    )
    .option('--json', 'print one JSON object with every figure instead of the table')
    .option('--no-progress', 'no progress bar on stderr')
    .action((flags: SimFlags) => {
      const options = simOptionsFromFlags(flags);
      const problems = [...flagsWithoutTheirScenario(flags), ...checkSimOptions(resolveSimOptions(options))];
      if (problems.length > 0) {
        process.stderr.write(`meshcast sim: ${problems.join('; ')}\n`);
        process.exitCode = 1;
        return;
      }
      const progress = flags.progress ? progressReporter(process.stderr) : undefined;
      const result = runSimulation({ ...options, onProgress: progress?.update });
      progress?.done();
      process.stdout.write(flags.json ? `${JSON.stringify(result)}\n` : formatSimReport(result));
    });
}

/**
 * A scenario's own flags given without the flag that asks for the scenario: ignored, they would
 * leave the user believing in a run that did not happen.
 */
function flagsWithoutTheirScenario(flags: SimFlags): string[] {
  const churning = flags.churn !== undefined || flags.joinRate !== undefined || flags.leaveRate !== undefined;
  const needs: [given: boolean, flag: string, scenario: string, asked: boolean][] = [
    [flags.silentCrash !== undefined, '--silent-crash', '--crash', flags.crash !== undefined],
    [flags.afterCrash !== undefined, '--after-crash', '--crash', flags.crash !== undefined],
    [flags.afterCrashInterval !== undefined, '--after-crash-interval', '--crash', flags.crash !== undefined],
    [flags.partitionDuration !== undefined, '--partition-duration', '--partition', flags.partition === true],
    [flags.afterRepair !== undefined, '--after-repair', '--partition', flags.partition === true],
    [flags.churnDuration !== undefined, '--churn-duration', '--churn, --join-rate or --leave-rate', churning],
    [flags.gracefulLeave !== undefined, '--graceful-leave', '--churn, --join-rate or --leave-rate', churning],
  ];
  return needs
    .filter(([given, , , asked]) => given && !asked)
    .map(([, flag, scenario]) => `${flag} needs ${scenario}`);
}

export function simOptionsFromFlags(flags: SimFlags): SimOptions {
  const protocol: Record<string, unknown> = {};
  if (flags.strategy !== undefined) protocol.broadcast = flags.strategy;
  if (flags.activeView !== undefined) protocol.activeViewSize = flags.activeView;
  if (flags.passiveView !== undefined) protocol.passiveViewSize = flags.passiveView;
  if (flags.shuffleInterval !== undefined) protocol.shuffleInterval = flags.shuffleInterval;
  const network: Record<string, unknown> = {};
  if (flags.latency !== undefined) network.latency = flags.latency;
  if (flags.latencyPerLink) network.latencyPerLink = true;
  if (flags.loss !== undefined) network.loss = flags.loss;
  if (flags.bandwidth !== undefined) network.bandwidth = flags.bandwidth * BYTES_PER_SECOND_PER_MBIT;
  if (flags.connectTimeout !== undefined) network.connectTimeout = flags.connectTimeout;
  if (flags.idleTimeout !== undefined) network.idleTimeout = flags.idleTimeout;
  const churning = flags.churn !== undefined || flags.joinRate !== undefined || flags.leaveRate !== undefined;
  return {
    nodes: flags.nodes,
    seed: flags.seed,
    broadcasts: flags.broadcasts,
    origins: flags.origins,
    payloadBytes: flags.payloadBytes,
    // The core checks option ranges itself (see checkSimOptions).
    protocol: protocol as SimOptions['protocol'],
    network: network as SimOptions['network'],
    joinInterval: flags.joinInterval,
    settleTime: flags.settle,
    broadcastInterval: flags.broadcastInterval,
    discoveryInterval: flags.discoveryInterval,
    crash:
      flags.crash === undefined
        ? undefined
        : {
            fraction: flags.crash,
            silent: flags.silentCrash ?? false,
            broadcasts: flags.afterCrash,
            interval: flags.afterCrashInterval,
          },
    churn: churning
      ? {
          joinRate: flags.joinRate ?? flags.churn ?? 0,
          leaveRate: flags.leaveRate ?? flags.churn ?? 0,
          duration: flags.churnDuration,
          graceful: flags.gracefulLeave ?? false,
        }
      : undefined,
    partition: flags.partition
      ? { duration: flags.partitionDuration, broadcasts: flags.afterRepair }
      : undefined,
  };
}

/**
 * Progress on stderr, never stdout: a redrawn bar on a terminal; on anything else nothing for
 * the first few seconds, then a line every few seconds. Reading the wall clock here changes nothing
 * in the simulation, which only calls `update`.
 */
export function progressReporter(stream: NodeJS.WriteStream): {
  update: (p: SimProgress) => void;
  done: () => void;
} {
  const tty = stream.isTTY === true;
  const started = performance.now();
  let last = tty ? 0 : started + QUIET_RUN_MS - LOG_PROGRESS_EVERY_MS;
  let drawn = false;
  return {
    update(progress) {
      const now = performance.now();
      if (now - last < (tty ? TTY_REDRAW_MS : LOG_PROGRESS_EVERY_MS)) return;
      last = now;
      const fraction = progress.endTime > 0 ? Math.min(1, progress.virtualTime / progress.endTime) : 1;
      const filled = Math.round(fraction * BAR_WIDTH);
      const text =
        `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ` +
        `virtual ${(progress.virtualTime / 1000).toFixed(1)}/${(progress.endTime / 1000).toFixed(1)} s, ` +
        `${progress.liveNodes.toLocaleString('en-US')} live, ${progress.events.toLocaleString('en-US')} events, ` +
        `${((now - started) / 1000).toFixed(0)} s wall`;
      // A line wider than the terminal wraps, and \r then redraws only its last row.
      stream.write(tty ? `\r${text.slice(0, (stream.columns ?? 80) - 1)}\u001b[K` : `${text}\n`);
      drawn = true;
    },
    done() {
      if (tty && drawn) stream.write('\r\u001b[K');
    },
  };
}

function latencyFlag(text: string) {
  const model = parseLatency(text);
  if (typeof model === 'string') throw new InvalidArgumentError(model);
  return model;
}
