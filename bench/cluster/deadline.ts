/**
 * Waits for `work` to settle or for `ms` to pass, whichever comes first, and never rejects: for
 * the harness's steps that must not hold a run up (joins, closing nodes, workers exiting). The
 * timer is cleared as soon as the work settles, so it keeps no process alive.
 */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let deadline: NodeJS.Timeout | undefined;
  await Promise.race([
    work.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      deadline = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(deadline);
}
