import type { ScenarioConfig } from './scenario/config.js';
import type { Progress } from './scenario/progress.js';
import type { RunResult } from './scenario/result.js';

/** Messages between the driver (run.ts) and the process of one run (child.ts). */
export interface RunRequest {
  readonly type: 'run';
  readonly config: ScenarioConfig;
}

export type RunMessage =
  | { readonly type: 'progress'; readonly progress: Progress }
  | { readonly type: 'result'; readonly result: RunResult };

export function isRunRequest(value: unknown): value is RunRequest {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'run';
}

export function isRunMessage(value: unknown): value is RunMessage {
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  return type === 'progress' || type === 'result';
}
