import { createHash } from 'node:crypto';
import type { SourceRead } from '../catalog/index.ts';
import type { DuckDbEngine, ResultColumn } from '../engine/index.ts';
import { stampSource, type SourceStamp } from './source-stamp.ts';

/** What the cache needs to know of a dataset's source: its stamp now, its definition, its columns. */
export class SourceInspector {
  private readonly definitions = new Map<string, string>();
  private readonly columns = new Map<string, Promise<ResultColumn[]>>();

  constructor(
    private readonly engine: DuckDbEngine,
    /** S3 datasets: the ETags of the objects the local mirror holds. */
    private readonly remoteEtags: ((location: string) => Readonly<Record<string, string>> | undefined) | undefined,
  ) {}

  /** Every file the source reads, stat'ed now (and the ETags for S3); throws when they cannot be read. */
  stamp(source: SourceRead): SourceStamp {
    const etags = /^s3:\/\//i.test(source.location) ? this.remoteEtags?.(source.location) : undefined;
    return stampSource(source.readPath, etags);
  }

  /** A hash of the read call the view uses: types, dialect and path are part of what is copied. */
  definition(source: SourceRead): string {
    let definition = this.definitions.get(source.sql);
    if (definition === undefined) {
      definition = createHash('sha256').update(`${source.format}\u0000${source.sql}`).digest('hex');
      this.definitions.set(source.sql, definition);
    }
    return definition;
  }

  /** The source view's columns (names and types), described once per definition. */
  columnsOf(source: SourceRead): Promise<ResultColumn[]> {
    let columns = this.columns.get(source.sql);
    if (columns === undefined) {
      columns = this.engine.describeQuery(`SELECT * FROM ${source.sql}`);
      columns.catch(() => this.columns.delete(source.sql));
      this.columns.set(source.sql, columns);
    }
    return columns;
  }
}
