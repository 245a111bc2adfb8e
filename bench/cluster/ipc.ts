import type { MessagePhase } from '../scenario/payload.js';
import type { NodeHost } from './node-host.js';

/** The operations a worker process carries out for the coordinator: NodeHost's, by name. */
export type HostOp = keyof NodeHost;

/** First message to a worker: which nodes it hosts and as which contender. */
export interface WorkerInit {
  readonly type: 'init';
  readonly contender: string;
  readonly indexes: readonly number[];
  readonly rssSampleMs: number;
}

export interface WorkerRequest {
  readonly type: 'request';
  readonly id: number;
  readonly op: HostOp;
  readonly args: readonly unknown[];
}

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'reply'; readonly id: number; readonly ok: false; readonly error: string }
  /** Deliveries since the last batch, five numbers each: node, phase, index, publishedAt, deliveredAt. */
  | { readonly type: 'deliveries'; readonly data: Float64Array };

export const DELIVERY_FIELDS = 5;

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return typeof value === 'object' && value !== null && 'type' in value;
}

export function isWorkerInit(value: unknown): value is WorkerInit {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'init';
}

export function isWorkerRequest(value: unknown): value is WorkerRequest {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'request';
}

export type { MessagePhase };
