/** The parts of pg-cursor (a portal read in batches over the extended protocol) that the tests use. */
declare module 'pg-cursor' {
  import type { FieldDef, QueryResult, Submittable } from 'pg';

  interface CursorConfig {
    rowMode?: 'array';
    types?: { getTypeParser: (oid: number, format?: string) => (value: string) => unknown };
  }

  export default class Cursor<Row = unknown[]> implements Submittable {
    constructor(text: string, values?: unknown[] | null, config?: CursorConfig);
    submit: Submittable['submit'];
    read(rows: number, callback: (error: Error | undefined | null, rows: Row[], result: QueryResult & { fields: FieldDef[] }) => void): void;
    close(callback: (error?: Error) => void): void;
  }
}
