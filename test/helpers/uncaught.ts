/**
 * Takes the process's uncaught exceptions (from the test runner's own handlers) until `restore()`,
 * for tests of code that reports an application's error the way Node does: by throwing it on its
 * own. Test files run in forked processes, so this touches no other file's tests.
 */
export function captureUncaught(): { readonly errors: unknown[]; restore(): void } {
  const runners = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  const errors: unknown[] = [];
  const capture = (error: unknown): void => {
    errors.push(error);
  };
  process.on('uncaughtException', capture);
  return {
    errors,
    restore() {
      process.off('uncaughtException', capture);
      for (const listener of runners) process.on('uncaughtException', listener);
    },
  };
}
