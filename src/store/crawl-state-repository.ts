import type { CrawlState, FileStamp } from '../catalog/index.ts';
import type { SqlStore } from './sql-store.ts';

/** What each crawled dataset's files looked like at the last crawl (table crawl_state). */
export class SqlCrawlState implements CrawlState {
  constructor(private readonly db: SqlStore) {}

  async get(dataset: string): Promise<readonly FileStamp[] | undefined> {
    const row = await this.db.get<{ files: string }>('SELECT files FROM crawl_state WHERE dataset = ?', [dataset]);
    return row === undefined ? undefined : (JSON.parse(row.files) as FileStamp[]);
  }

  async set(dataset: string, files: readonly FileStamp[]): Promise<void> {
    await this.db.run(
      'INSERT INTO crawl_state (dataset, files, crawled_at) VALUES (?, ?, ?) ON CONFLICT (dataset) DO UPDATE SET files = excluded.files, crawled_at = excluded.crawled_at',
      [dataset, JSON.stringify(files), new Date().toISOString()],
    );
  }
}
