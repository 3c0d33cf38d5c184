/** Types of scripts/test-postgres.mjs for TypeScript callers (tests, benchmarks). */
export interface TestPostgres {
  /** postgres://veil:PASSWORD@127.0.0.1:PORT/veil_test */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly logFile: string;
  /** Immediate shutdown and removal of the cluster's directory; synchronous, idempotent. */
  stop(): void;
}

export function startTestPostgres(options?: { durable?: boolean }): Promise<TestPostgres>;
