/** What a run tells the driver about where it is, for the progress display. */
export interface Progress {
  readonly phase: string;
  readonly done: number;
  readonly total: number;
}

export type ProgressReporter = (progress: Progress) => void;
