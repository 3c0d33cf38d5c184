import type { CrawlState, FileStamp } from '../catalog/index.ts';
import type { SqliteDatabase } from '../store/index.ts';

/** Crawl state in a home's control database (table crawl_state): the SQL of CrawlState for SQLite. */
export class SqliteCrawlState implements CrawlState {
  constructor(private readonly db: SqliteDatabase) {}

  async get(dataset: string): Promise<readonly FileStamp[] | undefined> {
    const row = this.db.prepare('SELECT files FROM crawl_state WHERE dataset = ?').get(dataset) as { files: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.files) as FileStamp[]);
  }

  async set(dataset: string, files: readonly FileStamp[]): Promise<void> {
    this.db
      .prepare('INSERT INTO crawl_state (dataset, files, crawled_at) VALUES (?, ?, ?) ON CONFLICT(dataset) DO UPDATE SET files = excluded.files, crawled_at = excluded.crawled_at')
      .run(dataset, JSON.stringify(files), new Date().toISOString());
  }
}
