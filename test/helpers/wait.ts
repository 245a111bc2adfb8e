import type { EventEmitter } from 'node:events';

/**
 * Resolves once `condition()` holds, re-checking whenever one of `wakeOn` fires; rejects with
 * `what` after `timeoutMs`. Tests wait for events this way, never for a fixed time.
 */
export function waitUntil(
  what: string,
  condition: () => boolean,
  wakeOn: readonly (readonly [EventEmitter, string])[],
  timeoutMs = 15_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      let done = false;
      try {
        done = condition();
      } catch (error) {
        cleanup();
        reject(error);
        return;
      }
      if (done) {
        cleanup();
        resolve();
      }
    };
    const cleanup = (): void => {
      clearTimeout(deadline);
      for (const [emitter, event] of wakeOn) emitter.off(event, check);
    };
    const deadline = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    for (const [emitter, event] of wakeOn) emitter.on(event, check);
    check();
  });
}
