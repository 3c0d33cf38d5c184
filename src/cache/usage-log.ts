/** How often a process records uses in the manifest after a dataset's first one. */
export const USAGE_WRITE_MS = 30_000;

/**
 * When each dataset was last read, for least-recently-used eviction. Kept in memory per query and
 * written to the manifest soon after a dataset's first use, then at most every USAGE_WRITE_MS (never
 * in a query's path: a write waits for the next turn of the event loop).
 */
export class UsageLog {
  private readonly uses = new Map<string, string>();
  private readonly writtenAt = new Map<string, number>();
  private writePending = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly write: (uses: ReadonlyMap<string, string>) => void,
    private readonly log?: (message: string, error: unknown) => void,
  ) {
    this.timer = setInterval(() => this.flush(), USAGE_WRITE_MS);
    this.timer.unref();
  }

  used(dataset: string): void {
    const now = Date.now();
    this.uses.set(dataset, new Date(now).toISOString());
    if (now - (this.writtenAt.get(dataset) ?? 0) < USAGE_WRITE_MS || this.writePending || this.closed) return;
    this.writePending = true;
    setImmediate(() => {
      this.writePending = false;
      if (!this.closed) this.flush();
    });
  }

  lastUsed(dataset: string): string | undefined {
    return this.uses.get(dataset);
  }

  forget(dataset: string): void {
    this.uses.delete(dataset);
    this.writtenAt.delete(dataset);
  }

  /** Writes every use recorded so far (before eviction decisions, and at close). */
  flush(): void {
    if (this.uses.size === 0) return;
    try {
      this.write(this.uses);
      const now = Date.now();
      for (const dataset of this.uses.keys()) this.writtenAt.set(dataset, now);
    } catch (error) {
      this.log?.('columnar cache: recording usage failed', error);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.flush();
  }
}
