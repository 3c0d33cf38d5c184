/** Background work of the columnar cache: verifying a copy, or building one (which includes verifying). */
export type JobKind = 'verify' | 'build';

interface Job {
  readonly dataset: string;
  kind: JobKind;
  /** A build even when a valid copy exists, and whatever an earlier refusal said (`veil cache rebuild`). */
  force: boolean;
  readonly done: Promise<void>;
  readonly resolve: () => void;
}

/**
 * One job at a time, first in first out, at most one waiting job per dataset (asking again joins
 * it; a build asked while a verification waits turns it into a build). Jobs never throw out of the
 * queue: `run` records failures itself.
 */
export class JobQueue {
  private readonly waiting: Job[] = [];
  private running: { readonly job: Job; readonly abort: AbortController } | undefined;
  private closed = false;

  constructor(private readonly run: (dataset: string, kind: JobKind, force: boolean, signal: AbortSignal) => Promise<void>) {}

  /** Settles when the job (or the one it joined) has run, or was cancelled. */
  add(dataset: string, kind: JobKind, force = false): Promise<void> {
    if (this.closed) return Promise.resolve();
    const queued = this.waiting.find((j) => j.dataset === dataset);
    if (queued !== undefined) {
      if (kind === 'build') queued.kind = 'build';
      queued.force ||= force;
      return queued.done;
    }
    const running = this.running?.job;
    // The same work already under way covers this request, unless it must start afresh.
    if (running !== undefined && running.dataset === dataset && !force && (running.kind === 'build' || kind === 'verify')) return running.done;
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    this.waiting.push({ dataset, kind, force, done, resolve });
    this.pump();
    return done;
  }

  has(dataset: string): boolean {
    return this.waiting.some((j) => j.dataset === dataset);
  }

  runningDataset(): string | undefined {
    return this.running?.job.dataset;
  }

  /** Forgets waiting work for a dataset and stops its running job. */
  cancel(dataset: string): void {
    for (const job of this.waiting.filter((j) => j.dataset === dataset)) {
      this.waiting.splice(this.waiting.indexOf(job), 1);
      job.resolve();
    }
    if (this.running?.job.dataset === dataset) this.running.abort.abort();
  }

  /** Stops the running job, drops waiting ones, and settles once nothing runs. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.resolve();
    const running = this.running;
    if (running !== undefined) {
      running.abort.abort();
      await running.job.done;
    }
  }

  private pump(): void {
    if (this.running !== undefined || this.closed) return;
    const job = this.waiting.shift();
    if (job === undefined) return;
    const abort = new AbortController();
    this.running = { job, abort };
    // Started on a later turn: a query that asked for the job goes on first.
    setImmediate(() => {
      this.run(job.dataset, job.kind, job.force, abort.signal)
        .catch(() => undefined)
        .finally(() => {
          this.running = undefined;
          job.resolve();
          this.pump();
        });
    });
  }
}
