import { createHash } from 'node:crypto';
import type { VisibleCatalog } from '../gateway/index.ts';
import { CatalogSandbox, type CatalogSnapshot } from './catalog-sandbox.ts';

interface Entry {
  readonly sandbox: Promise<CatalogSandbox>;
  users: number;
  evicted: boolean;
}

/**
 * Catalog sandboxes shared by every session that sees the same catalog (same visible datasets and
 * columns): building one costs tens of milliseconds, and a BI tool opens many connections. A
 * sandbox holds only what its viewers may see, so sharing is by content, never by user name.
 */
export class CatalogPool {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = 16) {}

  /** Runs `work` with the sandbox for this view of the catalog. */
  async use<T>(view: VisibleCatalog, work: (sandbox: CatalogSandbox) => Promise<T>): Promise<T> {
    const snapshot: CatalogSnapshot = {
      schemas: view.schemas,
      tables: view.tables.map((t) => ({ schema: t.schema, name: t.name, description: t.description, readable: t.readable, columns: t.columns })),
    };
    const key = createHash('sha256').update(JSON.stringify(snapshot)).digest('base64url');
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { sandbox: CatalogSandbox.open(snapshot), users: 0, evicted: false };
      this.entries.set(key, entry);
      this.evict();
    } else {
      // most recently used last
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    entry.users++;
    try {
      return await work(await entry.sandbox);
    } catch (error) {
      if (!(await entry.sandbox.then(() => true, () => false))) this.entries.delete(key);
      throw error;
    } finally {
      entry.users--;
      if (entry.evicted && entry.users === 0) void this.close(entry);
    }
  }

  async closeAll(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(entries.map((e) => this.close(e)));
  }

  private evict(): void {
    while (this.entries.size > this.capacity) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(oldestKey);
      oldest.evicted = true;
      if (oldest.users === 0) void this.close(oldest);
    }
  }

  private async close(entry: Entry): Promise<void> {
    const sandbox = await entry.sandbox.catch(() => undefined);
    await sandbox?.close().catch(() => undefined);
  }
}
