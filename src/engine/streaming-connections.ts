import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

/**
 * Where a streamed statement gets its connection and where it gives it back.
 * `drained`: the result was read to its end or failed, so nothing of it is left on the connection.
 */
export interface ConnectionLender {
  borrow(): Promise<DuckDBConnection>;
  giveBack(connection: DuckDBConnection, drained: boolean): void;
}

/** A new connection for every statement, closed afterwards (the catalog sandbox). */
export function freshConnections(connect: () => Promise<DuckDBConnection>): ConnectionLender {
  return { borrow: connect, giveBack: (connection) => connection.closeSync() };
}

/**
 * Connections for streamed user queries, each with a large streaming buffer
 * (docs/performance.md, "Streamed results").
 *
 * DuckDB computes a streaming result mostly on the reader's own fetch calls once its buffer is
 * full; with its default buffer (about 1 MB) a full scan streamed to JavaScript took 1.3-1.5x a
 * COPY of it. streaming_buffer_size is a per-connection setting that cannot be changed once the
 * engine's configuration is locked (invariant 7), so these connections are opened and configured
 * before the lock and lent out one query at a time. When all are lent, a new connection with
 * DuckDB's default buffer serves (slower, never wrong).
 *
 * A lent connection comes back clean: user statements are checked SELECTs that can neither SET,
 * nor PREPARE, nor create anything on their connection; a result left half-read is ended by a
 * trivial statement before the connection is lent again, which also frees its buffer.
 */
export class StreamingConnectionPool implements ConnectionLender {
  private closed = false;
  private readonly pooled = new Set<DuckDBConnection>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly idle: DuckDBConnection[],
  ) {
    for (const connection of idle) this.pooled.add(connection);
  }

  /** Opens `size` connections with the buffer; must run before the configuration is locked. */
  static async open(instance: DuckDBInstance, size: number, bufferSize: string): Promise<StreamingConnectionPool> {
    const connections: DuckDBConnection[] = [];
    for (let i = 0; i < size; i++) {
      const connection = await instance.connect();
      await connection.run(`SET streaming_buffer_size = '${bufferSize.replaceAll("'", "''")}'`);
      connections.push(connection);
    }
    return new StreamingConnectionPool(instance, connections);
  }

  borrow(): Promise<DuckDBConnection> {
    const connection = this.idle.pop();
    return connection === undefined ? this.instance.connect() : Promise.resolve(connection);
  }

  giveBack(connection: DuckDBConnection, drained: boolean): void {
    if (!this.pooled.has(connection) || this.closed) {
      connection.closeSync();
      return;
    }
    if (drained) {
      this.idle.push(connection);
      return;
    }
    // Ends the half-read query (DuckDB cleans a connection's previous query up when the next starts).
    connection.run('SELECT 1').then(
      () => (this.closed ? connection.closeSync() : this.idle.push(connection)),
      () => {
        this.pooled.delete(connection);
        connection.closeSync();
      },
    );
  }

  close(): void {
    this.closed = true;
    for (const connection of this.idle.splice(0)) connection.closeSync();
  }
}
