/**
 * The process of one run: one contender at one N. The driver (run.ts) starts it, sends the
 * scenario, and gets progress and the result back; every contender thus starts from a fresh heap.
 */
import { settleWithin } from './cluster/deadline.js';
import { LocalHost } from './cluster/local-host.js';
import type { NodeHost } from './cluster/node-host.js';
import { ProcessCluster } from './cluster/process-cluster.js';
import { contender } from './contenders/registry.js';
import type { RunMessage } from './run-protocol.js';
import { isRunRequest } from './run-protocol.js';
import type { ScenarioConfig } from './scenario/config.js';
import type { Progress } from './scenario/progress.js';
import { runScenario } from './scenario/run-scenario.js';
import { DeliveryTracker } from './scenario/tracker.js';

/** Progress goes to the driver at most this often; finer would only cost CPU in the measured process. */
const PROGRESS_INTERVAL_MS = 200;
/** Stopping the nodes after the run must not hold the result back for long. */
const CLOSE_TIMEOUT_MS = 10_000;

function send(message: RunMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

function throttledProgress(): (progress: Progress) => void {
  let lastPhase = '';
  let lastAt = 0;
  return (progress) => {
    const t = performance.now();
    if (progress.phase === lastPhase && t - lastAt < PROGRESS_INTERVAL_MS && progress.done < progress.total)
      return;
    lastPhase = progress.phase;
    lastAt = t;
    void send({ type: 'progress', progress });
  };
}

/** The run's nodes, for the exit below. */
let running: (NodeHost & { abort?: () => void }) | undefined;

/**
 * The driver is gone (interrupted, crashed): nobody waits for the result, and its deadline no
 * longer holds, so the run and its workers stop instead of loading the machine for minutes.
 * Found by a review.
 */
process.on('disconnect', () => {
  running?.abort?.();
  process.exit(1);
});

async function run(config: ScenarioConfig): Promise<void> {
  const chosen = contender(config.contender);
  const tracker = new DeliveryTracker(config.n);
  const host: NodeHost & { abort?: () => void } =
    config.procs > 1
      ? new ProcessCluster(config.contender, config.n, config.procs, config.rssSampleMs, tracker.sink)
      : await LocalHost.create(
          chosen,
          Array.from({ length: config.n }, (_, i) => i),
          tracker.sink,
          config.rssSampleMs,
        );
  running = host;
  const result = {
    ...(await runScenario(config, chosen.description, host, tracker, throttledProgress())),
    nodeArgs: process.execArgv,
  };
  await settleWithin(host.close(), CLOSE_TIMEOUT_MS);
  host.abort?.();
  await send({ type: 'result', result });
  process.exit(0);
}

/**
 * A contender's stray rejection (libp2p's streams after a kill, say) must not end the run: it is
 * logged once per kind and the run goes on, as a long-lived application would.
 */
const seenRejections = new Set<string>();
process.on('unhandledRejection', (reason) => {
  const text = String(reason).slice(0, 200);
  if (seenRejections.has(text)) return;
  seenRejections.add(text);
  process.stderr.write(`[bench ${process.pid}] unhandled rejection (run continues): ${text}\n`);
});

process.once('message', (message: unknown) => {
  if (isRunRequest(message)) void run(message.config);
});
