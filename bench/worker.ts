/**
 * A worker process of a multi-process run (`--procs`): hosts some of the nodes in a LocalHost and
 * carries out the coordinator's requests. Started by cluster/process-cluster.ts, never by hand.
 */
import { DeliveryBatcher } from './cluster/delivery-batcher.js';
import { isWorkerInit, isWorkerRequest, type WorkerMessage } from './cluster/ipc.js';
import { LocalHost } from './cluster/local-host.js';
import type { NodeHost } from './cluster/node-host.js';
import { contender } from './contenders/registry.js';

function send(message: WorkerMessage, then?: () => void): void {
  process.send?.(message, undefined, {}, () => then?.());
}

let host: LocalHost | undefined;
const batcher = new DeliveryBatcher((data) => send({ type: 'deliveries', data }));

process.on('message', (message: unknown) => {
  if (isWorkerInit(message)) {
    LocalHost.create(contender(message.contender), message.indexes, batcher.sink, message.rssSampleMs).then(
      (created) => {
        host = created;
        send({ type: 'ready' });
      },
      (error: unknown) => {
        process.stderr.write(`worker could not load its contender: ${String(error)}\n`);
        process.exit(1);
      },
    );
    return;
  }
  if (!isWorkerRequest(message) || !host) return;
  const { id, op, args } = message;
  const method = host[op] as (...a: readonly unknown[]) => Promise<unknown>;
  method.apply(host satisfies NodeHost, [...args]).then(
    (value) => {
      batcher.flush(); // deliveries before the reply, so the coordinator sees them first
      send({ type: 'reply', id, ok: true, value }, op === 'close' ? () => process.disconnect() : undefined);
    },
    (error: unknown) => send({ type: 'reply', id, ok: false, error: String(error) }),
  );
});

const seenRejections = new Set<string>();
process.on('unhandledRejection', (reason) => {
  const text = String(reason).slice(0, 200);
  if (seenRejections.has(text)) return;
  seenRejections.add(text);
  process.stderr.write(`[bench worker ${process.pid}] unhandled rejection (run continues): ${text}\n`);
});

// The coordinator going away ends the worker, whatever it was doing.
process.on('disconnect', () => process.exit(0));
