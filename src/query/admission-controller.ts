import { ClientDisconnectedError, QueryTimeoutError, TooManyRequestsError } from '../errors/index.ts';

/** How many queries may run and wait, overall and per user (config.yaml, docs/operations.md). */
export interface AdmissionSettings {
  /** Queries running at once, all users together. */
  readonly maxConcurrentQueries: number;
  /** Queries one user may run at once: the rest of the engine stays free for everyone else. */
  readonly maxConcurrentQueriesPerUser: number;
  /** Queries of one user waiting for a slot; one more is refused (429). */
  readonly maxQueuedQueriesPerUser: number;
  /** Queries waiting, all users together (a bound on memory, whatever the number of users). */
  readonly maxQueuedQueries: number;
}

export interface AdmissionRequest {
  readonly user: string;
  /** Epoch ms by which the query must have finished: time in the queue counts. */
  readonly deadline: number;
  /** The statement timeout, for the message when the deadline passes while waiting. */
  readonly timeoutMs: number;
  /** Aborted when the client goes away: the query leaves the queue at once. */
  readonly signal?: AbortSignal;
}

/** A running slot; release it exactly when the engine work is over (extra calls are ignored). */
export interface AdmissionTicket {
  release(): void;
}

export interface AdmissionStatus {
  readonly running: number;
  readonly queued: number;
  readonly users: Readonly<Record<string, { readonly running: number; readonly queued: number }>>;
}

interface Waiter {
  readonly user: string;
  readonly enqueuedAt: number;
  readonly grant: (ticket: AdmissionTicket) => void;
  readonly cleanup: () => void;
}

/**
 * Admission of queries to the engine, fair between users. Each user has a share (running slots
 * and a bounded queue); a freed slot goes to the waiting user who runs the fewest queries, the
 * longest-waiting first. So one user sending ten heavy queries fills their own share, not the
 * engine, and a small query of someone else starts at once. Waiting counts against the statement
 * timeout, and a client that goes away leaves the queue.
 */
export class AdmissionController {
  private running = 0;
  private queued = 0;
  private readonly runningByUser = new Map<string, number>();
  private readonly queues = new Map<string, Waiter[]>();
  /** Moving average of how long admitted queries run, to tell refused callers when to retry. */
  private averageRunMs = 1000;

  constructor(
    private readonly settings: AdmissionSettings,
    private readonly clock: () => number = Date.now,
  ) {
    for (const [key, value] of Object.entries(settings)) {
      if (!Number.isInteger(value) || value < (key.startsWith('maxQueued') ? 0 : 1)) throw new RangeError(`${key} must be a whole number (got ${String(value)})`);
    }
  }

  acquire(request: AdmissionRequest): Promise<AdmissionTicket> {
    if (request.signal?.aborted === true) return Promise.reject(new ClientDisconnectedError());
    if (this.hasSlotFor(request.user) && (this.queues.get(request.user)?.length ?? 0) === 0) return Promise.resolve(this.start(request.user));
    const queue = this.queues.get(request.user) ?? [];
    if (queue.length >= this.settings.maxQueuedQueriesPerUser || this.queued >= this.settings.maxQueuedQueries) {
      const share = `${this.settings.maxConcurrentQueriesPerUser} running and ${this.settings.maxQueuedQueriesPerUser} waiting`;
      const message =
        queue.length >= this.settings.maxQueuedQueriesPerUser
          ? `too many queries at once: each user may have ${share}; try again when one has finished`
          : 'the server is at capacity; try again shortly';
      return Promise.reject(new TooManyRequestsError(message, this.retryAfterSeconds(queue.length + 1)));
    }
    return new Promise<AdmissionTicket>((resolve, reject) => {
      const remove = (): void => {
        const list = this.queues.get(request.user);
        const index = list?.indexOf(waiter) ?? -1;
        if (list !== undefined && index >= 0) {
          list.splice(index, 1);
          this.queued--;
          if (list.length === 0) this.queues.delete(request.user);
        }
      };
      const timer = setTimeout(() => {
        remove();
        cleanup();
        reject(new QueryTimeoutError(request.timeoutMs, true));
      }, Math.max(0, request.deadline - this.clock()));
      const onAbort = (): void => {
        remove();
        cleanup();
        reject(new ClientDisconnectedError());
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = { user: request.user, enqueuedAt: this.clock(), grant: resolve, cleanup };
      request.signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      this.queues.set(request.user, queue);
      this.queued++;
    });
  }

  status(): AdmissionStatus {
    const users: Record<string, { running: number; queued: number }> = {};
    for (const [user, running] of this.runningByUser) users[user] = { running, queued: 0 };
    for (const [user, queue] of this.queues) users[user] = { running: users[user]?.running ?? 0, queued: queue.length };
    return { running: this.running, queued: this.queued, users };
  }

  private hasSlotFor(user: string): boolean {
    return this.running < this.settings.maxConcurrentQueries && (this.runningByUser.get(user) ?? 0) < this.settings.maxConcurrentQueriesPerUser;
  }

  private start(user: string): AdmissionTicket {
    this.running++;
    this.runningByUser.set(user, (this.runningByUser.get(user) ?? 0) + 1);
    const started = this.clock();
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.running--;
        const left = (this.runningByUser.get(user) ?? 1) - 1;
        if (left === 0) this.runningByUser.delete(user);
        else this.runningByUser.set(user, left);
        this.averageRunMs = 0.8 * this.averageRunMs + 0.2 * (this.clock() - started);
        this.dispatch();
      },
    };
  }

  /** Fills free slots: the waiting user running the fewest queries first, then the longest wait. */
  private dispatch(): void {
    while (this.running < this.settings.maxConcurrentQueries) {
      let next: Waiter | undefined;
      for (const [user, queue] of this.queues) {
        const head = queue[0];
        if (head === undefined || !this.hasSlotFor(user)) continue;
        const runs = this.runningByUser.get(user) ?? 0;
        const best = next === undefined ? Number.POSITIVE_INFINITY : (this.runningByUser.get(next.user) ?? 0);
        if (next === undefined || runs < best || (runs === best && head.enqueuedAt < next.enqueuedAt)) next = head;
      }
      if (next === undefined) return;
      const queue = this.queues.get(next.user)!;
      queue.shift();
      this.queued--;
      if (queue.length === 0) this.queues.delete(next.user);
      next.cleanup();
      next.grant(this.start(next.user));
    }
  }

  /** Roughly when a slot of this user's share frees up: their queue drained at the average pace. */
  private retryAfterSeconds(ahead: number): number {
    const slots = this.settings.maxConcurrentQueriesPerUser;
    return Math.min(60, Math.max(1, Math.ceil((this.averageRunMs * Math.ceil(ahead / slots)) / 1000)));
  }
}
