import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteCacheManifest } from './cache-manifest.ts';
import { openSqliteControlStore } from './migrations.ts';

const stamp = { files: [{ path: '/data/a.csv', size: 10, mtimeNs: '1', ctimeNs: '1', ino: '7' }], bytes: 10, digest: 'd1' };

test('a manifest that lived in veil.db moves to its own file once, copies and all', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'veil-manifest-'));
  try {
    const legacy = path.join(dir, 'veil.db');
    const control = openSqliteControlStore(legacy);
    control.db
      .prepare(`INSERT INTO columnar_cache (dataset, state, definition, stamp_digest, source_stamp, source_bytes, file, file_bytes, row_count) VALUES ('db.t', 'ready', 'def', 'd1', '{}', 10, 'db.t-1.parquet', 99, 5)`)
      .run();
    await control.close();
    const file = path.join(dir, 'columnar-manifest.db');
    const first = openSqliteCacheManifest(file, legacy);
    assert.equal(first.get('db.t')?.file, 'db.t-1.parquet');
    first.ensure('db.u', 'def', stamp);
    first.close();
    // Opened again (another process, a restart): nothing is copied over what it holds now.
    const again = openSqliteCacheManifest(file, legacy);
    assert.deepEqual(
      again.list().map((e) => [e.dataset, e.state]),
      [
        ['db.t', 'ready'],
        ['db.u', 'absent'],
      ],
    );
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
