import type { Progress } from '../scenario/progress.js';

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * One status line on stderr while the runs go: rewritten in place on a terminal, one line per
 * phase otherwise (CI logs).
 */
export class ProgressDisplay {
  private readonly startedAt = performance.now();
  private runLabel = '';
  private runStartedAt = 0;
  private lastPhase = '';

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly totalRuns: number,
  ) {}

  startRun(index: number, label: string): void {
    this.runLabel = `[${index + 1}/${this.totalRuns}] ${label}`;
    this.runStartedAt = performance.now();
    this.lastPhase = '';
    this.write(`${this.runLabel}: starting`, true);
  }

  update(progress: Progress): void {
    const text = `${this.runLabel}: ${progress.phase} ${progress.done}/${progress.total}`;
    const newPhase = progress.phase !== this.lastPhase;
    this.lastPhase = progress.phase;
    if (this.stream.isTTY) this.write(text, false);
    else if (newPhase) this.write(`${this.runLabel}: ${progress.phase}`, true);
  }

  endRun(summary: string): void {
    const took = clock(performance.now() - this.runStartedAt);
    this.write(
      `${this.runLabel}: ${summary} (${took}, total ${clock(performance.now() - this.startedAt)})`,
      true,
    );
  }

  private write(text: string, permanent: boolean): void {
    if (this.stream.isTTY) {
      const width = (this.stream.columns ?? 100) - 1;
      this.stream.write(`\r\x1b[K${text.slice(0, width)}${permanent ? '\n' : ''}`);
    } else if (permanent) {
      this.stream.write(`${text}\n`);
    }
  }
}
